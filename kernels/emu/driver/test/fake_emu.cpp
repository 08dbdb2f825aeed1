// A stand-in for the kernel emulator's archive (libpolyv_emu_kernels.a), implementing polyv_emu.h with
// plain host loops, so the driver can be built and tested before (or without) the real archive.
// Kernels: add_f32(const float* a, const float* b, float* out, long long n) (grid-stride, as add.cu) and
// emu_test_oob_write(float* p, long long n) (writes p[n]: one element past the end -> 700).
#include "../../include/polyv_emu.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

struct polyv_emu_kernel {
    const char* name;
    int nparams;
    size_t sizes[8];
    int (*run)(polyv_emu_dim3, polyv_emu_dim3, void**, char*, size_t);
};

static std::map<const char*, size_t>& allocs() { static std::map<const char*, size_t> m; return m; }

static bool inside(const void* p, size_t bytes) {
    auto& m = allocs();
    auto it = m.upper_bound((const char*) p);
    if (it == m.begin()) return false;
    --it;
    return (const char*) p >= it->first && (const char*) p + bytes <= it->first + it->second;
}

static int oob(const char* k, const void* p, char* err, size_t len) {
    std::snprintf(err, len, "%s: block (0,0,0) thread (0,0,0): illegal address %p (fake emulator)", k, p);
    return 700;
}

static int run_add(polyv_emu_dim3 g, polyv_emu_dim3 b, void** params, char* err, size_t len) {
    const float* a = *(const float**) params[0];
    const float* bb = *(const float**) params[1];
    float* out = *(float**) params[2];
    long long n = *(long long*) params[3];
    long long stride = (long long) g.x * b.x;
    for (long long t = 0; t < stride; t++)
        for (long long i = t; i < n; i += stride) {
            if (!inside(a + i, 4) || !inside(bb + i, 4)) return oob("add_f32", a + i, err, len);
            if (!inside(out + i, 4)) return oob("add_f32", out + i, err, len);
            out[i] = a[i] + bb[i];
        }
    return 0;
}

static int run_oob(polyv_emu_dim3, polyv_emu_dim3, void** params, char* err, size_t len) {
    float* p = *(float**) params[0];
    long long n = *(long long*) params[1];
    if (!inside(p + n, 4)) return oob("emu_test_oob_write", p + n, err, len);
    p[n] = 1.0f;
    return 0;
}

static const polyv_emu_kernel k_add = {"add_f32", 4, {8, 8, 8, 8}, run_add};
static const polyv_emu_kernel k_oob = {"emu_test_oob_write", 2, {8, 8}, run_oob};

extern "C" {
const polyv_emu_kernel* polyv_emu_find_kernel(const char* name) {
    if (!std::strcmp(name, k_add.name)) return &k_add;
    if (!std::strcmp(name, k_oob.name)) return &k_oob;
    return nullptr;
}
int polyv_emu_kernel_max_threads(const polyv_emu_kernel*) { return 1024; }
size_t polyv_emu_kernel_static_smem(const polyv_emu_kernel*) { return 0; }
int polyv_emu_kernel_param_count(const polyv_emu_kernel* k) { return k->nparams; }
size_t polyv_emu_kernel_param_size(const polyv_emu_kernel* k, int i) { return i >= 0 && i < k->nparams ? k->sizes[i] : 0; }
int polyv_emu_launch(const polyv_emu_kernel* k, polyv_emu_dim3 grid, polyv_emu_dim3 block, unsigned smem, void** params,
                     char* err, size_t len) {
    if (block.x * block.y * block.z > 1024 || smem > 232448) {
        std::snprintf(err, len, "%s: too many resources", k->name);
        return 701;
    }
    return k->run(grid, block, params, err, len);
}
void polyv_emu_register_allocation(const void* base, size_t bytes) { allocs()[(const char*) base] = bytes; }
void polyv_emu_unregister_allocation(const void* base) { allocs().erase((const char*) base); }
void polyv_emu_set_seed(uint64_t) {}
}
