// Benchmark of the kernel emulator (not run by the build): wall time per launch of the kernels that
// dominate the Java op-harness tests on the emulated device.
//   /tmp/emuout/emu_bench [case ...]   cases: seg5 seg1 causal shfl mma win (default: all)
// Env: POLYV_EMU_SEED, BENCH_REPS (launches per case, default 1).
//
// Measured on the emuperf branch (shared 2-core Xeon, other jobs running; before and after run
// alternately in one session; cpu = process CPU time of the launch, the steadier number here):
//   case                                   before (5cd7ad8, -O1)   after (-O2)   speed-up
//   attention_segments_f32 5 segs               45292 ms cpu        1698 ms cpu     27x
//   attention_segments_f32 1 seg               210495 ms cpu        7203 ms cpu     29x
//   attention_causal_f32 128 rows 8x64 (2 kv)   10717 ms cpu         378 ms cpu     28x
//   emu_bench_shuffle (100 warp_sums)            4091 ms cpu         102 ms cpu     40x
//   expert_gate_up_mma_v2 256 rows 8 experts     3078 ms cpu         189 ms cpu     16x
//   window_attention_v2_hd64 4 x 64 tokens        275 ms cpu          23 ms cpu     12x
// (the same within a few % when linked through libcuda.so.1, as the JVM loads it).
// Before, every parked lane re-checked every waiting lane of its warp against every lane of its mask
// (32 x 32 per park, 32 parks per warp collective); now per-warp bit sets make that O(1).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>
#include <vector>

#include "polyv_emu.h"

template <class T>
struct Buf {
    std::vector<T> v;
    explicit Buf(size_t n, T init = T()) : v(n, init) { polyv_emu_register_allocation(v.data(), n * sizeof(T)); }
    explicit Buf(const std::vector<T>& x) : v(x) { polyv_emu_register_allocation(v.data(), v.size() * sizeof(T)); }
    ~Buf() { polyv_emu_unregister_allocation(v.data()); }
    T* p() { return v.data(); }
};

static uint64_t rng_state = 12345;
static float frand() {  // [-1, 1)
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}
static uint16_t bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}
static double now_ms(clockid_t c = CLOCK_MONOTONIC) {
    timespec t;
    clock_gettime(c, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int g_fail = 0;
template <class... A>
static void bench(const char* label, const char* name, polyv_emu_dim3 g, polyv_emu_dim3 b, unsigned dyn, A... a) {
    const polyv_emu_kernel* k = polyv_emu_find_kernel(name);
    if (!k) {
        printf("%-34s kernel %s not registered\n", label, name);
        g_fail = 1;
        return;
    }
    void* ps[] = {&a...};
    const int reps = getenv("BENCH_REPS") ? atoi(getenv("BENCH_REPS")) : 1;
    double best = 1e300, best_cpu = 1e300;
    for (int r = 0; r < reps; ++r) {
        char err[2048];
        const double t0 = now_ms(), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        const int rc = polyv_emu_launch(k, g, b, dyn, ps, err, sizeof err);
        const double t = now_ms() - t0, c = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (rc) {
            printf("%-34s rc=%d %s\n", label, rc, err);
            g_fail = 1;
            return;
        }
        if (t < best) best = t;
        if (c < best_cpu) best_cpu = c;
    }
    printf("%-38s %10.1f ms wall %10.1f ms cpu  (grid %u x %u x %u, block %u)\n", label, best, best_cpu, g.x, g.y,
           g.z, b.x);
    fflush(stdout);
}

static bool want(int argc, char** argv, const char* c) {
    if (argc < 2) return true;
    for (int i = 1; i < argc; ++i)
        if (!strcmp(argv[i], c)) return true;
    return false;
}

int main(int argc, char** argv) {
    if (want(argc, argv, "seg5") || want(argc, argv, "seg1")) {  // attention_segments_f32: 280 rows, 16 heads x 80
        const int n = 280, heads = 16, hd = 80, ld = heads * hd;
        std::vector<float> q(n * ld), k(n * ld), v(n * ld);
        for (auto& e : q) e = frand();
        for (auto& e : k) e = frand();
        for (auto& e : v) e = frand();
        Buf<float> Q(q), K(k), V(v), O(n * ld);
        const float scale = 1.0f / sqrtf((float)hd);
        for (int variant = 0; variant < 2; ++variant) {
            if (!want(argc, argv, variant ? "seg1" : "seg5")) continue;
            const std::vector<int> cu = variant ? std::vector<int>{0, 280} : std::vector<int>{0, 64, 128, 192, 256, 280};
            std::vector<int> rs(n), re(n);
            for (size_t s = 0; s + 1 < cu.size(); ++s)
                for (int i = cu[s]; i < cu[s + 1]; ++i) rs[i] = cu[s], re[i] = cu[s + 1];
            Buf<int> RS(rs), RE(re);
            bench(variant ? "attention_segments_f32 1 seg" : "attention_segments_f32 5 segs", "attention_segments_f32",
                  {(unsigned)(n * heads), 1, 1}, {128, 1, 1}, 0, (const float*)Q.p(), (const float*)K.p(),
                  (const float*)V.p(), O.p(), n, heads, hd, (const int*)RS.p(), (const int*)RE.p(), scale);
        }
    }
    if (want(argc, argv, "causal")) {  // attention_causal_f32: 128 rows, 8 heads x 64, 2 kv heads
        const int n = 128, heads = 8, kvh = 2, hd = 64, start = 0;
        std::vector<float> q(n * heads * hd), k(n * kvh * hd), v(n * kvh * hd);
        for (auto& e : q) e = frand();
        for (auto& e : k) e = frand();
        for (auto& e : v) e = frand();
        Buf<float> Q(q), K(k), V(v), O(n * heads * hd);
        bench("attention_causal_f32", "attention_causal_f32", {(unsigned)(n * heads), 1, 1}, {128, 1, 1}, 0,
              (const float*)Q.p(), (const float*)K.p(), (const float*)V.p(), O.p(), n, heads, kvh, hd, start,
              0.125f);
    }
    if (want(argc, argv, "shfl")) {  // 64 blocks x 128 threads x 100 warp_sums
        const int blocks = 64, threads = 128, iters = 100;
        std::vector<float> x(blocks * threads);
        for (auto& e : x) e = frand();
        Buf<float> X(x), O(blocks * threads);
        bench("emu_bench_shuffle (100 warp_sums)", "emu_bench_shuffle", {blocks, 1, 1}, {threads, 1, 1}, 0,
              (const float*)X.p(), O.p(), iters);
    }
    if (want(argc, argv, "mma")) {  // expert_gate_up_mma_v2: 128 tokens, k 2, 8 experts, hidden 256, ffn 256
        const int tokens = 128, topk = 2, M = 8, hidden = 256, ffn = 256, n = tokens * topk;
        std::vector<uint16_t> x(tokens * hidden), gw(M * ffn * hidden), uw(M * ffn * hidden);
        for (auto& e : x) e = bf16(frand());
        for (auto& e : gw) e = bf16(0.3f * frand());
        for (auto& e : uw) e = bf16(0.3f * frand());
        std::vector<int> perm(n), off(M + 1);
        for (int i = 0; i < n; ++i) perm[i] = (i * 37) % tokens;
        for (int e = 0; e <= M; ++e) off[e] = e * n / M;
        Buf<uint16_t> X(x), GW(gw), UW(uw), H(n * ffn);
        Buf<int> P(perm), OFF(off);
        bench("expert_gate_up_mma_v2", "expert_gate_up_mma_v2", {(unsigned)((n + 127) / 128 + M), (ffn + 63) / 64, 1},
              {256, 1, 1}, 0, (const void*)X.p(), (const int*)P.p(), (const void*)GW.p(), (const void*)UW.p(),
              (const int*)OFF.p(), M, ffn, hidden, (void*)H.p());
    }
    if (want(argc, argv, "win")) {  // window_attention_v2_hd64: 4 windows of 64 tokens, 4 heads
        const int heads = 4, hd = 64, T = 256, ld = heads * hd;
        std::vector<uint16_t> q(T * ld), k(T * ld), v(T * ld);
        for (auto& e : q) e = bf16(frand());
        for (auto& e : k) e = bf16(frand());
        for (auto& e : v) e = bf16(frand());
        Buf<uint16_t> Q(q), K(k), V(v);
        Buf<int> CU(std::vector<int>{0, 64, 128, 192, 256});
        Buf<float> O(T * ld);
        bench("window_attention_v2_hd64_bf16_to_f32", "window_attention_v2_hd64_bf16_to_f32", {1, 4, heads}, {128, 1, 1},
              0, (const void*)Q.p(), (const void*)K.p(), (const void*)V.p(), (const int*)CU.p(), heads, 0.125f,
              (float*)O.p());
    }
    return g_fail;
}
