// polyv emulated CUDA driver: a stand-in libcuda.so.1 for machines without a GPU. It implements the part
// of the driver API that polyv's CUDA backend uses through JCuda 12.6.0 (the exact, versioned symbol
// names libJCudaDriver imports: cuMemAlloc_v2, cuStreamBeginCapture_v2, cuGraphInstantiateWithFlags...);
// every other symbol JCuda imports is a stub in the generated cuda_driver_stubs.cpp.
//
// Semantics: one emulated device (an H100 SXM, sm_90). "Device" memory is host memory. Everything runs
// synchronously on the calling thread at call time, under one global lock (streams only order work);
// kernels are run by the kernel emulator (polyv_emu.h). Emulation proves logic, never timing: event
// times are host wall-clock times of the emulation and mean nothing about a GPU.
//
// Errors mirror the real driver: calls before cuInit -> CUDA_ERROR_NOT_INITIALIZED; no current context
// -> CUDA_ERROR_INVALID_CONTEXT; unknown handles -> CUDA_ERROR_INVALID_HANDLE; bad launch configurations
// are returned by cuLaunchKernel itself. Faults found while a kernel runs (700 illegal address, 719
// launch failed) are asynchronous, as on hardware: cuLaunchKernel succeeds, the fault is reported by the
// next synchronizing call (stream/event/context synchronize, query, blocking memcpy/memset, cuMemFree),
// work enqueued in between is dropped (it never runs in a dead context), and from that report on the
// error is sticky: every call that uses the context returns it until the context is destroyed or the
// primary context is fully released.
//
// This file deliberately does not include cuda.h: CUDA 13's header renames entry points with macros
// (cuEventElapsedTime -> _v2, cuCtxCreate -> _v4) and JCuda 12.6 imports the older names.
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "../include/polyv_emu.h"
#include "polyv_emu_driver.h"

#define EMU_API extern "C" __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

enum : int {
    CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_OUT_OF_MEMORY = 2, CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_INVALID_DEVICE = 101, CUDA_ERROR_INVALID_CONTEXT = 201, CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_ILLEGAL_STATE = 401, CUDA_ERROR_NOT_FOUND = 500, CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700, CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701, CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_SUPPORTED = 801, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901, CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD = 908,
};

// ---------------------------------------------------------------------------------------------- state

namespace {

struct Graph;

struct Ctx {
    bool primary = false;
    int primary_refs = 0;       // primary: retain count; the context is active while > 0
    bool active = true;
    int pending_error = 0;      // a kernel fault not yet reported by a synchronizing call
    int sticky_error = 0;       // reported: every later call in the context returns it
    unsigned flags = 0;
};

struct Stream {
    Ctx* ctx;
    unsigned flags;
    Graph* capture = nullptr;   // non-null while capturing
    bool capture_invalid = false;
    int capture_mode = 0;
    std::thread::id capture_thread;
};

struct Event {
    Ctx* ctx;
    unsigned flags;
    bool recorded = false;
    std::chrono::steady_clock::time_point when;
};

struct Module {
    Ctx* ctx;
};

struct Function {
    Module* module;
    const polyv_emu_kernel* kernel;
    std::string name;
    int max_dynamic_smem;
};

struct Node {
    enum Kind { KERNEL, COPY, SET, HOST } kind;
    // KERNEL
    Function* fn = nullptr;     // for the name only; the kernel pointer is kept in `kernel`
    const polyv_emu_kernel* kernel = nullptr;
    std::string name;
    polyv_emu_dim3 grid{}, block{};
    unsigned smem = 0;
    std::vector<std::vector<unsigned char>> params;
    // COPY / SET
    void* dst = nullptr;
    const void* src = nullptr;
    size_t bytes = 0;
    unsigned value = 0, elem = 0;
    // HOST
    polyv_emu_host_work work = nullptr;
    std::vector<unsigned char> args;
};

struct Graph {
    Ctx* ctx;
    std::vector<Node> nodes;
};

struct Alloc {
    size_t bytes;     // requested
    size_t charged;   // rounded up, counted against the budget
    Ctx* ctx;
};

std::recursive_mutex g_mu;
bool g_initialized = false;
Ctx* g_primary = nullptr;
std::unordered_set<Ctx*> g_ctxs;
std::unordered_set<Stream*> g_streams;
std::unordered_set<Event*> g_events;
std::unordered_set<Module*> g_modules;
std::unordered_set<Function*> g_functions;
std::unordered_set<Graph*> g_graphs, g_execs;
std::map<uintptr_t, Alloc> g_allocs;           // device allocations by base address
std::map<uintptr_t, size_t> g_host_allocs;     // cuMemAllocHost: page-locked host memory by base
size_t g_budget = 0, g_used = 0;

thread_local Ctx* t_current = nullptr;
thread_local std::vector<Ctx*> t_stack;         // cuCtxPushCurrent / PopCurrent below the current one

using Lock = std::lock_guard<std::recursive_mutex>;

void say(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fputs("polyv emulated CUDA: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    std::fflush(stderr);
    va_end(ap);
}

size_t parse_bytes(const char* s) {
    char* end = nullptr;
    double v = std::strtod(s, &end);
    if (end == s || v <= 0) return 0;
    while (*end == ' ') end++;
    switch (*end) {
        case 'k': case 'K': v *= 1024.0; break;
        case 'm': case 'M': v *= 1024.0 * 1024; break;
        case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
        case 't': case 'T': v *= 1024.0 * 1024 * 1024 * 1024; break;
        default: break;
    }
    return (size_t) v;
}

// Device memory budget: env POLYV_EMU_DEVICE_MEMORY (bytes, or with K/M/G suffix), default 8 GiB.
size_t budget() {
    if (g_budget == 0) {
        const char* e = std::getenv("POLYV_EMU_DEVICE_MEMORY");
        size_t b = e ? parse_bytes(e) : 0;
        g_budget = b ? b : (size_t) 8 << 30;
    }
    return g_budget;
}

// The context's error for a call. `sync`: the call synchronizes (reports a pending fault).
int ctx_error(Ctx* c, bool sync) {
    if (c->sticky_error) return c->sticky_error;
    if (c->pending_error && sync) {
        c->sticky_error = c->pending_error;
        return c->sticky_error;
    }
    return 0;
}

// Initialized, a current active context, and its error (sync: see ctx_error).
int check_ctx(bool sync = false) {
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    Ctx* c = t_current;
    if (!c || !g_ctxs.count(c) || !c->active) return CUDA_ERROR_INVALID_CONTEXT;
    return ctx_error(c, sync);
}

// Work enqueued after a fault but before its report: dropped, and the call still succeeds.
bool dropping() { return t_current && t_current->pending_error && !t_current->sticky_error; }

void fault(Ctx* c, int code, const char* msg) {
    if (!c->pending_error && !c->sticky_error) {
        say("%s", msg && *msg ? msg : "kernel fault");
        c->pending_error = code;
    }
}

bool valid_stream(void* s, Stream** out) {
    uintptr_t v = (uintptr_t) s;
    if (v == 0 || v == 1 || v == 2) { *out = nullptr; return true; }   // NULL, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD
    Stream* st = (Stream*) s;
    if (!g_streams.count(st)) return false;
    *out = st;
    return true;
}

// Whether the calling thread has a capture that forbids unsafe calls (global / thread-local mode).
Stream* thread_capture() {
    for (Stream* s : g_streams)
        if (s->capture && s->capture_mode != 2 && s->capture_thread == std::this_thread::get_id()) return s;
    return nullptr;
}

// An unsafe call during capture: invalidates it, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED.
int capture_forbids(const char* what) {
    Stream* s = thread_capture();
    if (!s) return 0;
    s->capture_invalid = true;
    say("%s during stream capture (capture invalidated)", what);
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

const Alloc* find_alloc(uintptr_t p, size_t bytes, uintptr_t* base_out = nullptr) {
    auto it = g_allocs.upper_bound(p);
    if (it == g_allocs.begin()) return nullptr;
    --it;
    uintptr_t base = it->first;
    if (p < base || p - base > it->second.bytes || bytes > it->second.bytes - (p - base)) return nullptr;
    if (base_out) *base_out = base;
    return &it->second;
}

bool is_device(const void* p, size_t bytes) { return find_alloc((uintptr_t) p, bytes) != nullptr; }

bool is_pinned(uintptr_t p, size_t bytes) {
    auto it = g_host_allocs.upper_bound(p);
    if (it == g_host_allocs.begin()) return false;
    --it;
    return p >= it->first && p - it->first <= it->second && bytes <= it->second - (p - it->first);
}

int range_error(const char* call, const char* which, uintptr_t p, size_t bytes) {
    say("%s: %s 0x%llx + %zu bytes is not inside a live device allocation (CUDA_ERROR_INVALID_VALUE)", call, which,
        (unsigned long long) p, bytes);
    return CUDA_ERROR_INVALID_VALUE;
}

// ---- execution of work items (immediately or at graph replay)

int run_kernel(const polyv_emu_kernel* k, const char* name, polyv_emu_dim3 grid, polyv_emu_dim3 block, unsigned smem,
               void** params) {
    char err[1024];
    err[0] = 0;
    int r = polyv_emu_launch(k, grid, block, smem, params, err, sizeof err);
    if (r == CUDA_SUCCESS) return 0;
    if (r == CUDA_ERROR_ILLEGAL_ADDRESS || r == CUDA_ERROR_LAUNCH_FAILED) {
        char msg[1200];
        std::snprintf(msg, sizeof msg, "%s", err[0] ? err : name);
        fault(t_current, r, msg);
        return 0;   // asynchronous: reported by the next synchronizing call
    }
    say("cuLaunchKernel(%s): %s (%d)", name, err[0] ? err : "launch rejected", r);
    return r;
}

int run_node(const Node& n) {
    if (dropping()) return 0;
    switch (n.kind) {
        case Node::KERNEL: {
            std::vector<void*> ptrs;
            for (auto& p : n.params) ptrs.push_back((void*) p.data());
            return run_kernel(n.kernel, n.name.c_str(), n.grid, n.block, n.smem, ptrs.data());
        }
        case Node::COPY:
            std::memmove(n.dst, n.src, n.bytes);
            return 0;
        case Node::SET: {
            size_t count = n.bytes;
            if (n.elem == 1) std::memset(n.dst, (int) (n.value & 0xff), count);
            else if (n.elem == 2) { uint16_t v = (uint16_t) n.value; uint16_t* d = (uint16_t*) n.dst; for (size_t i = 0; i < count; i++) d[i] = v; }
            else { uint32_t v = n.value; uint32_t* d = (uint32_t*) n.dst; for (size_t i = 0; i < count; i++) d[i] = v; }
            return 0;
        }
        case Node::HOST:
            n.work(n.args.data());
            return 0;
    }
    return 0;
}

// Runs n now, or records it when `s` captures.
int submit(Stream* s, Node&& n) {
    if (s && s->capture) {
        if (s->capture_invalid) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        s->capture->nodes.push_back(std::move(n));
        return 0;
    }
    return run_node(n);
}

void release_ctx_resources(Ctx* c) {
    for (auto it = g_allocs.begin(); it != g_allocs.end();) {
        if (it->second.ctx == c) {
            polyv_emu_unregister_allocation((void*) it->first);
            g_used -= it->second.charged;
            std::free((void*) it->first);
            it = g_allocs.erase(it);
        } else ++it;
    }
    for (auto it = g_streams.begin(); it != g_streams.end();) {
        if ((*it)->ctx == c) { delete (*it)->capture; delete *it; it = g_streams.erase(it); } else ++it;
    }
    for (auto it = g_events.begin(); it != g_events.end();) {
        if ((*it)->ctx == c) { delete *it; it = g_events.erase(it); } else ++it;
    }
    for (auto it = g_functions.begin(); it != g_functions.end();) {
        if ((*it)->module->ctx == c) { delete *it; it = g_functions.erase(it); } else ++it;
    }
    for (auto it = g_modules.begin(); it != g_modules.end();) {
        if ((*it)->ctx == c) { delete *it; it = g_modules.erase(it); } else ++it;
    }
    for (auto* set : {&g_graphs, &g_execs})
        for (auto it = set->begin(); it != set->end();) {
            if ((*it)->ctx == c) { delete *it; it = set->erase(it); } else ++it;
        }
    c->pending_error = c->sticky_error = 0;
}

struct ErrorEntry { int code; const char* name; const char* text; };
const ErrorEntry k_errors[] = {
#include "cuda_errors.inc"
};

}  // namespace

#define LOCK Lock lock_(g_mu)
#define TRY(x) do { int r_ = (x); if (r_) return r_; } while (0)

// ------------------------------------------------------------------------------------ error strings

EMU_API CUresult cuGetErrorName(CUresult e, const char** s) {
    if (!s) return CUDA_ERROR_INVALID_VALUE;
    for (auto& x : k_errors) if (x.code == e) { *s = x.name; return 0; }
    *s = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

EMU_API CUresult cuGetErrorString(CUresult e, const char** s) {
    if (!s) return CUDA_ERROR_INVALID_VALUE;
    for (auto& x : k_errors) if (x.code == e) { *s = x.text; return 0; }
    *s = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

extern "C" __attribute__((visibility("default"))) int polyv_emu_driver_not_emulated(const char* name) {
    std::fprintf(stderr, "polyv emulated CUDA driver: %s is not emulated\n", name);
    std::fflush(stderr);
    return CUDA_ERROR_NOT_SUPPORTED;
}

// ------------------------------------------------------------------------------------- init, device

EMU_API CUresult cuInit(unsigned flags) {
    LOCK;
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    if (!g_initialized) {
        g_initialized = true;
        g_primary = new Ctx();
        g_primary->primary = true;
        g_primary->active = false;
        g_ctxs.insert(g_primary);
        budget();
    }
    return 0;
}

EMU_API CUresult cuDriverGetVersion(int* v) {
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    *v = 13000;
    return 0;
}

EMU_API CUresult cuDeviceGetCount(int* n) {
    LOCK;
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!n) return CUDA_ERROR_INVALID_VALUE;
    *n = 1;
    return 0;
}

EMU_API CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    LOCK;
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!d) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *d = 0;
    return 0;
}

#define CHECK_DEVICE(dev) do { if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED; \
    if ((dev) != 0) return CUDA_ERROR_INVALID_DEVICE; } while (0)

EMU_API CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
    LOCK;
    CHECK_DEVICE(dev);
    if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    std::snprintf(name, (size_t) len, "%s", "polyv emulated CUDA device (sm_90)");
    return 0;
}

EMU_API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
    LOCK;
    CHECK_DEVICE(dev);
    if (!bytes) return CUDA_ERROR_INVALID_VALUE;
    *bytes = budget();
    return 0;
}

EMU_API CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice dev) {
    LOCK;
    CHECK_DEVICE(dev);
    if (!major || !minor) return CUDA_ERROR_INVALID_VALUE;
    *major = 9;
    *minor = 0;
    return 0;
}

// An H100 SXM5 80GB (sm_90) as the real driver describes it.
static bool device_attribute(int a, int* v) {
    switch (a) {
        case 1: *v = 1024; return true;                  // MAX_THREADS_PER_BLOCK
        case 2: *v = 1024; return true;                  // MAX_BLOCK_DIM_X
        case 3: *v = 1024; return true;                  // MAX_BLOCK_DIM_Y
        case 4: *v = 64; return true;                    // MAX_BLOCK_DIM_Z
        case 5: *v = 2147483647; return true;            // MAX_GRID_DIM_X
        case 6: *v = 65535; return true;                 // MAX_GRID_DIM_Y
        case 7: *v = 65535; return true;                 // MAX_GRID_DIM_Z
        case 8: *v = 49152; return true;                 // MAX_SHARED_MEMORY_PER_BLOCK
        case 9: *v = 65536; return true;                 // TOTAL_CONSTANT_MEMORY
        case 10: *v = 32; return true;                   // WARP_SIZE
        case 11: *v = 2147483647; return true;           // MAX_PITCH
        case 12: *v = 65536; return true;                // MAX_REGISTERS_PER_BLOCK
        case 13: *v = 1980000; return true;              // CLOCK_RATE (kHz)
        case 14: *v = 512; return true;                  // TEXTURE_ALIGNMENT
        case 15: *v = 1; return true;                    // GPU_OVERLAP
        case 16: *v = 132; return true;                  // MULTIPROCESSOR_COUNT
        case 17: *v = 0; return true;                    // KERNEL_EXEC_TIMEOUT
        case 18: *v = 0; return true;                    // INTEGRATED
        case 19: *v = 1; return true;                    // CAN_MAP_HOST_MEMORY
        case 20: *v = 0; return true;                    // COMPUTE_MODE default
        case 30: *v = 512; return true;                  // SURFACE_ALIGNMENT
        case 31: *v = 1; return true;                    // CONCURRENT_KERNELS
        case 32: *v = 1; return true;                    // ECC_ENABLED
        case 33: *v = 0; return true;                    // PCI_BUS_ID
        case 34: *v = 0; return true;                    // PCI_DEVICE_ID
        case 35: *v = 0; return true;                    // TCC_DRIVER
        case 36: *v = 2619000; return true;              // MEMORY_CLOCK_RATE (kHz)
        case 37: *v = 5120; return true;                 // GLOBAL_MEMORY_BUS_WIDTH
        case 38: *v = 50 << 20; return true;             // L2_CACHE_SIZE
        case 39: *v = 2048; return true;                 // MAX_THREADS_PER_MULTIPROCESSOR
        case 40: *v = 5; return true;                    // ASYNC_ENGINE_COUNT
        case 41: *v = 1; return true;                    // UNIFIED_ADDRESSING
        case 50: *v = 0; return true;                    // PCI_DOMAIN_ID
        case 51: *v = 32; return true;                   // TEXTURE_PITCH_ALIGNMENT
        case 75: *v = 9; return true;                    // COMPUTE_CAPABILITY_MAJOR
        case 76: *v = 0; return true;                    // COMPUTE_CAPABILITY_MINOR
        case 78: *v = 1; return true;                    // STREAM_PRIORITIES_SUPPORTED
        case 79: *v = 1; return true;                    // GLOBAL_L1_CACHE_SUPPORTED
        case 80: *v = 1; return true;                    // LOCAL_L1_CACHE_SUPPORTED
        case 81: *v = 233472; return true;               // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
        case 82: *v = 65536; return true;                // MAX_REGISTERS_PER_MULTIPROCESSOR
        case 83: *v = 1; return true;                    // MANAGED_MEMORY
        case 84: *v = 0; return true;                    // MULTI_GPU_BOARD
        case 85: *v = 0; return true;                    // MULTI_GPU_BOARD_GROUP_ID
        case 86: *v = 0; return true;                    // HOST_NATIVE_ATOMIC_SUPPORTED
        case 87: *v = 2; return true;                    // SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO
        case 88: *v = 0; return true;                    // PAGEABLE_MEMORY_ACCESS
        case 89: *v = 0; return true;                    // CONCURRENT_MANAGED_ACCESS
        case 90: *v = 1; return true;                    // COMPUTE_PREEMPTION_SUPPORTED
        case 91: *v = 0; return true;                    // CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM
        case 95: *v = 1; return true;                    // COOPERATIVE_LAUNCH
        case 96: *v = 0; return true;                    // COOPERATIVE_MULTI_DEVICE_LAUNCH
        case 97: *v = 232448; return true;               // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
        case 98: *v = 0; return true;                    // CAN_FLUSH_REMOTE_WRITES
        case 99: *v = 1; return true;                    // HOST_REGISTER_SUPPORTED
        case 100: *v = 0; return true;                   // PAGEABLE_MEMORY_ACCESS_USES_HOST_PAGE_TABLES
        case 101: *v = 0; return true;                   // DIRECT_MANAGED_MEM_ACCESS_FROM_HOST
        case 102: *v = 0; return true;                   // VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED (not emulated)
        case 106: *v = 32; return true;                  // MAX_BLOCKS_PER_MULTIPROCESSOR
        case 107: *v = 0; return true;                   // GENERIC_COMPRESSION_SUPPORTED
        case 108: *v = 32768000; return true;            // MAX_PERSISTING_L2_CACHE_SIZE
        case 109: *v = 134213632; return true;           // MAX_ACCESS_POLICY_WINDOW_SIZE
        case 111: *v = 1024; return true;                // RESERVED_SHARED_MEMORY_PER_BLOCK
        case 115: *v = 0; return true;                   // MEMORY_POOLS_SUPPORTED (cuMemAllocAsync not emulated)
        case 120: *v = 1; return true;                   // CLUSTER_LAUNCH
        case 126: *v = 4; return true;                   // MEM_SYNC_DOMAIN_COUNT
        case 127: *v = 1; return true;                   // TENSOR_MAP_ACCESS_SUPPORTED
        case 129: *v = 1; return true;                   // UNIFIED_FUNCTION_POINTERS
        case 133: *v = 0; return true;                   // MPS_ENABLED
        default: return false;
    }
}

EMU_API CUresult cuDeviceGetAttribute(int* v, int attrib, CUdevice dev) {
    LOCK;
    CHECK_DEVICE(dev);
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    if (!device_attribute(attrib, v)) {
        say("cuDeviceGetAttribute: attribute %d is not emulated (CUDA_ERROR_INVALID_VALUE)", attrib);
        return CUDA_ERROR_INVALID_VALUE;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------- contexts

EMU_API CUresult cuDevicePrimaryCtxRetain(Ctx** pctx, CUdevice dev) {
    LOCK;
    CHECK_DEVICE(dev);
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    g_primary->primary_refs++;
    g_primary->active = true;
    *pctx = g_primary;
    return 0;
}

EMU_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
    LOCK;
    CHECK_DEVICE(dev);
    if (g_primary->primary_refs <= 0) return CUDA_ERROR_INVALID_CONTEXT;
    if (--g_primary->primary_refs == 0) {   // the real driver destroys the primary context's resources here
        release_ctx_resources(g_primary);
        g_primary->active = false;
    }
    return 0;
}

EMU_API CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev) {
    LOCK;
    CHECK_DEVICE(dev);
    release_ctx_resources(g_primary);
    g_primary->primary_refs = 0;
    g_primary->active = false;
    return 0;
}

EMU_API CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned* flags, int* active) {
    LOCK;
    CHECK_DEVICE(dev);
    if (!flags || !active) return CUDA_ERROR_INVALID_VALUE;
    *flags = g_primary->flags;
    *active = g_primary->active ? 1 : 0;
    return 0;
}

EMU_API CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice dev, unsigned flags) {
    LOCK;
    CHECK_DEVICE(dev);
    g_primary->flags = flags;
    return 0;
}

EMU_API CUresult cuCtxCreate_v2(Ctx** pctx, unsigned flags, CUdevice dev) {
    LOCK;
    CHECK_DEVICE(dev);
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    Ctx* c = new Ctx();
    c->flags = flags;
    g_ctxs.insert(c);
    if (t_current) t_stack.push_back(t_current);
    t_current = c;
    *pctx = c;
    return 0;
}

EMU_API CUresult cuCtxDestroy_v2(Ctx* c) {
    LOCK;
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!c || !g_ctxs.count(c) || c->primary) return CUDA_ERROR_INVALID_CONTEXT;
    release_ctx_resources(c);
    g_ctxs.erase(c);
    delete c;
    if (t_current == c) {
        t_current = nullptr;
        if (!t_stack.empty()) { t_current = t_stack.back(); t_stack.pop_back(); }
    }
    for (auto it = t_stack.begin(); it != t_stack.end();) it = *it == c ? t_stack.erase(it) : it + 1;
    return 0;
}

EMU_API CUresult cuCtxSetCurrent(Ctx* c) {
    LOCK;
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (c && !g_ctxs.count(c)) return CUDA_ERROR_INVALID_CONTEXT;
    t_current = c;
    return 0;
}

EMU_API CUresult cuCtxGetCurrent(Ctx** pctx) {
    LOCK;
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    *pctx = t_current && g_ctxs.count(t_current) ? t_current : nullptr;
    return 0;
}

EMU_API CUresult cuCtxPushCurrent_v2(Ctx* c) {
    LOCK;
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!c || !g_ctxs.count(c)) return CUDA_ERROR_INVALID_CONTEXT;
    if (t_current) t_stack.push_back(t_current);
    t_current = c;
    return 0;
}

EMU_API CUresult cuCtxPopCurrent_v2(Ctx** pctx) {
    LOCK;
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!t_current) return CUDA_ERROR_INVALID_CONTEXT;
    if (pctx) *pctx = t_current;
    t_current = nullptr;
    if (!t_stack.empty()) { t_current = t_stack.back(); t_stack.pop_back(); }
    return 0;
}

EMU_API CUresult cuCtxGetDevice(CUdevice* d) {
    LOCK;
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!t_current || !g_ctxs.count(t_current) || !t_current->active) return CUDA_ERROR_INVALID_CONTEXT;
    if (!d) return CUDA_ERROR_INVALID_VALUE;
    *d = 0;
    return 0;
}

EMU_API CUresult cuCtxSynchronize(void) {
    LOCK;
    TRY(check_ctx(true));
    TRY(capture_forbids("cuCtxSynchronize"));
    return 0;
}

// ------------------------------------------------------------------------------------------ memory

EMU_API CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) {
    LOCK;
    TRY(check_ctx());
    if (!free_bytes || !total) return CUDA_ERROR_INVALID_VALUE;
    *total = budget();
    *free_bytes = budget() - g_used;
    return 0;
}

EMU_API CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes) {
    LOCK;
    TRY(check_ctx());
    if (!dptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    TRY(capture_forbids("cuMemAlloc"));
    size_t charged = (bytes + 255) & ~(size_t) 255;
    if (charged < bytes || charged > budget() - g_used) return CUDA_ERROR_OUT_OF_MEMORY;
    void* p = std::aligned_alloc(256, charged);
    if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
    g_allocs[(uintptr_t) p] = Alloc{bytes, charged, t_current};
    g_used += charged;
    polyv_emu_register_allocation(p, bytes);
    *dptr = (CUdeviceptr) (uintptr_t) p;
    return 0;
}

EMU_API CUresult cuMemFree_v2(CUdeviceptr p) {
    LOCK;
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!t_current || !g_ctxs.count(t_current) || !t_current->active) return CUDA_ERROR_INVALID_CONTEXT;
    if (p == 0) return check_ctx();
    TRY(capture_forbids("cuMemFree"));
    auto it = g_allocs.find((uintptr_t) p);
    if (it == g_allocs.end()) {
        int e = check_ctx(true);
        return e ? e : CUDA_ERROR_INVALID_VALUE;
    }
    polyv_emu_unregister_allocation((void*) it->first);
    g_used -= it->second.charged;
    std::free((void*) it->first);
    g_allocs.erase(it);
    return check_ctx(true);   // freed even in a poisoned context; the sticky error is still returned
}

EMU_API CUresult cuMemGetAddressRange_v2(CUdeviceptr* base, size_t* size, CUdeviceptr p) {
    LOCK;
    TRY(check_ctx());
    uintptr_t b;
    const Alloc* a = find_alloc((uintptr_t) p, 0, &b);
    if (!a || (uintptr_t) p == b + a->bytes) return CUDA_ERROR_NOT_FOUND;
    if (base) *base = b;
    if (size) *size = a->bytes;
    return 0;
}

EMU_API CUresult cuMemAllocHost_v2(void** pp, size_t bytes) {
    LOCK;
    TRY(check_ctx());
    if (!pp || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    void* p = std::aligned_alloc(4096, (bytes + 4095) & ~(size_t) 4095);
    if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
    g_host_allocs[(uintptr_t) p] = bytes;
    *pp = p;
    return 0;
}

EMU_API CUresult cuMemHostAlloc(void** pp, size_t bytes, unsigned flags) {
    (void) flags;
    return cuMemAllocHost_v2(pp, bytes);
}

EMU_API CUresult cuMemFreeHost(void* p) {
    LOCK;
    TRY(check_ctx());
    if (!g_host_allocs.erase((uintptr_t) p)) return CUDA_ERROR_INVALID_VALUE;
    std::free(p);
    return 0;
}

namespace {

// Copies and sets. `sync`: the blocking form (synchronizes, forbidden during capture).
int do_copy(const char* call, void* stream, uintptr_t dst, bool dst_dev, uintptr_t src, bool src_dev, size_t bytes,
            bool sync) {
    TRY(check_ctx(sync));
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (sync) TRY(capture_forbids(call));
    if (bytes == 0) return 0;
    if (dst == 0 || src == 0) return CUDA_ERROR_INVALID_VALUE;
    if (dst_dev && !find_alloc(dst, bytes)) return range_error(call, "destination", dst, bytes);
    if (src_dev && !find_alloc(src, bytes)) return range_error(call, "source", src, bytes);
    // A captured copy reads / writes its host side at every replay: like the real driver, only page-locked
    // (cuMemAllocHost) host memory may take part; pageable memory invalidates the capture.
    if (!sync && s && s->capture && ((!dst_dev && !is_pinned(dst, bytes)) || (!src_dev && !is_pinned(src, bytes)))) {
        s->capture_invalid = true;
        say("%s of pageable host memory during stream capture (capture invalidated)", call);
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    Node n{Node::COPY};
    n.dst = (void*) dst;
    n.src = (const void*) src;
    n.bytes = bytes;
    return submit(sync ? nullptr : s, std::move(n));
}

int do_set(const char* call, void* stream, uintptr_t dst, unsigned value, unsigned elem, size_t count, bool sync) {
    TRY(check_ctx(sync));
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (sync) TRY(capture_forbids(call));
    if (count == 0) return 0;
    if (dst % elem) return CUDA_ERROR_INVALID_VALUE;   // D16 / D32 need aligned destinations
    if (count > SIZE_MAX / elem || !find_alloc(dst, count * elem)) return range_error(call, "destination", dst, count * elem);
    Node n{Node::SET};
    n.dst = (void*) dst;
    n.bytes = count;
    n.value = value;
    n.elem = elem;
    return submit(sync ? nullptr : s, std::move(n));
}

}  // namespace

EMU_API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
    LOCK; return do_copy("cuMemcpyHtoD", nullptr, dst, true, (uintptr_t) src, false, n, true);
}
EMU_API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
    LOCK; return do_copy("cuMemcpyDtoH", nullptr, (uintptr_t) dst, false, src, true, n, true);
}
EMU_API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    LOCK; return do_copy("cuMemcpyDtoD", nullptr, dst, true, src, true, n, true);
}
EMU_API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, void* s) {
    LOCK; return do_copy("cuMemcpyHtoDAsync", s, dst, true, (uintptr_t) src, false, n, false);
}
EMU_API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, void* s) {
    LOCK; return do_copy("cuMemcpyDtoHAsync", s, (uintptr_t) dst, false, src, true, n, false);
}
EMU_API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void* s) {
    LOCK; return do_copy("cuMemcpyDtoDAsync", s, dst, true, src, true, n, false);
}
// Unified addressing: either side may be device or host memory.
EMU_API CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    LOCK; return do_copy("cuMemcpy", nullptr, dst, is_device((void*) dst, 1), src, is_device((void*) src, 1), n, true);
}
EMU_API CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, void* s) {
    LOCK; return do_copy("cuMemcpyAsync", s, dst, is_device((void*) dst, 1), src, is_device((void*) src, 1), n, false);
}

EMU_API CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char v, size_t n) { LOCK; return do_set("cuMemsetD8", nullptr, d, v, 1, n, true); }
EMU_API CUresult cuMemsetD16_v2(CUdeviceptr d, unsigned short v, size_t n) { LOCK; return do_set("cuMemsetD16", nullptr, d, v, 2, n, true); }
EMU_API CUresult cuMemsetD32_v2(CUdeviceptr d, unsigned v, size_t n) { LOCK; return do_set("cuMemsetD32", nullptr, d, v, 4, n, true); }
EMU_API CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void* s) { LOCK; return do_set("cuMemsetD8Async", s, d, v, 1, n, false); }
EMU_API CUresult cuMemsetD16Async(CUdeviceptr d, unsigned short v, size_t n, void* s) { LOCK; return do_set("cuMemsetD16Async", s, d, v, 2, n, false); }
EMU_API CUresult cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, void* s) { LOCK; return do_set("cuMemsetD32Async", s, d, v, 4, n, false); }

// ----------------------------------------------------------------------------------------- streams

EMU_API CUresult cuStreamCreate(Stream** ps, unsigned flags) {
    LOCK;
    TRY(check_ctx());
    if (!ps || flags > 1) return CUDA_ERROR_INVALID_VALUE;
    Stream* s = new Stream{t_current, flags};
    g_streams.insert(s);
    *ps = s;
    return 0;
}

EMU_API CUresult cuStreamCreateWithPriority(Stream** ps, unsigned flags, int priority) {
    (void) priority;
    return cuStreamCreate(ps, flags);
}

EMU_API CUresult cuStreamDestroy_v2(Stream* s) {
    LOCK;
    TRY(check_ctx());
    if (!s || !g_streams.count(s)) return CUDA_ERROR_INVALID_HANDLE;
    delete s->capture;
    g_streams.erase(s);
    delete s;
    return 0;
}

EMU_API CUresult cuStreamSynchronize(void* stream) {
    LOCK;
    TRY(check_ctx(true));
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (s && s->capture) { s->capture_invalid = true; return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED; }
    TRY(capture_forbids("cuStreamSynchronize"));
    return 0;
}

EMU_API CUresult cuStreamQuery(void* stream) {
    LOCK;
    TRY(check_ctx(true));
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (s && s->capture) { s->capture_invalid = true; return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED; }
    return 0;   // all work is complete when the call that enqueued it returns
}

EMU_API CUresult cuStreamGetFlags(void* stream, unsigned* flags) {
    LOCK;
    TRY(check_ctx());
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (!flags) return CUDA_ERROR_INVALID_VALUE;
    *flags = s ? s->flags : 0;
    return 0;
}

EMU_API CUresult cuStreamWaitEvent(void* stream, Event* e, unsigned flags) {
    LOCK;
    TRY(check_ctx());
    (void) flags;
    Stream* s;
    if (!valid_stream(stream, &s) || !e || !g_events.count(e)) return CUDA_ERROR_INVALID_HANDLE;
    return 0;   // work is already complete, in call order
}

EMU_API CUresult cuStreamBeginCapture_v2(void* stream, int mode) {
    LOCK;
    TRY(check_ctx());
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (!s) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;   // the legacy NULL stream cannot be captured
    if (mode < 0 || mode > 2) return CUDA_ERROR_INVALID_VALUE;
    if (s->capture) return CUDA_ERROR_ILLEGAL_STATE;
    s->capture = new Graph{t_current, {}};
    s->capture_invalid = false;
    s->capture_mode = mode;
    s->capture_thread = std::this_thread::get_id();
    return 0;
}

EMU_API CUresult cuStreamEndCapture(void* stream, Graph** pg) {
    LOCK;
    TRY(check_ctx());
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (!pg) return CUDA_ERROR_INVALID_VALUE;
    if (!s || !s->capture) return CUDA_ERROR_ILLEGAL_STATE;
    if (s->capture_mode != 2 && s->capture_thread != std::this_thread::get_id()) return CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD;
    Graph* g = s->capture;
    s->capture = nullptr;
    if (s->capture_invalid) {
        s->capture_invalid = false;
        delete g;
        *pg = nullptr;
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    g_graphs.insert(g);
    *pg = g;
    return 0;
}

EMU_API CUresult cuStreamIsCapturing(void* stream, int* status) {
    LOCK;
    TRY(check_ctx());
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (!status) return CUDA_ERROR_INVALID_VALUE;
    *status = !s || !s->capture ? 0 : s->capture_invalid ? 2 : 1;
    return 0;
}

// ------------------------------------------------------------------------------------------ events
// Event times are host wall-clock times of the emulation: they say nothing about GPU timing and polyv
// never reports emulated timings.

EMU_API CUresult cuEventCreate(Event** pe, unsigned flags) {
    LOCK;
    TRY(check_ctx());
    if (!pe || flags > 0xf) return CUDA_ERROR_INVALID_VALUE;
    Event* e = new Event{t_current, flags};
    g_events.insert(e);
    *pe = e;
    return 0;
}

EMU_API CUresult cuEventDestroy_v2(Event* e) {
    LOCK;
    TRY(check_ctx());
    if (!e || !g_events.count(e)) return CUDA_ERROR_INVALID_HANDLE;
    g_events.erase(e);
    delete e;
    return 0;
}

EMU_API CUresult cuEventRecord(Event* e, void* stream) {
    LOCK;
    TRY(check_ctx());
    Stream* s;
    if (!e || !g_events.count(e) || !valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (s && s->capture) return 0;   // inside a capture: orders the capture only (no timing node emulated)
    e->recorded = true;
    e->when = std::chrono::steady_clock::now();
    return 0;
}

EMU_API CUresult cuEventRecordWithFlags(Event* e, void* stream, unsigned flags) {
    (void) flags;
    return cuEventRecord(e, stream);
}

EMU_API CUresult cuEventSynchronize(Event* e) {
    LOCK;
    TRY(check_ctx(true));
    if (!e || !g_events.count(e)) return CUDA_ERROR_INVALID_HANDLE;
    TRY(capture_forbids("cuEventSynchronize"));
    return 0;
}

EMU_API CUresult cuEventQuery(Event* e) {
    LOCK;
    TRY(check_ctx(true));
    if (!e || !g_events.count(e)) return CUDA_ERROR_INVALID_HANDLE;
    TRY(capture_forbids("cuEventQuery"));
    return 0;
}

EMU_API CUresult cuEventElapsedTime(float* ms, Event* a, Event* b) {
    LOCK;
    TRY(check_ctx());
    if (!ms) return CUDA_ERROR_INVALID_VALUE;
    if (!a || !b || !g_events.count(a) || !g_events.count(b)) return CUDA_ERROR_INVALID_HANDLE;
    if ((a->flags & 2) || (b->flags & 2)) return CUDA_ERROR_INVALID_HANDLE;   // CU_EVENT_DISABLE_TIMING
    if (!a->recorded || !b->recorded) return CUDA_ERROR_NOT_READY;
    *ms = std::chrono::duration<float, std::milli>(b->when - a->when).count();
    return 0;
}

// ----------------------------------------------------------------------------------------- modules
// Any image (fatbin, cubin, PTX) is accepted: the kernels are the host-built ones of the kernel
// emulator, found by name. The image's bytes are not read.

EMU_API CUresult cuModuleLoadData(Module** pm, const void* image) {
    LOCK;
    TRY(check_ctx());
    if (!pm || !image) return CUDA_ERROR_INVALID_VALUE;
    Module* m = new Module{t_current};
    g_modules.insert(m);
    *pm = m;
    return 0;
}

EMU_API CUresult cuModuleLoadDataEx(Module** pm, const void* image, unsigned n, void* options, void** values) {
    (void) n; (void) options; (void) values;
    return cuModuleLoadData(pm, image);
}

EMU_API CUresult cuModuleLoadFatBinary(Module** pm, const void* image) { return cuModuleLoadData(pm, image); }

EMU_API CUresult cuModuleUnload(Module* m) {
    LOCK;
    TRY(check_ctx());
    if (!m || !g_modules.count(m)) return CUDA_ERROR_INVALID_HANDLE;
    for (auto it = g_functions.begin(); it != g_functions.end();) {
        if ((*it)->module == m) { delete *it; it = g_functions.erase(it); } else ++it;
    }
    g_modules.erase(m);
    delete m;
    return 0;
}

EMU_API CUresult cuModuleGetFunction(Function** pf, Module* m, const char* name) {
    LOCK;
    TRY(check_ctx());
    if (!pf || !name) return CUDA_ERROR_INVALID_VALUE;
    if (!m || !g_modules.count(m)) return CUDA_ERROR_INVALID_HANDLE;
    const polyv_emu_kernel* k = polyv_emu_find_kernel(name);
    if (!k) {
        say("cuModuleGetFunction: no host-built kernel named %s (CUDA_ERROR_NOT_FOUND)", name);
        return CUDA_ERROR_NOT_FOUND;
    }
    for (Function* f : g_functions)
        if (f->module == m && f->name == name) { *pf = f; return 0; }
    Function* f = new Function{m, k, name, 49152 - (int) polyv_emu_kernel_static_smem(k)};
    g_functions.insert(f);
    *pf = f;
    return 0;
}

EMU_API CUresult cuFuncGetAttribute(int* v, int attrib, Function* f) {
    LOCK;
    TRY(check_ctx());
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    if (!f || !g_functions.count(f)) return CUDA_ERROR_INVALID_HANDLE;
    switch (attrib) {
        case 0: *v = polyv_emu_kernel_max_threads(f->kernel); return 0;              // MAX_THREADS_PER_BLOCK
        case 1: *v = (int) polyv_emu_kernel_static_smem(f->kernel); return 0;        // SHARED_SIZE_BYTES
        case 2: *v = 0; return 0;                                                    // CONST_SIZE_BYTES
        case 3: *v = 0; return 0;                                                    // LOCAL_SIZE_BYTES
        case 4: *v = 32; return 0;                                                   // NUM_REGS (not known: a plausible value)
        case 5: *v = 90; return 0;                                                   // PTX_VERSION
        case 6: *v = 90; return 0;                                                   // BINARY_VERSION
        case 7: *v = 0; return 0;                                                    // CACHE_MODE_CA
        case 8: *v = f->max_dynamic_smem; return 0;                                  // MAX_DYNAMIC_SHARED_SIZE_BYTES
        case 9: *v = -1; return 0;                                                   // PREFERRED_SHARED_MEMORY_CARVEOUT
        default: return CUDA_ERROR_INVALID_VALUE;
    }
}

EMU_API CUresult cuFuncSetAttribute(Function* f, int attrib, int value) {
    LOCK;
    TRY(check_ctx());
    if (!f || !g_functions.count(f)) return CUDA_ERROR_INVALID_HANDLE;
    if (attrib == 8) {
        if (value < 0 || value > 232448 - (int) polyv_emu_kernel_static_smem(f->kernel)) return CUDA_ERROR_INVALID_VALUE;
        f->max_dynamic_smem = value;
        return 0;
    }
    if (attrib == 9) return value >= -1 && value <= 100 ? 0 : CUDA_ERROR_INVALID_VALUE;
    return CUDA_ERROR_INVALID_VALUE;
}

// ---------------------------------------------------------------------------------------- launches

EMU_API CUresult cuLaunchKernel(Function* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                unsigned bz, unsigned smem, void* stream, void** params, void** extra) {
    LOCK;
    TRY(check_ctx());
    if (!f || !g_functions.count(f)) return CUDA_ERROR_INVALID_HANDLE;
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (extra) {
        say("cuLaunchKernel(%s): the `extra` argument form is not emulated; pass kernelParams (CUDA_ERROR_NOT_SUPPORTED)",
            f->name.c_str());
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    int nparams = polyv_emu_kernel_param_count(f->kernel);
    if (nparams > 0 && !params) return CUDA_ERROR_INVALID_VALUE;
    // The configuration checks the real driver makes before anything runs.
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0 || gx > 2147483647u || gy > 65535 || gz > 65535
        || bx > 1024 || by > 1024 || bz > 64 || (unsigned long long) bx * by * bz > 1024) {
        say("cuLaunchKernel(%s): invalid configuration grid (%u,%u,%u) block (%u,%u,%u) (CUDA_ERROR_INVALID_VALUE)",
            f->name.c_str(), gx, gy, gz, bx, by, bz);
        return CUDA_ERROR_INVALID_VALUE;
    }
    if ((int) (bx * by * bz) > polyv_emu_kernel_max_threads(f->kernel)) {
        say("cuLaunchKernel(%s): %u threads per block exceed its launch bounds %d (CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES)",
            f->name.c_str(), bx * by * bz, polyv_emu_kernel_max_threads(f->kernel));
        return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
    }
    if ((int) smem > f->max_dynamic_smem) {
        say("cuLaunchKernel(%s): %u bytes of dynamic shared memory exceed the function's limit %d (raise it with "
            "cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)) (CUDA_ERROR_INVALID_VALUE)",
            f->name.c_str(), smem, f->max_dynamic_smem);
        return CUDA_ERROR_INVALID_VALUE;
    }
    polyv_emu_dim3 grid{gx, gy, gz}, block{bx, by, bz};
    if (s && s->capture) {
        if (s->capture_invalid) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        Node n{Node::KERNEL};
        n.kernel = f->kernel;
        n.name = f->name;
        n.grid = grid;
        n.block = block;
        n.smem = smem;
        for (int i = 0; i < nparams; i++) {
            size_t sz = polyv_emu_kernel_param_size(f->kernel, i);
            const unsigned char* p = (const unsigned char*) params[i];
            n.params.emplace_back(p, p + sz);
        }
        s->capture->nodes.push_back(std::move(n));
        return 0;
    }
    if (dropping()) return 0;
    return run_kernel(f->kernel, f->name.c_str(), grid, block, smem, params);
}

// ------------------------------------------------------------------------------------------ graphs

EMU_API CUresult cuGraphCreate(Graph** pg, unsigned flags) {
    LOCK;
    TRY(check_ctx());
    if (!pg || flags) return CUDA_ERROR_INVALID_VALUE;
    Graph* g = new Graph{t_current, {}};
    g_graphs.insert(g);
    *pg = g;
    return 0;
}

EMU_API CUresult cuGraphInstantiateWithFlags(Graph** pe, Graph* g, unsigned long long flags) {
    LOCK;
    TRY(check_ctx());
    (void) flags;
    if (!pe) return CUDA_ERROR_INVALID_VALUE;
    if (!g || !g_graphs.count(g)) return CUDA_ERROR_INVALID_HANDLE;
    Graph* e = new Graph(*g);   // an executable graph is independent of its graph once instantiated
    g_execs.insert(e);
    *pe = e;
    return 0;
}

EMU_API CUresult cuGraphLaunch(Graph* e, void* stream) {
    LOCK;
    TRY(check_ctx());
    if (!e || !g_execs.count(e)) return CUDA_ERROR_INVALID_HANDLE;
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (s && s->capture) {   // a graph launched into a capture becomes part of it
        for (auto& n : e->nodes) s->capture->nodes.push_back(n);
        return 0;
    }
    for (auto& n : e->nodes) TRY(run_node(n));
    return 0;
}

EMU_API CUresult cuGraphDestroy(Graph* g) {
    LOCK;
    TRY(check_ctx());
    if (!g || !g_graphs.count(g)) return CUDA_ERROR_INVALID_HANDLE;
    g_graphs.erase(g);
    delete g;
    return 0;
}

EMU_API CUresult cuGraphExecDestroy(Graph* e) {
    LOCK;
    TRY(check_ctx());
    if (!e || !g_execs.count(e)) return CUDA_ERROR_INVALID_HANDLE;
    g_execs.erase(e);
    delete e;
    return 0;
}

// --------------------------------------------------------------------------- entry points for cuBLAS

EMU_API int polyv_emu_driver_enqueue(void* stream, polyv_emu_host_work fn, const void* args, size_t args_bytes) {
    LOCK;
    TRY(check_ctx());
    Stream* s;
    if (!valid_stream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    Node n{Node::HOST};
    n.work = fn;
    const unsigned char* a = (const unsigned char*) args;
    n.args.assign(a, a + args_bytes);
    return submit(s, std::move(n));
}

EMU_API int polyv_emu_driver_is_device_range(const void* p, size_t bytes) {
    LOCK;
    return find_alloc((uintptr_t) p, bytes) != nullptr;
}

EMU_API void polyv_emu_driver_fault(int code, const char* message) {
    LOCK;
    if (t_current) fault(t_current, code, message);
}

EMU_API int polyv_emu_driver_context_check(void) {
    LOCK;
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!t_current || !g_ctxs.count(t_current) || !t_current->active) return CUDA_ERROR_INVALID_CONTEXT;
    return 0;
}
