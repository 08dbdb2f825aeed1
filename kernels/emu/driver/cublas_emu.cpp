// polyv emulated cuBLAS: a stand-in libcublas.so.13 with what polyv's Cublas.java calls through Panama
// (cublasCreate_v2, cublasDestroy_v2, cublasSetStream_v2, cublasGetStatusName, cublasGemmEx) plus
// cublasGetStatusString and cublasGetStream_v2. GEMMs run on the host in fp32 (inputs converted to float,
// accumulated in float in a fixed order: p = 0..k-1), through the emulated driver: on the handle's stream,
// recorded into a graph when that stream captures, dropped after an unreported kernel fault, and an
// operand outside the live device allocations poisons the context with CUDA_ERROR_ILLEGAL_ADDRESS (an
// asynchronous fault, like a real GEMM kernel reading out of bounds). Pointer mode is host; TF32 and
// fp16/bf16 "fast" compute types are computed in plain fp32 too.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "polyv_emu_driver.h"

#define BLAS_API extern "C" __attribute__((visibility("default")))

enum {
    ST_SUCCESS = 0, ST_NOT_INITIALIZED = 1, ST_ALLOC_FAILED = 3, ST_INVALID_VALUE = 7, ST_ARCH_MISMATCH = 8,
    ST_MAPPING_ERROR = 11, ST_EXECUTION_FAILED = 13, ST_INTERNAL_ERROR = 14, ST_NOT_SUPPORTED = 15,
    ST_LICENSE_ERROR = 16,
};
enum { R_32F = 0, R_16F = 2, R_16BF = 14 };
enum { OP_N = 0, OP_T = 1, OP_C = 2 };

namespace {

const uint32_t kMagic = 0x706f6c79;   // "poly"

struct Handle {
    uint32_t magic;
    void* stream;
};

struct Gemm {
    int ta, tb, m, n, k;
    float alpha, beta;
    const void* a; int atype, lda;
    const void* b; int btype, ldb;
    void* c; int ctype, ldc;
};

void say(const char* fmt, const char* a, int x = 0, int y = 0, int z = 0) {
    std::fputs("polyv emulated cuBLAS: ", stderr);
    std::fprintf(stderr, fmt, a, x, y, z);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}

inline float bf16_to_float(uint16_t h) {
    uint32_t u = (uint32_t) h << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline float f16_to_float(uint16_t h) {
    uint32_t sign = (uint32_t) (h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, u;
    if (exp == 0) {
        if (mant == 0) u = sign;
        else {   // subnormal
            int e = -1;
            do { e++; mant <<= 1; } while (!(mant & 0x400));
            u = sign | (uint32_t) (127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
        }
    } else if (exp == 31) u = sign | 0x7f800000u | mant << 13;
    else u = sign | (exp + 112) << 23 | mant << 13;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline uint16_t float_to_bf16(float f) {   // round to nearest even
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t) ((u >> 16) | 0x40);
    return (uint16_t) ((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

inline uint16_t float_to_f16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000;
    int32_t exp = (int32_t) ((u >> 23) & 0xff) - 127 + 15;
    uint32_t mant = u & 0x7fffff;
    if (((u >> 23) & 0xff) == 0xff) return (uint16_t) (sign | 0x7c00 | (mant ? 0x200 : 0));
    if (exp >= 31) return (uint16_t) (sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t) sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t) (14 - exp);
        uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t) (sign | half);
    }
    uint32_t half = sign | (uint32_t) exp << 10 | mant >> 13, rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
    return (uint16_t) half;
}

inline size_t elem_size(int t) { return t == R_32F ? 4 : 2; }

inline float load(const void* p, int t, size_t i) {
    if (t == R_32F) return ((const float*) p)[i];
    if (t == R_16BF) return bf16_to_float(((const uint16_t*) p)[i]);
    return f16_to_float(((const uint16_t*) p)[i]);
}

// Bytes spanned by a column-major rows x cols matrix with leading dimension ld.
inline size_t span(int rows, int cols, int ld, int t) {
    if (rows == 0 || cols == 0) return 0;
    return ((size_t) ld * (size_t) (cols - 1) + (size_t) rows) * elem_size(t);
}

void run_gemm(const void* argp) {
    const Gemm& g = *(const Gemm*) argp;
    int ar = g.ta == OP_N ? g.m : g.k, ac = g.ta == OP_N ? g.k : g.m;
    int br = g.tb == OP_N ? g.k : g.n, bc = g.tb == OP_N ? g.n : g.k;
    const char* bad = nullptr;
    if (g.k > 0 && !polyv_emu_driver_is_device_range(g.a, span(ar, ac, g.lda, g.atype))) bad = "A";
    else if (g.k > 0 && !polyv_emu_driver_is_device_range(g.b, span(br, bc, g.ldb, g.btype))) bad = "B";
    else if (!polyv_emu_driver_is_device_range(g.c, span(g.m, g.n, g.ldc, g.ctype))) bad = "C";
    if (bad) {
        char msg[256];
        std::snprintf(msg, sizeof msg, "cublasGemmEx(m=%d, n=%d, k=%d): matrix %s is not inside a live device "
                      "allocation: illegal address", g.m, g.n, g.k, bad);
        polyv_emu_driver_fault(700, msg);
        return;
    }
    for (int j = 0; j < g.n; j++) {
        for (int i = 0; i < g.m; i++) {
            float acc = 0.0f;
            for (int p = 0; p < g.k; p++) {
                size_t ai = g.ta == OP_N ? (size_t) i + (size_t) p * g.lda : (size_t) p + (size_t) i * g.lda;
                size_t bi = g.tb == OP_N ? (size_t) p + (size_t) j * g.ldb : (size_t) j + (size_t) p * g.ldb;
                acc += load(g.a, g.atype, ai) * load(g.b, g.btype, bi);
            }
            size_t ci = (size_t) i + (size_t) j * g.ldc;
            float v = g.alpha * acc;
            if (g.beta != 0.0f) v += g.beta * load(g.c, g.ctype, ci);   // beta == 0: C is not read (NaN-safe)
            if (g.ctype == R_32F) ((float*) g.c)[ci] = v;
            else if (g.ctype == R_16BF) ((uint16_t*) g.c)[ci] = float_to_bf16(v);
            else ((uint16_t*) g.c)[ci] = float_to_f16(v);
        }
    }
}

Handle* handle_of(void* h) {
    Handle* x = (Handle*) h;
    return x && x->magic == kMagic ? x : nullptr;
}

}  // namespace

BLAS_API int cublasCreate_v2(void** out) {
    if (!out) return ST_INVALID_VALUE;
    if (polyv_emu_driver_context_check() != 0) {
        say("%s", "cublasCreate_v2: no current CUDA context (CUBLAS_STATUS_NOT_INITIALIZED)");
        return ST_NOT_INITIALIZED;
    }
    Handle* h = new Handle{kMagic, nullptr};
    *out = h;
    return ST_SUCCESS;
}

BLAS_API int cublasDestroy_v2(void* h) {
    Handle* x = handle_of(h);
    if (!x) return ST_NOT_INITIALIZED;
    x->magic = 0;
    delete x;
    return ST_SUCCESS;
}

BLAS_API int cublasSetStream_v2(void* h, void* stream) {
    Handle* x = handle_of(h);
    if (!x) return ST_NOT_INITIALIZED;
    x->stream = stream;
    return ST_SUCCESS;
}

BLAS_API int cublasGetStream_v2(void* h, void** stream) {
    Handle* x = handle_of(h);
    if (!x) return ST_NOT_INITIALIZED;
    if (!stream) return ST_INVALID_VALUE;
    *stream = x->stream;
    return ST_SUCCESS;
}

BLAS_API const char* cublasGetStatusName(int s) {
    switch (s) {
        case ST_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case ST_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case ST_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        case ST_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case ST_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case ST_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
        case ST_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case ST_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
        case ST_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        case ST_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
        default: return "CUBLAS_STATUS_UNKNOWN";
    }
}

BLAS_API const char* cublasGetStatusString(int s) {
    switch (s) {
        case ST_SUCCESS: return "success";
        case ST_NOT_INITIALIZED: return "the library was not initialized";
        case ST_ALLOC_FAILED: return "the resource allocation failed";
        case ST_INVALID_VALUE: return "an invalid numeric value was used as an argument";
        case ST_ARCH_MISMATCH: return "an absent device architectural feature is required";
        case ST_MAPPING_ERROR: return "an access to GPU memory space failed";
        case ST_EXECUTION_FAILED: return "the GPU program failed to execute";
        case ST_INTERNAL_ERROR: return "an internal operation failed";
        case ST_NOT_SUPPORTED: return "the functionality requested is not supported";
        case ST_LICENSE_ERROR: return "error detected trying to check the license";
        default: return "unknown error";
    }
}

// cublasComputeType_t: CUBLAS_COMPUTE_32F 68, _32F_PEDANTIC 69, _32F_FAST_16F 74, _32F_FAST_16BF 75,
// _32F_FAST_TF32 77 (all computed in plain fp32 here).
static bool fp32_compute(int c) { return c == 68 || c == 69 || c == 74 || c == 75 || c == 77; }

BLAS_API int cublasGemmEx(void* h, int transa, int transb, int m, int n, int k, const void* alpha, const void* A,
                          int Atype, int lda, const void* B, int Btype, int ldb, const void* beta, void* C, int Ctype,
                          int ldc, int computeType, int algo) {
    Handle* x = handle_of(h);
    if (!x) return ST_NOT_INITIALIZED;
    if ((transa != OP_N && transa != OP_T) || (transb != OP_N && transb != OP_T)) {
        say("cublasGemmEx: op %s (only N and T are emulated) (CUBLAS_STATUS_NOT_SUPPORTED)",
            transa != OP_N && transa != OP_T ? "A" : "B");
        return transa == OP_C || transb == OP_C ? ST_NOT_SUPPORTED : ST_INVALID_VALUE;
    }
    bool types_ok = fp32_compute(computeType) && Atype == Btype && (Atype == R_32F || Atype == R_16BF || Atype == R_16F)
                    && (Ctype == R_32F || Ctype == Atype);
    if (!types_ok) {
        std::fprintf(stderr, "polyv emulated cuBLAS: cublasGemmEx with A type %d, B type %d, C type %d, compute type %d "
                     "is not emulated (CUBLAS_STATUS_NOT_SUPPORTED)\n", Atype, Btype, Ctype, computeType);
        return ST_NOT_SUPPORTED;
    }
    if (m < 0 || n < 0 || k < 0) return ST_INVALID_VALUE;
    int arows = transa == OP_N ? m : k, brows = transb == OP_N ? k : n;
    if (lda < (arows > 1 ? arows : 1) || ldb < (brows > 1 ? brows : 1) || ldc < (m > 1 ? m : 1)) return ST_INVALID_VALUE;
    if (!alpha || !beta) return ST_INVALID_VALUE;
    if (m == 0 || n == 0) return ST_SUCCESS;
    (void) algo;   // any algorithm: one fixed host loop
    Gemm g{transa, transb, m, n, k, *(const float*) alpha, *(const float*) beta, A, Atype, lda, B, Btype, ldb, C, Ctype, ldc};
    int r = polyv_emu_driver_enqueue(x->stream, run_gemm, &g, sizeof g);
    if (r != 0) {
        say("%scublasGemmEx: the driver refused the work (CUresult %d) (CUBLAS_STATUS_EXECUTION_FAILED)", "", r);
        return ST_EXECUTION_FAILED;
    }
    return ST_SUCCESS;
}
