// Self-test of the kernel emulator: good test kernels against CPU references, broken test kernels
// reported with the expected code, real kernels on small shapes against CPU references.
// One line per case; exit status 1 on any failure.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <functional>
#include <tuple>
#include <string>
#include <vector>

#include "polyv_emu.h"

static int g_fail = 0, g_pass = 0;

static void result(bool ok, const std::string& name, const std::string& detail) {
    printf("%s %-44s %s\n", ok ? "PASS" : "FAIL", name.c_str(), detail.c_str());
    (ok ? g_pass : g_fail)++;
}

// Device buffer stand-in: host memory registered as an allocation.
template <class T>
struct Buf {
    std::vector<T> v;
    explicit Buf(size_t n, T init = T()) : v(n, init) { polyv_emu_register_allocation(v.data(), n * sizeof(T)); }
    Buf(const std::vector<T>& x) : v(x) { polyv_emu_register_allocation(v.data(), v.size() * sizeof(T)); }
    ~Buf() { polyv_emu_unregister_allocation(v.data()); }
    T* p() { return v.data(); }
    T& operator[](size_t i) { return v[i]; }
};

static uint16_t bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}
static float bf2f(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t rng_state = 12345;
static float frand() {  // [-1, 1)
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}

struct Run {
    int rc;
    std::string err;
};

static Run launch(const char* name, polyv_emu_dim3 g, polyv_emu_dim3 b, std::vector<void*> params, unsigned dyn = 0) {
    const polyv_emu_kernel* k = polyv_emu_find_kernel(name);
    if (!k) return {-1, std::string("kernel not registered: ") + name};
    char err[2048];
    int rc = polyv_emu_launch(k, g, b, dyn, params.data(), err, sizeof err);
    return {rc, err};
}

template <class... A>
static Run launchk(const char* name, polyv_emu_dim3 g, polyv_emu_dim3 b, A... a) {
    std::tuple<A...> args(a...);
    std::vector<void*> ps;
    std::apply([&](auto&... x) { (ps.push_back(&x), ...); }, args);
    return launch(name, g, b, ps);
}

static bool close(float a, float b, float tol) { return fabsf(a - b) <= tol * (1.0f + fabsf(b)); }

// ---- good test kernels -----------------------------------------------------------------------
static void test_good() {
    {  // block_sum
        Buf<float> x(4 * 256), out(4);
        std::vector<double> ref(4, 0);
        for (int i = 0; i < 4 * 256; ++i) x[i] = frand(), ref[i / 256] += x[i];
        Run r = launchk("emu_test_block_sum", {4, 1, 1}, {256, 1, 1}, x.p(), out.p());
        bool ok = r.rc == 0;
        for (int b = 0; b < 4 && ok; ++b) ok = close(out[b], (float)ref[b], 1e-4f);
        result(ok, "good emu_test_block_sum", r.rc ? r.err : "");
    }
}


static void test_good2() {
    std::vector<uint16_t> a(256), b(128);
    std::vector<float> af(256), bfv(128);
    for (int i = 0; i < 256; ++i) a[i] = bf16(frand()), af[i] = bf2f(a[i]);
    for (int i = 0; i < 128; ++i) b[i] = bf16(frand()), bfv[i] = bf2f(b[i]);
    for (uint64_t seed : {1, 2, 3}) {
        polyv_emu_set_seed(seed);
        Buf<uint16_t> A(a), B(b);
        Buf<float> C(128);
        Run r = launchk("emu_test_mma_tile", {1, 1, 1}, {32, 1, 1}, A.p(), B.p(), C.p());
        bool ok = r.rc == 0;
        for (int m = 0; m < 16 && ok; ++m)
            for (int n = 0; n < 8 && ok; ++n) {
                double ref = 0;
                for (int k = 0; k < 16; ++k) ref += (double)af[m * 16 + k] * bfv[n * 16 + k];
                ok = close(C[m * 8 + n], (float)ref, 1e-5f);
            }
        result(ok, "good emu_test_mma_tile seed " + std::to_string(seed), r.rc ? r.err : "");
    }
    for (int trans = 0; trans < 2; ++trans) {
        Buf<uint16_t> A(a);
        Buf<unsigned> out(128);
        Run r = launchk("emu_test_ldmatrix", {1, 1, 1}, {32, 1, 1}, A.p(), trans, out.p());
        bool ok = r.rc == 0;
        // matrix i: rows (i & 1) * 8 .. of the tile, columns (i >> 1) * 8 .. (lanes 0..15 rows, 16..31 +8 cols)
        for (int lane = 0; lane < 32 && ok; ++lane)
            for (int i = 0; i < 4 && ok; ++i) {
                const int r0 = (i & 1) * 8, c0 = (i >> 1) * 8, g = lane / 4, t = lane % 4;
                unsigned lo, hi;
                if (!trans) lo = a[(r0 + g) * 16 + c0 + 2 * t], hi = a[(r0 + g) * 16 + c0 + 2 * t + 1];
                else lo = a[(r0 + 2 * t) * 16 + c0 + g], hi = a[(r0 + 2 * t + 1) * 16 + c0 + g];
                ok = out[lane * 4 + i] == (lo | (hi << 16));
            }
        result(ok, std::string("good emu_test_ldmatrix") + (trans ? " .trans" : ""), r.rc ? r.err : "");
    }
    {
        std::vector<int> x(32);
        for (int i = 0; i < 32; ++i) x[i] = (i * 37 + 11) % 101;
        Buf<int> X(x), out(256);
        Run r = launchk("emu_test_shuffles", {1, 1, 1}, {32, 1, 1}, X.p(), out.p());
        bool ok = r.rc == 0;
        unsigned ballot = 0;
        for (int l = 0; l < 32; ++l) ballot |= (unsigned)(x[l] & 1) << l;
        for (int l = 0; l < 32 && ok; ++l) {
            const int* o = &out[l * 8];
            unsigned match = 0;
            for (int j = 0; j < 32; ++j) match |= (unsigned)(x[j] % 3 == x[l] % 3) << j;
            const int seg8 = l & ~7, seg16 = l & ~15;
            ok = o[0] == x[(l * 7) & 31] && o[1] == (l >= 3 ? x[l - 3] : x[l]) &&
                 o[2] == ((l - seg8) + 5 < 8 ? x[l + 5] : x[l]) && o[3] == x[l ^ 9] && o[4] == x[seg16 + 5] &&
                 (unsigned)o[5] == ballot && (unsigned)o[6] == match && o[7] == (l < 16 ? x[l ^ 1] : -1);
            if (!ok) printf("  lane %d: %d %d %d %d %d %x %x %d\n", l, o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]);
        }
        result(ok, "good emu_test_shuffles", r.rc ? r.err : "");
    }
}

// ---- broken test kernels: must be reported -------------------------------------------------------
static void expect(const std::string& name, int code, const Run& r, const char* needle) {
    bool ok = r.rc == code && r.err.find(name.substr(0, name.find(' '))) != std::string::npos &&
              (!needle || r.err.find(needle) != std::string::npos);
    result(ok, "broken " + name + " -> " + std::to_string(code), "rc=" + std::to_string(r.rc) + " " + r.err);
}

static void test_broken() {
    Buf<float> x(64, 1.0f), out(64);
    for (uint64_t seed : {1, 7, 99}) {
        polyv_emu_set_seed(seed);
        const std::string s = " seed " + std::to_string(seed);
        expect("emu_test_missing_sync" + s, 719, launchk("emu_test_missing_sync", {1, 1, 1}, {64, 1, 1}, x.p(), out.p()),
               nullptr);
        expect("emu_test_shared_race" + s, 719, launchk("emu_test_shared_race", {1, 1, 1}, {64, 1, 1}, out.p()), "race");
        std::vector<int> xi(32, 1);
        Buf<int> X(xi), O(32);
        expect("emu_test_partial_shuffle" + s, 719, launchk("emu_test_partial_shuffle", {1, 1, 1}, {32, 1, 1}, X.p(), O.p()),
               "lane");
    }
    polyv_emu_set_seed(1);
    expect("emu_test_uninit_shared", 719, launchk("emu_test_uninit_shared", {1, 1, 1}, {64, 1, 1}, out.p()), "never written");
    expect("emu_test_oob_write", 700, launchk("emu_test_oob_write", {1, 1, 1}, {64, 1, 1}, out.p(), 64), "illegal address");
    expect("emu_test_oob_read", 700, launchk("emu_test_oob_read", {1, 1, 1}, {64, 1, 1}, x.p(), out.p(), 64), "illegal address");
    expect("emu_test_divergent_sync", 719, launchk("emu_test_divergent_sync", {1, 1, 1}, {64, 1, 1}, out.p()), "divergent");
    {
        Buf<int> O(32);
        expect("emu_test_deadlock", 719, launchk("emu_test_deadlock", {1, 1, 1}, {32, 1, 1}, O.p()), nullptr);
    }
    expect("emu_test_launch_bounds", 701, launchk("emu_test_launch_bounds", {1, 1, 1}, {256, 1, 1}, out.p()), "launch_bounds");
    expect("emu_test_launch_bounds 2048 threads", 1, launchk("emu_test_launch_bounds", {1, 1, 1}, {2048, 1, 1}, out.p()), nullptr);
    expect("emu_test_launch_bounds grid.y", 1, launchk("emu_test_launch_bounds", {1, 70000, 1}, {32, 1, 1}, out.p()), nullptr);
    {
        std::vector<uint16_t> a(256);
        for (int i = 0; i < 256; ++i) a[i] = (uint16_t)i;
        Buf<uint16_t> A(a);
        Buf<unsigned> O(128);
        expect("emu_test_ldmatrix_bad_rows", 719, launchk("emu_test_ldmatrix_bad_rows", {1, 1, 1}, {32, 1, 1}, A.p(), 0, O.p()),
               "never written");
        Run r = launchk("emu_test_ldmatrix_bad_rows", {1, 1, 1}, {32, 1, 1}, A.p(), 1, O.p());
        bool wrong = false;  // lane 0's first register should be row 0, cols 0..1 = (0, 1)
        if (r.rc == 0) wrong = O[0] != (0u | (1u << 16));
        result(r.rc == 0 && wrong, "broken emu_test_ldmatrix_bad_rows (padded) -> wrong result vs CPU ref", r.err);
        Buf<float> F(32);
        expect("emu_test_cp_async_no_wait", 719, launchk("emu_test_cp_async_no_wait", {1, 1, 1}, {32, 1, 1}, A.p(), F.p()),
               "cp.async");
    }
    {
        const polyv_emu_kernel* k = polyv_emu_find_kernel("expert_gate_up_mma_v2");
        char err[512];
        int rc = k ? polyv_emu_launch(k, {1, 1, 1}, {256, 1, 1}, 1024, nullptr, err, sizeof err) : -1;
        result(rc == 701, "limit: 48 KiB static + 1 KiB dynamic -> 701", err);
        result(k && polyv_emu_kernel_static_smem(k) == 49152 && polyv_emu_kernel_max_threads(k) == 256 &&
                   polyv_emu_kernel_param_count(k) == 9 && polyv_emu_kernel_param_size(k, 5) == 4,
               "registry expert_gate_up_mma_v2 (smem 49152, bounds 256, 9 params)", "");
    }
}

int main() {
    int n = polyv_emu_kernel_count();
    printf("[emu selftest] %d kernels registered\n", n);
    (void)bf16;
    (void)bf2f;
    test_good();
    test_good2();
    test_broken();
    printf("[emu selftest] %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
