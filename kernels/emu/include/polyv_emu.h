// The C ABI between the emulated CUDA driver (kernels/emu/driver: the libcuda.so.1 stand-in) and the
// kernel emulator (kernels/emu/runtime: host-built kernels run as fibers). Emulation proves logic,
// never timing.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct { unsigned x, y, z; } polyv_emu_dim3;

// A host-built kernel (opaque). Every extern "C" __global__ function of kernels/src/main/cuda/*.cu
// (and the test-only kernels of kernels/emu/test) is registered under its exact name.
typedef struct polyv_emu_kernel polyv_emu_kernel;

// The kernel of that name, or NULL when no host-built kernel has it.
const polyv_emu_kernel* polyv_emu_find_kernel(const char* name);
// Its __launch_bounds__ max threads per block (1024 when it declares none).
int polyv_emu_kernel_max_threads(const polyv_emu_kernel* k);
// Bytes of its static __shared__ storage (what cuFuncGetAttribute(SHARED_SIZE_BYTES) reports).
size_t polyv_emu_kernel_static_smem(const polyv_emu_kernel* k);
// Number of parameters and the byte size of parameter i (the driver copies kernelParams when a launch
// is captured into a graph).
int polyv_emu_kernel_param_count(const polyv_emu_kernel* k);
size_t polyv_emu_kernel_param_size(const polyv_emu_kernel* k, int i);

// Runs every block of the launch to completion on the calling thread. params = cuLaunchKernel's
// kernelParams. Returns 0 (CUDA_SUCCESS) or a CUresult code with a message in err (kernel name,
// block, thread, what went wrong): 1 invalid value (grid/block dims), 701 launch out of resources
// (threads > launch bounds or > 1024, shared memory over the sm_90 limit), 700 illegal address
// (out-of-bounds global access), 719 launch failed (barrier deadlock, collective mask mismatch,
// shared-memory race, read of unwritten shared memory, trap).
int polyv_emu_launch(const polyv_emu_kernel* k, polyv_emu_dim3 grid, polyv_emu_dim3 block,
                     unsigned dynamic_smem_bytes, void** params, char* err, size_t err_len);

// Live device allocations, for the out-of-bounds checks (the driver registers every cuMemAlloc).
void polyv_emu_register_allocation(const void* base, size_t bytes);
void polyv_emu_unregister_allocation(const void* base);

// Seed of the per-block shuffle of thread order between barriers (default from env POLYV_EMU_SEED, else 1).
void polyv_emu_set_seed(uint64_t seed);

// Additions (kernel emulator):
// cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES): lets launches of k use up to
// `bytes` of dynamic shared memory (static + bytes <= 227 KiB); without it static + dynamic <= 48 KiB.
// Returns 0, or 1 (invalid value) when static + bytes exceeds 227 KiB.
int polyv_emu_kernel_set_max_dynamic_smem(const polyv_emu_kernel* k, unsigned bytes);
// The registered kernels, for listings and tests: count and name of kernel i.
int polyv_emu_kernel_count(void);
const char* polyv_emu_kernel_name(int i);

#ifdef __cplusplus
}
#endif
