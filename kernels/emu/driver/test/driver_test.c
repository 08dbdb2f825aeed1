// Tests of the emulated libcuda.so.1 / libcublas.so.13 through their C ABI. Prints one line per case
// ("ok <case>" / "FAIL <case>: ..." / "skip <case>: ...") and exits 1 when a case fails.
// Declares the entry points itself (the versioned names JCuda 12.6 uses) instead of including CUDA 13's
// cuda.h, whose macros map some of them to newer versions.
// Out-of-bounds test kernel: env POLYV_EMU_OOB_KERNEL (default emu_test_oob_write), signature
// (float* p, long long n), writing p[n].
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void* CUcontext;
typedef void* CUstream;
typedef void* CUevent;
typedef void* CUmodule;
typedef void* CUfunction;
typedef void* CUgraph;
typedef void* CUgraphExec;

CUresult cuInit(unsigned);
CUresult cuDriverGetVersion(int*);
CUresult cuDeviceGetCount(int*);
CUresult cuDeviceGet(CUdevice*, int);
CUresult cuDeviceGetName(char*, int, CUdevice);
CUresult cuDeviceGetAttribute(int*, int, CUdevice);
CUresult cuDeviceTotalMem_v2(size_t*, CUdevice);
CUresult cuDevicePrimaryCtxRetain(CUcontext*, CUdevice);
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice);
CUresult cuCtxSetCurrent(CUcontext);
CUresult cuCtxGetCurrent(CUcontext*);
CUresult cuCtxSynchronize(void);
CUresult cuMemGetInfo_v2(size_t*, size_t*);
CUresult cuMemAlloc_v2(CUdeviceptr*, size_t);
CUresult cuMemFree_v2(CUdeviceptr);
CUresult cuMemAllocHost_v2(void**, size_t);
CUresult cuMemFreeHost(void*);
CUresult cuMemcpyHtoD_v2(CUdeviceptr, const void*, size_t);
CUresult cuMemcpyDtoH_v2(void*, CUdeviceptr, size_t);
CUresult cuMemcpyDtoD_v2(CUdeviceptr, CUdeviceptr, size_t);
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr, const void*, size_t, CUstream);
CUresult cuMemcpyDtoHAsync_v2(void*, CUdeviceptr, size_t, CUstream);
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr, CUdeviceptr, size_t, CUstream);
CUresult cuMemsetD8_v2(CUdeviceptr, unsigned char, size_t);
CUresult cuMemsetD16_v2(CUdeviceptr, unsigned short, size_t);
CUresult cuMemsetD32_v2(CUdeviceptr, unsigned, size_t);
CUresult cuMemsetD8Async(CUdeviceptr, unsigned char, size_t, CUstream);
CUresult cuMemsetD32Async(CUdeviceptr, unsigned, size_t, CUstream);
CUresult cuStreamCreate(CUstream*, unsigned);
CUresult cuStreamDestroy_v2(CUstream);
CUresult cuStreamSynchronize(CUstream);
CUresult cuStreamBeginCapture_v2(CUstream, int);
CUresult cuStreamEndCapture(CUstream, CUgraph*);
CUresult cuStreamIsCapturing(CUstream, int*);
CUresult cuEventCreate(CUevent*, unsigned);
CUresult cuEventRecord(CUevent, CUstream);
CUresult cuEventSynchronize(CUevent);
CUresult cuEventElapsedTime(float*, CUevent, CUevent);
CUresult cuEventDestroy_v2(CUevent);
CUresult cuModuleLoadData(CUmodule*, const void*);
CUresult cuModuleUnload(CUmodule);
CUresult cuModuleGetFunction(CUfunction*, CUmodule, const char*);
CUresult cuFuncGetAttribute(int*, int, CUfunction);
CUresult cuLaunchKernel(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream,
                        void**, void**);
CUresult cuGraphInstantiateWithFlags(CUgraphExec*, CUgraph, unsigned long long);
CUresult cuGraphLaunch(CUgraphExec, CUstream);
CUresult cuGraphDestroy(CUgraph);
CUresult cuGraphExecDestroy(CUgraphExec);
CUresult cuGetErrorName(CUresult, const char**);
CUresult cuGetErrorString(CUresult, const char**);
CUresult cuMemcpy2D_v2(const void*);   // a stub

int cublasCreate_v2(void**);
int cublasDestroy_v2(void*);
int cublasSetStream_v2(void*, void*);
const char* cublasGetStatusName(int);
int cublasGemmEx(void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int, const void*,
                 void*, int, int, int, int);

static int failures = 0;

#define CASE(name, cond, ...) do { if (cond) printf("ok %s\n", name); else { failures++; \
    printf("FAIL %s: ", name); printf(__VA_ARGS__); printf("\n"); } fflush(stdout); } while (0)
#define EQ(name, got, want) do { long long g_ = (long long) (got), w_ = (long long) (want); \
    CASE(name, g_ == w_, "got %lld, want %lld", g_, w_); } while (0)

static CUmodule mod;

static CUresult launch_add(CUfunction f, CUstream s, CUdeviceptr a, CUdeviceptr b, CUdeviceptr out, long long n) {
    void* params[] = {&a, &b, &out, &n};
    return cuLaunchKernel(f, 2, 1, 1, 128, 1, 1, 0, s, params, NULL);
}

static CUcontext g_ctx;
static CUfunction g_add;

// One of several threads launching into the same context at once (the driver serializes them).
static void* worker(void* arg) {
    long id = (long) arg;
    enum { M = 4096 };
    static float hosts[4][M];
    float* h = hosts[id];
    CUdeviceptr x, y;
    int bad = cuCtxSetCurrent(g_ctx) | cuMemAlloc_v2(&x, M * 4) | cuMemAlloc_v2(&y, M * 4);
    for (int i = 0; i < M; i++) h[i] = (float) (i + id);
    bad |= cuMemcpyHtoD_v2(x, h, sizeof hosts[0]) | cuMemsetD32_v2(y, 0, M);
    for (int r = 0; r < 50; r++) bad |= launch_add(g_add, NULL, x, y, y, M);   // y += x, 50 times
    bad |= cuMemcpyDtoH_v2(h, y, sizeof hosts[0]) | cuMemFree_v2(x) | cuMemFree_v2(y);
    for (int i = 0; i < M; i++) bad |= h[i] != 50.0f * (float) (i + id);
    return (void*) (long) bad;
}

static uint16_t bf16(float f) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t) ((u + 0x7fff + ((u >> 16) & 1)) >> 16); }
static float from_bf16(uint16_t h) { uint32_t u = (uint32_t) h << 16; float f; memcpy(&f, &u, 4); return f; }

int main(void) {
    const char* s = NULL;
    int v = 0;
    // ---- before cuInit
    EQ("before cuInit: cuDeviceGetCount -> NOT_INITIALIZED", cuDeviceGetCount(&v), 3);
    EQ("before cuInit: cuLaunchKernel -> NOT_INITIALIZED", cuLaunchKernel(NULL, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL), 3);
    EQ("before cuInit: cuMemAlloc -> NOT_INITIALIZED", cuMemAlloc_v2(&(CUdeviceptr) {0}, 16), 3);
    // ---- init, device
    EQ("cuInit", cuInit(0), 0);
    cuDriverGetVersion(&v);
    EQ("cuDriverGetVersion", v, 13000);
    cuDeviceGetCount(&v);
    EQ("cuDeviceGetCount", v, 1);
    CUdevice dev;
    EQ("cuDeviceGet(0)", cuDeviceGet(&dev, 0), 0);
    EQ("cuDeviceGet(1) -> INVALID_DEVICE", cuDeviceGet(&dev, 1), 101);
    char name[256];
    cuDeviceGetName(name, sizeof name, dev);
    CASE("cuDeviceGetName", !strcmp(name, "polyv emulated CUDA device (sm_90)"), "got %s", name);
    int major = 0, minor = -1, sms = 0, warp = 0, optin = 0, l2 = 0;
    cuDeviceGetAttribute(&major, 75, dev);
    cuDeviceGetAttribute(&minor, 76, dev);
    cuDeviceGetAttribute(&sms, 16, dev);
    cuDeviceGetAttribute(&warp, 10, dev);
    cuDeviceGetAttribute(&optin, 97, dev);
    cuDeviceGetAttribute(&l2, 38, dev);
    CASE("device attributes (9.0, 132 SMs, warp 32, opt-in smem 232448, L2 50 MiB)",
         major == 9 && minor == 0 && sms == 132 && warp == 32 && optin == 232448 && l2 == 50 << 20,
         "%d.%d %d %d %d %d", major, minor, sms, warp, optin, l2);
    EQ("unknown attribute -> INVALID_VALUE", cuDeviceGetAttribute(&v, 100000, dev), 1);
    // ---- contexts
    CUdeviceptr d = 0;
    EQ("no current context: cuMemAlloc -> INVALID_CONTEXT", cuMemAlloc_v2(&d, 16), 201);
    CUcontext ctx = NULL, cur = NULL;
    EQ("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain(&ctx, dev), 0);
    EQ("cuCtxSetCurrent", cuCtxSetCurrent(ctx), 0);
    cuCtxGetCurrent(&cur);
    CASE("cuCtxGetCurrent", cur == ctx, "%p != %p", cur, ctx);
    // ---- memory
    size_t total = 0, free0 = 0, free1 = 0, tm = 0;
    cuMemGetInfo_v2(&free0, &total);
    cuDeviceTotalMem_v2(&tm, dev);
    CASE("cuMemGetInfo total == cuDeviceTotalMem", total == tm && free0 <= total, "%zu %zu %zu", total, tm, free0);
    enum { N = 1000 };
    CUdeviceptr a, b, out;
    EQ("cuMemAlloc", cuMemAlloc_v2(&a, N * 4) | cuMemAlloc_v2(&b, N * 4) | cuMemAlloc_v2(&out, N * 4), 0);
    CASE("allocations are 256-byte aligned", a % 256 == 0 && b % 256 == 0 && out % 256 == 0, "%llx", a);
    cuMemGetInfo_v2(&free1, &total);
    EQ("cuMemGetInfo free drops by the rounded sizes", free0 - free1, 3 * 4096);
    EQ("allocation beyond the budget -> OUT_OF_MEMORY", cuMemAlloc_v2(&d, total), 2);
    float ha[N], hb[N], hc[N];
    for (int i = 0; i < N; i++) { ha[i] = (float) i; hb[i] = 0.5f * (float) i; }
    cuMemcpyHtoD_v2(a, ha, sizeof ha);
    cuMemcpyHtoD_v2(b, hb, sizeof hb);
    cuMemcpyDtoD_v2(out, a, sizeof ha);
    memset(hc, 0, sizeof hc);
    cuMemcpyDtoH_v2(hc, out, sizeof hc);
    CASE("memcpy HtoD / DtoD / DtoH round trip", !memcmp(hc, ha, sizeof ha), "mismatch");
    cuMemsetD32_v2(out, 0x3f800000u, N);
    cuMemcpyDtoH_v2(hc, out, sizeof hc);
    CASE("cuMemsetD32", hc[0] == 1.0f && hc[N - 1] == 1.0f, "%f %f", hc[0], hc[N - 1]);
    cuMemsetD16_v2(out, 0x4000, 2 * N);   // bf16-ish halves: 0x40004000 as float
    uint32_t w;
    cuMemcpyDtoH_v2(&w, out + 4 * (N - 1), 4);
    EQ("cuMemsetD16", w, 0x40004000u);
    cuMemsetD8_v2(out, 0xab, 4 * N);
    cuMemcpyDtoH_v2(&w, out + 8, 4);
    EQ("cuMemsetD8", w, 0xababababu);
    EQ("memcpy HtoD past the end of an allocation -> INVALID_VALUE", cuMemcpyHtoD_v2(a + 8, ha, sizeof ha), 1);
    EQ("memcpy DtoH from a non-device address -> INVALID_VALUE", cuMemcpyDtoH_v2(hc, (CUdeviceptr) (uintptr_t) hc, 4), 1);
    EQ("memset past the end -> INVALID_VALUE", cuMemsetD32_v2(a, 0, N + 1), 1);
    void* pinned = NULL;
    EQ("cuMemAllocHost / cuMemFreeHost", cuMemAllocHost_v2(&pinned, 4096) | cuMemFreeHost(pinned), 0);
    // ---- modules and launches
    static const char image[] = "// any bytes: the emulator finds kernels by name\n.version 8.0\n";
    EQ("cuModuleLoadData", cuModuleLoadData(&mod, image), 0);
    CUfunction add = NULL, f = NULL;
    EQ("cuModuleGetFunction(add_f32)", cuModuleGetFunction(&add, mod, "add_f32"), 0);
    EQ("cuModuleGetFunction(unknown) -> NOT_FOUND", cuModuleGetFunction(&f, mod, "no_such_kernel"), 500);
    EQ("cuFuncGetAttribute(MAX_THREADS_PER_BLOCK) > 0", cuFuncGetAttribute(&v, 0, add) == 0 && v > 0, 1);
    EQ("cuLaunchKernel(add_f32)", launch_add(add, NULL, a, b, out, N), 0);
    cuMemcpyDtoH_v2(hc, out, sizeof hc);
    int okc = 1;
    for (int i = 0; i < N; i++) okc &= hc[i] == 1.5f * (float) i;
    CASE("add_f32 result", okc, "hc[1]=%f", hc[1]);
    {
        long long n = N;
        void* params[] = {&a, &b, &out, &n};
        EQ("block of 2048 threads -> INVALID_VALUE", cuLaunchKernel(add, 1, 1, 1, 2048, 1, 1, 0, NULL, params, NULL), 1);
        EQ("grid y 65536 -> INVALID_VALUE", cuLaunchKernel(add, 1, 65536, 1, 32, 1, 1, 0, NULL, params, NULL), 1);
        EQ("dynamic smem over 48 KiB without opt-in -> INVALID_VALUE",
           cuLaunchKernel(add, 1, 1, 1, 32, 1, 1, 64 << 10, NULL, params, NULL), 1);
        void* extra[] = {NULL};
        EQ("extra argument -> NOT_SUPPORTED", cuLaunchKernel(add, 1, 1, 1, 32, 1, 1, 0, NULL, NULL, extra), 801);
        EQ("launch of a bad function handle -> INVALID_HANDLE", cuLaunchKernel((CUfunction) hc, 1, 1, 1, 32, 1, 1, 0, NULL, params, NULL), 400);
    }
    {
        g_ctx = ctx;
        g_add = add;
        pthread_t th[4];
        long bad = 0;
        for (long i = 0; i < 4; i++) pthread_create(&th[i], NULL, worker, (void*) i);
        for (int i = 0; i < 4; i++) { void* r; pthread_join(th[i], &r); bad |= (long) r; }
        CASE("4 threads launching concurrently", bad == 0, "a thread saw wrong results or errors");
    }
    // ---- streams and events
    CUstream st = NULL;
    CUevent e0 = NULL, e1 = NULL;
    EQ("cuStreamCreate", cuStreamCreate(&st, 1), 0);
    EQ("cuEventCreate", cuEventCreate(&e0, 0) | cuEventCreate(&e1, 0), 0);
    cuEventRecord(e0, st);
    cuMemsetD32Async(out, 0, N, st);
    cuMemcpyHtoDAsync_v2(a, hb, sizeof hb, st);
    launch_add(add, st, a, b, out, N);
    cuMemcpyDtoHAsync_v2(hc, out, sizeof hc, st);
    cuEventRecord(e1, st);
    EQ("cuEventSynchronize", cuEventSynchronize(e1), 0);
    EQ("cuStreamSynchronize", cuStreamSynchronize(st), 0);
    float ms = -1;
    EQ("cuEventElapsedTime", cuEventElapsedTime(&ms, e0, e1), 0);
    CASE("elapsed time >= 0", ms >= 0, "%f", ms);
    CASE("stream work in order", hc[10] == 10.0f && hc[N - 1] == (float) (N - 1), "%f", hc[10]);
    EQ("bad event handle -> INVALID_HANDLE", cuEventSynchronize((CUevent) hc), 400);
    EQ("bad stream handle -> INVALID_HANDLE", cuStreamSynchronize((CUstream) hc), 400);
    // ---- graphs: memset + HtoD + kernel + DtoD captured, replayed twice with new inputs
    CUgraph g = NULL;
    CUgraphExec ge = NULL;
    int cap = -1;
    EQ("cuStreamBeginCapture", cuStreamBeginCapture_v2(st, 1), 0);
    cuStreamIsCapturing(st, &cap);
    EQ("cuStreamIsCapturing active", cap, 1);
    cuMemsetD32Async(out, 0, N, st);
    EQ("launch during capture", launch_add(add, st, a, b, out, N), 0);
    cuMemcpyDtoDAsync_v2(b, out, N * 4, st);   // b = a + b: the second replay sees the first one's result
    EQ("cuStreamEndCapture", cuStreamEndCapture(st, &g), 0);
    EQ("cuGraphInstantiate", cuGraphInstantiateWithFlags(&ge, g, 0), 0);
    for (int i = 0; i < N; i++) { ha[i] = 1.0f; hb[i] = (float) i; }
    cuMemcpyHtoD_v2(a, ha, sizeof ha);
    cuMemcpyHtoD_v2(b, hb, sizeof hb);
    cuMemcpyDtoH_v2(hc, out, sizeof hc);
    CASE("captured work did not run at capture", hc[5] != 6.0f, "ran");
    EQ("cuGraphLaunch #1", cuGraphLaunch(ge, st), 0);
    EQ("cuGraphLaunch #2", cuGraphLaunch(ge, st), 0);
    cuStreamSynchronize(st);
    cuMemcpyDtoH_v2(hc, out, sizeof hc);
    CASE("graph replayed twice", hc[5] == 7.0f && hc[N - 1] == (float) (N + 1), "hc[5]=%f", hc[5]);
    EQ("cuGraphExecDestroy + cuGraphDestroy", cuGraphExecDestroy(ge) | cuGraphDestroy(g), 0);
    // an unsafe call during capture invalidates it
    cuStreamBeginCapture_v2(st, 1);
    EQ("blocking memcpy during capture -> STREAM_CAPTURE_UNSUPPORTED", cuMemcpyHtoD_v2(a, ha, 4), 900);
    EQ("cuStreamEndCapture after it -> STREAM_CAPTURE_INVALIDATED", cuStreamEndCapture(st, &g), 901);
    EQ("capture of the legacy stream -> STREAM_CAPTURE_UNSUPPORTED", cuStreamBeginCapture_v2(NULL, 1), 900);
    // captured host copies: page-locked memory is read at each replay; pageable memory is refused
    {
        float* pin = NULL;
        cuMemAllocHost_v2((void**) &pin, 4);
        cuStreamBeginCapture_v2(st, 1);
        cuMemcpyHtoDAsync_v2(a, pin, 4, st);
        EQ("capture of a page-locked HtoD copy", cuStreamEndCapture(st, &g), 0);
        cuGraphInstantiateWithFlags(&ge, g, 0);
        pin[0] = 42.0f;
        cuGraphLaunch(ge, st);
        float got = 0;
        cuMemcpyDtoH_v2(&got, a, 4);
        CASE("replayed HtoD reads the host memory at replay", got == 42.0f, "%f", got);
        cuGraphExecDestroy(ge);
        cuGraphDestroy(g);
        cuMemFreeHost(pin);
        cuStreamBeginCapture_v2(st, 1);
        EQ("capture of a pageable HtoD copy -> STREAM_CAPTURE_UNSUPPORTED", cuMemcpyHtoDAsync_v2(a, ha, 4, st), 900);
        EQ("... and the capture is invalidated", cuStreamEndCapture(st, &g), 901);
    }
    // ---- error names, stubs
    cuGetErrorName(700, &s);
    CASE("cuGetErrorName(700)", s && !strcmp(s, "CUDA_ERROR_ILLEGAL_ADDRESS"), "%s", s ? s : "(null)");
    cuGetErrorString(1, &s);
    CASE("cuGetErrorString(1)", s && !strcmp(s, "invalid argument"), "%s", s ? s : "(null)");
    EQ("a stub returns NOT_SUPPORTED", cuMemcpy2D_v2(NULL), 801);
    // ---- cuBLAS GEMM: out[n,m] = x[n,k] . w[m,k]^T as Cublas.gemmRowMajor calls it (T, N), fp32 and bf16
    {
        void* h = NULL;
        EQ("cublasCreate_v2", cublasCreate_v2(&h), 0);
        EQ("cublasSetStream_v2", cublasSetStream_v2(h, st), 0);
        enum { GN = 3, GK = 5, GM = 4 };
        float x[GN * GK], wt[GM * GK], ref[GN * GM], got[GN * GM];
        uint16_t xb[GN * GK], wb[GM * GK];
        for (int i = 0; i < GN * GK; i++) { x[i] = (float) (i % 7) - 2.5f; xb[i] = bf16(x[i]); }
        for (int i = 0; i < GM * GK; i++) { wt[i] = 0.25f * (float) (i % 5) - 0.5f; wb[i] = bf16(wt[i]); }
        CUdeviceptr dx, dw, dout, dxb, dwb;
        cuMemAlloc_v2(&dx, sizeof x); cuMemAlloc_v2(&dw, sizeof wt); cuMemAlloc_v2(&dout, sizeof got);
        cuMemAlloc_v2(&dxb, sizeof xb); cuMemAlloc_v2(&dwb, sizeof wb);
        cuMemcpyHtoD_v2(dx, x, sizeof x); cuMemcpyHtoD_v2(dw, wt, sizeof wt);
        cuMemcpyHtoD_v2(dxb, xb, sizeof xb); cuMemcpyHtoD_v2(dwb, wb, sizeof wb);
        float one = 1.0f, zero = 0.0f;
        for (int t = 0; t < 2; t++) {
            for (int r = 0; r < GN; r++)
                for (int c = 0; c < GM; c++) {
                    float acc = 0;
                    for (int p = 0; p < GK; p++)
                        acc += (t ? from_bf16(xb[r * GK + p]) : x[r * GK + p]) * (t ? from_bf16(wb[c * GK + p]) : wt[c * GK + p]);
                    ref[r * GM + c] = acc;
                }
            int type = t ? 14 : 0;
            int st_ = cublasGemmEx(h, 1, 0, GM, GN, GK, &one, (void*) (uintptr_t) (t ? dwb : dw), type, GK,
                                   (void*) (uintptr_t) (t ? dxb : dx), type, GK, &zero, (void*) (uintptr_t) dout, 0, GM, 68, -1);
            cuStreamSynchronize(st);
            cuMemcpyDtoH_v2(got, dout, sizeof got);
            int good = st_ == 0;
            for (int i = 0; i < GN * GM; i++) good &= fabsf(got[i] - ref[i]) < 1e-5f;
            CASE(t ? "cublasGemmEx bf16 (T,N)" : "cublasGemmEx fp32 (T,N)", good, "status %d got[0]=%f ref[0]=%f", st_, got[0], ref[0]);
        }
        EQ("cublasGemmEx with fp64 -> NOT_SUPPORTED",
           cublasGemmEx(h, 1, 0, GM, GN, GK, &one, (void*) (uintptr_t) dw, 1, GK, (void*) (uintptr_t) dx, 1, GK, &zero,
                        (void*) (uintptr_t) dout, 1, GM, 68, -1), 15);
        CASE("cublasGetStatusName", !strcmp(cublasGetStatusName(15), "CUBLAS_STATUS_NOT_SUPPORTED"), "%s", cublasGetStatusName(15));
        EQ("cublasDestroy_v2", cublasDestroy_v2(h), 0);
        cuMemFree_v2(dx); cuMemFree_v2(dw); cuMemFree_v2(dout); cuMemFree_v2(dxb); cuMemFree_v2(dwb);
    }
    // ---- sticky asynchronous fault
    const char* oob_name = getenv("POLYV_EMU_OOB_KERNEL") ? getenv("POLYV_EMU_OOB_KERNEL") : "emu_test_oob_write";
    CUfunction oob = NULL;
    if (cuModuleGetFunction(&oob, mod, oob_name) != 0) {
        printf("skip sticky illegal-address fault: the kernel archive has no %s\n", oob_name);
    } else {
        long long n = N;
        void* params[] = {&a, &n};
        EQ("faulting launch returns success (asynchronous)", cuLaunchKernel(oob, 1, 1, 1, 1, 1, 1, 0, st, params, NULL), 0);
        memset(hc, 0, sizeof hc);
        EQ("async memcpy after the fault, before a sync: success", cuMemcpyDtoHAsync_v2(hc, a, 4, st), 0);
        CASE("... and dropped", hc[0] == 0.0f, "hc[0]=%f", hc[0]);
        EQ("next synchronizing call -> ILLEGAL_ADDRESS", cuStreamSynchronize(st), 700);
        EQ("sticky: cuMemAlloc -> ILLEGAL_ADDRESS", cuMemAlloc_v2(&d, 16), 700);
        EQ("sticky: cuCtxSynchronize -> ILLEGAL_ADDRESS", cuCtxSynchronize(), 700);
        EQ("sticky: add_f32 launch -> ILLEGAL_ADDRESS", launch_add(add, NULL, a, b, out, N), 700);
        EQ("release of the primary context", cuDevicePrimaryCtxRelease_v2(dev), 0);
        cuDevicePrimaryCtxRetain(&ctx, dev);
        cuCtxSetCurrent(ctx);
        EQ("a fresh primary context works again", cuMemAlloc_v2(&d, 16) | cuMemFree_v2(d), 0);
    }
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
