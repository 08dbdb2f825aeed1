// Registry records shared by the generated registration files (build-emu.sh) and the runtime.
#pragma once
#include <stddef.h>

#include <type_traits>
#include <utility>

struct polyv_emu_kernel_def {
    const char* name;
    void (*fn)();
    void (*tramp)(void (*)(), void**);  // unpacks kernelParams into the typed arguments and calls fn
    int nparams;
    const size_t* param_sizes;
    int max_threads;  // __launch_bounds__ (1024 when none)
};

struct polyv_emu_tu {
    const polyv_emu_kernel_def* defs;
    int n;
};

struct polyv_emu_smem_def {
    const char* name;
    size_t bytes;  // static __shared__ bytes reachable from the kernel (build-emu.sh, from the object's relocations)
};

// Generated: every translation unit's definitions and the static shared sizes.
extern "C" const polyv_emu_tu* polyv_emu_registry_tus(int* n);
extern "C" const polyv_emu_smem_def* polyv_emu_registry_smem(int* n);

#ifdef __cplusplus
template <class... A>
struct PolyvEmuTramp {
    template <size_t... I>
    __attribute__((no_sanitize_thread, noinline)) static void run(void (*f)(A...), void** p, std::index_sequence<I...>) {
        f(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(p[I])...);
    }
    __attribute__((no_sanitize_thread)) static void call(void (*f)(), void** p) {
        run(reinterpret_cast<void (*)(A...)>(f), p, std::index_sequence_for<A...>{});
    }
    static constexpr size_t sizes[sizeof...(A) + 1] = {sizeof(A)..., 0};
    static constexpr int count = sizeof...(A);
};
template <class... A>
PolyvEmuTramp<A...> polyv_emu_tramp_of(void (*)(A...));
#define POLYV_EMU_DEF(NAME, LB)                                                                        \
    {                                                                                                  \
        #NAME, reinterpret_cast<void (*)()>(&NAME), decltype(polyv_emu_tramp_of(&NAME))::call,         \
            decltype(polyv_emu_tramp_of(&NAME))::count, decltype(polyv_emu_tramp_of(&NAME))::sizes, (LB) \
    }
#endif
