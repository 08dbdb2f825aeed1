// Extra entry points of the emulated libcuda.so.1 for the emulated cuBLAS (kernels/emu/driver/cublas_emu.cpp).
// Not part of any NVIDIA API. All of them take the driver's global lock.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Host work that stands in for device work (a cuBLAS GEMM). Runs fn(args) at once on the calling thread,
// or, when `stream` is capturing, records it (args copied, args_bytes) as a graph node that runs at each
// replay. Honors the context's sticky error like a kernel launch. Returns a CUresult.
typedef void (*polyv_emu_host_work)(const void* args);
int polyv_emu_driver_enqueue(void* stream, polyv_emu_host_work fn, const void* args, size_t args_bytes);

// 1 when [p, p + bytes) lies inside one live cuMemAlloc allocation, else 0.
int polyv_emu_driver_is_device_range(const void* p, size_t bytes);

// Called from inside host work: poisons the current context with `code` (700 or 719) as a faulting
// kernel would (message printed once, prefixed "polyv emulated CUDA:").
void polyv_emu_driver_fault(int code, const char* message);

// 0 when the driver is initialized and the thread has a current context, else the CUresult.
int polyv_emu_driver_context_check(void);

#ifdef __cplusplus
}
#endif
