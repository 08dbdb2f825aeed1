// Self-test of the kernel emulator: good test kernels against CPU references, broken test kernels
// reported with the expected code, real kernels on small shapes against CPU references.
// One line per case; exit status 1 on any failure.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
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
    for (uint64_t seed : {1, 2, 3}) {
        polyv_emu_set_seed(seed);
        std::vector<int> x(32);
        for (int i = 0; i < 32; ++i) x[i] = i * i + 7;
        Buf<int> X(x), out(32);
        Run r = launchk("emu_test_half_warps", {1, 1, 1}, {32, 1, 1}, X.p(), out.p());
        bool ok = r.rc == 0;
        for (int l = 0; l < 32 && ok; ++l) ok = out[l] == x[l ^ 1] + x[l ^ 16];
        result(ok, "good emu_test_half_warps seed " + std::to_string(seed), r.rc ? r.err : "");
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
        expect("emu_test_mask_mismatch" + s, 719, launchk("emu_test_mask_mismatch", {1, 1, 1}, {32, 1, 1}, X.p(), O.p()),
               "mismatch");
        expect("emu_test_missing_lanes" + s, 719, launchk("emu_test_missing_lanes", {1, 1, 1}, {16, 1, 1}, X.p(), O.p()),
               "does not exist");
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


// ---- real kernels on small shapes -----------------------------------------------------------------
static void test_real() {
    polyv_emu_set_seed(3);
    {
        const long long n = 1000;
        Buf<float> a(n), b(n), o(n);
        for (int i = 0; i < n; ++i) a[i] = frand(), b[i] = frand();
        Run r = launchk("add_f32", {2, 1, 1}, {256, 1, 1}, a.p(), b.p(), o.p(), n);
        bool ok = r.rc == 0;
        for (int i = 0; i < n && ok; ++i) ok = o[i] == a[i] + b[i];
        result(ok, "real add_f32", r.err);
    }
    {
        const int rows = 3, d = 300;
        Buf<float> x(rows * d), w(d), o(rows * d);
        for (auto& v : x.v) v = frand();
        for (auto& v : w.v) v = frand();
        Run r = launchk("rms_norm_f32", {rows, 1, 1}, {256, 1, 1}, x.p(), w.p(), o.p(), rows, d, 1e-6f);
        bool ok = r.rc == 0;
        for (int rr = 0; rr < rows && ok; ++rr) {
            double ss = 0;
            for (int c = 0; c < d; ++c) ss += (double)x[rr * d + c] * x[rr * d + c];
            const double inv = 1.0 / sqrt(ss / d + 1e-6);
            for (int c = 0; c < d && ok; ++c) ok = close(o[rr * d + c], (float)(w[c] * x[rr * d + c] * inv), 1e-4f);
        }
        result(ok, "real rms_norm_f32", r.err);
    }
    {
        const int n = 5, m = 10, k = 3;
        Buf<float> lg(n * m), w(n * k);
        Buf<int> ids(n * k);
        for (auto& v : lg.v) v = 3 * frand();
        Run r = launchk("softmax_topk_f32", {1, 1, 1}, {32, 1, 1}, lg.p(), n, m, k, 1, ids.p(), w.p());
        bool ok = r.rc == 0;
        for (int t = 0; t < n && ok; ++t) {
            std::vector<double> p(m);
            double mx = -1e30, sum = 0;
            for (int e = 0; e < m; ++e) mx = std::max(mx, (double)lg[t * m + e]);
            for (int e = 0; e < m; ++e) sum += p[e] = exp(lg[t * m + e] - mx);
            std::vector<int> taken(m, 0);
            std::vector<double> sel;
            for (int j = 0; j < k; ++j) {
                int best = -1;
                for (int e = 0; e < m; ++e)
                    if (!taken[e] && (best < 0 || p[e] > p[best])) best = e;
                taken[best] = 1;
                sel.push_back(p[best] / sum);
                ok = ok && ids[t * k + j] == best;
            }
            double ws = sel[0] + sel[1] + sel[2];
            for (int j = 0; j < k && ok; ++j) ok = close(w[t * k + j], (float)(sel[j] / ws), 1e-5f);
        }
        result(ok, "real softmax_topk_f32", r.err);
    }
    {
        const int rows = 4, cols = 700;
        Buf<float> x(rows * cols);
        Buf<int> ids(rows);
        for (auto& v : x.v) v = frand();
        x[1 * cols + 5] = 5.f, x[1 * cols + 600] = 5.f;  // tie -> lower index
        x[2 * cols + 650] = 9.f;
        Run r = launchk("argmax_f32", {rows, 1, 1}, {256, 1, 1}, x.p(), rows, cols, ids.p());
        bool ok = r.rc == 0;
        for (int rr = 0; rr < rows && ok; ++rr) {
            int b = 0;
            for (int c = 1; c < cols; ++c)
                if (x[rr * cols + c] > x[rr * cols + b]) b = c;
            ok = ids[rr] == b;
        }
        result(ok, "real argmax_f32", r.err);
    }
    // MoE: router -> align -> permute -> expert FFN (mma) -> combine, against a CPU reference.
    const int tokens = 20, hidden = 64, M = 4, k = 2, ffn = 48;
    std::vector<uint16_t> xh(tokens * hidden), gate(M * hidden);
    for (auto& v : xh) v = bf16(frand());
    for (auto& v : gate) v = bf16(frand());
    Buf<uint16_t> X(xh), G(gate);
    Buf<float> logits(tokens * M), topw(tokens * k), partials(3 * 2 * M), stats(2 * M);
    Buf<int> topi(tokens * k);
    Buf<unsigned> done(1, 0u);
    {
        Run r = launchk("moe_router_v2_xbf16_m8", {3, 1, 1}, {256, 1, 1}, X.p(), G.p(), tokens, hidden, M, k, 1,
                        logits.p(), topi.p(), topw.p(), partials.p(), done.p(), stats.p());
        bool ok = r.rc == 0;
        std::vector<double> sp(M, 0), cnt(M, 0);
        for (int t = 0; t < tokens && ok; ++t) {
            std::vector<double> p(M);
            double mx = -1e30, sum = 0;
            for (int e = 0; e < M; ++e) {
                double s = 0;
                for (int h = 0; h < hidden; ++h) s += (double)bf2f(xh[t * hidden + h]) * bf2f(gate[e * hidden + h]);
                ok = ok && close(logits[t * M + e], (float)s, 1e-4f);
                p[e] = s;
                mx = std::max(mx, s);
            }
            for (int e = 0; e < M; ++e) sum += p[e] = exp(p[e] - mx);
            for (int e = 0; e < M; ++e) p[e] /= sum, sp[e] += p[e];
            int b0 = 0;
            for (int e = 1; e < M; ++e)
                if (p[e] > p[b0]) b0 = e;
            cnt[b0] += 1;
            ok = ok && topi[t * k] == b0;
        }
        for (int e = 0; e < M && ok; ++e) ok = close(stats[e], (float)sp[e], 1e-4f) && stats[M + e] == (float)cnt[e];
        ok = ok && done[0] == 0;
        result(ok, "real moe_router_v2_xbf16_m8 (3 blocks)", r.err);
    }
    const int n = tokens * k;
    Buf<int> offsets(M + 1), perm_token(n), pos(n), bad(1);
    Buf<float> perm_w(n);
    {
        Run r = launchk("moe_align_v2", {1, 1, 1}, {1024, 1, 1}, topi.p(), topw.p(), n, k, M, offsets.p(), perm_token.p(),
                        perm_w.p(), pos.p(), bad.p());
        bool ok = r.rc == 0 && bad[0] == 0;
        std::vector<int> off(M + 1, 0), fill(M);
        for (int a = 0; a < n; ++a) off[topi[a] + 1]++;
        for (int e = 0; e < M; ++e) off[e + 1] += off[e];
        for (int e = 0; e <= M && ok; ++e) ok = offsets[e] == off[e];
        for (int e = 0; e < M; ++e) fill[e] = off[e];
        for (int a = 0; a < n && ok; ++a) {
            int p = fill[topi[a]]++;
            ok = perm_token[p] == a / k && perm_w[p] == topw[a] && pos[a] == p;
        }
        result(ok, "real moe_align_v2", r.err);
    }
    {
        Buf<uint16_t> xp(n * hidden);
        Run r = launchk("moe_permute_rows_v2", {7, 1, 1}, {128, 1, 1}, (const void*)X.p(), perm_token.p(), n,
                        hidden * 2, (void*)xp.p());
        bool ok = r.rc == 0;
        for (int i = 0; i < n && ok; ++i) ok = memcmp(&xp[i * hidden], &xh[perm_token[i] * hidden], hidden * 2) == 0;
        result(ok, "real moe_permute_rows_v2", r.err);
    }
    std::vector<uint16_t> gw(M * ffn * hidden), uw(M * ffn * hidden), dw(M * hidden * ffn);
    for (auto& v : gw) v = bf16(0.3f * frand());
    for (auto& v : uw) v = bf16(0.3f * frand());
    for (auto& v : dw) v = bf16(0.3f * frand());
    Buf<uint16_t> GW(gw), UW(uw), DW(dw), H(n * ffn), H1(n * ffn);
    Buf<float> Y(n * hidden), Y1(n * hidden);
    {
        Run r = launchk("expert_gate_up_mma_v2", {(n + 127) / 128 + M, (ffn + 63) / 64, 1}, {256, 1, 1}, X.p(),
                        perm_token.p(), GW.p(), UW.p(), offsets.p(), M, ffn, hidden, H.p());
        Run r1 = launchk("expert_gate_up_v1", {(n * ffn + 255) / 256, 1, 1}, {256, 1, 1}, X.p(), perm_token.p(), GW.p(),
                         UW.p(), offsets.p(), M, ffn, hidden, H1.p());
        bool ok = r.rc == 0 && r1.rc == 0;
        int bad_i = -1;
        for (int i = 0; i < n * ffn && ok; ++i) {
            ok = close(bf2f(H[i]), bf2f(H1[i]), 1e-2f);
            if (!ok) bad_i = i;
        }
        result(ok, "real expert_gate_up_mma_v2 vs expert_gate_up_v1",
               r.rc ? r.err : r1.rc ? r1.err : bad_i >= 0 ? "first mismatch at " + std::to_string(bad_i) : "");
    }
    {
        Run r = launchk("expert_down_mma_v2", {(n + 127) / 128 + M, (hidden + 127) / 128, 1}, {256, 1, 1}, H1.p(), DW.p(),
                        offsets.p(), M, hidden, ffn, perm_w.p(), Y.p());
        Run r1 = launchk("expert_down_v1", {(n * hidden + 255) / 256, 1, 1}, {256, 1, 1}, H1.p(), DW.p(), offsets.p(), M,
                         hidden, ffn, perm_w.p(), Y1.p());
        bool ok = r.rc == 0 && r1.rc == 0;
        // CPU reference of v1 as well
        for (int i = 0; i < n && ok; ++i) {
            int e = 0;
            while (e + 1 < M && i >= offsets[e + 1]) ++e;
            for (int c = 0; c < hidden && ok; ++c) {
                double s = 0;
                for (int j = 0; j < ffn; ++j) s += (double)bf2f(H1[i * ffn + j]) * bf2f(dw[(e * hidden + c) * ffn + j]);
                ok = close(Y1[i * hidden + c], (float)(perm_w[i] * s), 1e-4f) && close(Y[i * hidden + c], Y1[i * hidden + c], 1e-4f);
            }
        }
        result(ok, "real expert_down_mma_v2 vs expert_down_v1 vs CPU", r.rc ? r.err : r1.err);
    }
    {
        Buf<float> out(tokens * hidden), out1(tokens * hidden);
        Run r = launchk("moe_combine_v2_f32", {tokens, 1, 1}, {256, 1, 1}, Y1.p(), pos.p(), (const float*)nullptr, tokens, k,
                        hidden, out.p());
        Run r1 = launchk("moe_combine_v1_f32", {(tokens * hidden + 255) / 256, 1, 1}, {256, 1, 1}, Y1.p(), pos.p(),
                         (const float*)nullptr, tokens, k, hidden, out1.p());
        bool ok = r.rc == 0 && r1.rc == 0;
        for (int t = 0; t < tokens && ok; ++t)
            for (int c = 0; c < hidden && ok; ++c) {
                float s = 0;
                for (int j = 0; j < k; ++j) s += Y1[pos[t * k + j] * hidden + c];
                ok = close(out[t * hidden + c], s, 1e-6f) && close(out1[t * hidden + c], s, 1e-6f);
            }
        result(ok, "real moe_combine_v2_f32 / v1", r.rc ? r.err : r1.err);
    }
    {  // window attention: 2 sequences (70 and 30 tokens), 2 heads, hd 64
        const int heads = 2, hd = 64, T = 100, ld = heads * hd;
        std::vector<uint16_t> q(T * ld), kk(T * ld), v(T * ld);
        for (auto& e : q) e = bf16(frand());
        for (auto& e : kk) e = bf16(frand());
        for (auto& e : v) e = bf16(frand());
        Buf<uint16_t> Q(q), K(kk), V(v);
        Buf<int> cu(std::vector<int>{0, 70, 100});
        Buf<float> O(T * ld), O1(T * ld);
        const float scale = 0.125f;
        Run r = launchk("window_attention_v2_hd64_bf16_to_f32", {2, 2, heads}, {128, 1, 1}, Q.p(), K.p(), V.p(), cu.p(),
                        heads, scale, O.p());
        Run r1 = launchk("window_attention_v1_bf16_to_f32", {1, heads, 1}, {128, 1, 1}, Q.p(), K.p(), V.p(), cu.p(), 2, T,
                         heads, hd, scale, O1.p());
        bool ok = r.rc == 0 && r1.rc == 0;
        double maxerr = 0;
        for (int s = 0; s < 2 && ok; ++s) {
            const int a = cu[s], b = cu[s + 1];
            for (int i = a; i < b; ++i)
                for (int h = 0; h < heads; ++h) {
                    std::vector<double> p(b - a);
                    double mx = -1e30, sum = 0;
                    for (int j = a; j < b; ++j) {
                        double d = 0;
                        for (int c = 0; c < hd; ++c) d += (double)bf2f(q[i * ld + h * hd + c]) * bf2f(kk[j * ld + h * hd + c]);
                        p[j - a] = d * scale;
                        mx = std::max(mx, p[j - a]);
                    }
                    for (auto& e : p) sum += e = exp(e - mx);
                    for (int c = 0; c < hd; ++c) {
                        double o = 0;
                        for (int j = a; j < b; ++j) o += p[j - a] * bf2f(v[j * ld + h * hd + c]);
                        o /= sum;
                        maxerr = std::max(maxerr, fabs(O[i * ld + h * hd + c] - o));
                        ok = ok && close(O[i * ld + h * hd + c], (float)o, 2e-2f) && close(O1[i * ld + h * hd + c], (float)o, 1e-4f);
                    }
                }
        }
        result(ok, "real window_attention_v2_hd64 / v1 vs CPU", r.rc ? r.err : r1.rc ? r1.err : "max err v2 " + std::to_string(maxerr));
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
    test_real();
    printf("[emu selftest] %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
