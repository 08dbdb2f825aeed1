// polyv kernel emulator: runs host-built CUDA kernels (kernels/src/main/cuda/*.cu compiled by g++ with
// -include kernels/emu/cuda_emu.h -DPOLYV_EMU) block by block on the calling thread, every thread of
// a block a fiber. Emulation proves logic, never timing. This file is NOT instrumented.
//
// How it works
//  - Fibers: one per thread of the block, 256 KiB mmap'd stacks (lazily committed, a PROT_NONE guard
//    page below each, reused across blocks and launches), switched by a hand-written x86-64 context
//    switch (callee-saved registers + rsp; no syscall). A fiber runs until it reaches a barrier, a warp
//    collective or its end; the scheduler then picks the next one.
//  - Order: between two synchronisation points the runnable fibers run in an order shuffled per round
//    from a per-block RNG (seed polyv_emu_set_seed / env POLYV_EMU_SEED, mixed with the block index),
//    so a missing barrier changes results from seed to seed (and the race detector reports it). Within
//    a round a fiber that parks hands over directly to the next fiber of the order (one context switch
//    per park); the scheduler only starts rounds, releases barriers and reports deadlocks.
//  - __syncthreads: releases when every thread that has not exited waits at a barrier (exited
//    threads count as arrived, as on sm_70+); threads waiting at different __syncthreads sites
//    (file:line) are reported as a divergent barrier; nothing runnable and no barrier to release is a
//    deadlock, reported with where every thread waits.
//  - Warp collectives (__shfl*_sync, __ballot/any/all/match_any_sync, __syncwarp, ldmatrix, mma.sync):
//    a lane parks with (kind, mask, operands); when every lane named in the mask has parked at the same
//    kind with the same mask the results are computed (CUDA / PTX semantics) and the lanes resume. A
//    lane of the mask that exited, waits at __syncthreads or at another collective/mask is an error.
//    Each warp keeps its lanes' states as bit sets, so this check costs O(1) per parked lane when all
//    waiting lanes of the warp wait at one (kind, mask), and a scan of the waiting lanes otherwise.
//  - Memory checks: the kernel translation units are compiled with -fsanitize=thread, so g++ calls
//    __tsan_readN / __tsan_writeN before every load and store that may touch memory; this file defines
//    those symbols (libtsan is never linked). Each access is classified:
//      shared memory: static __shared__ variables are function statics whose sections build-emu.sh
//        renames to polyv_emu_shared ([__start_polyv_emu_shared, __stop_polyv_emu_shared)); the region
//        is filled with 0xFF before every block and shadowed per byte (last writer thread + barrier
//        interval + warp-sync generation, last reader, pending cp.async), which gives the
//        uninitialised-read check, the race detector (two threads, same bytes, same barrier interval,
//        one writing, not ordered by a warp collective both took part in; atomics never race with each
//        other) and the cp.async read-before-wait check;
//      the running fiber's own stack, the loaded object that holds this emulator (its code, constants
//        and globals): allowed;
//      a registered allocation (polyv_emu_register_allocation), the whole access inside one: allowed;
//      anything else: illegal address (700), the access is not performed.
//  - Launch limits of an sm_90 device are checked before the first block (invalid value 1 / 701).
// The first error of a launch stops it (the remaining fibers are abandoned) and is returned with a
// message naming kernel, block, thread(s) and what went wrong.
#include <dlfcn.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "../include/polyv_emu.h"
#include "emu_internal.h"

#if !defined(__x86_64__)
#error "the polyv kernel emulator's context switch is written for x86-64"
#endif

struct EmuUint3 {
    unsigned x, y, z;
};

extern "C" char __start_polyv_emu_shared[] __attribute__((weak, visibility("hidden")));
extern "C" char __stop_polyv_emu_shared[] __attribute__((weak, visibility("hidden")));

// ---- context switch --------------------------------------------------------------------------------
asm(R"(
    .text
    .globl polyv_emu_ctx_switch
    .hidden polyv_emu_ctx_switch
    .type polyv_emu_ctx_switch,@function
polyv_emu_ctx_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size polyv_emu_ctx_switch, .-polyv_emu_ctx_switch
    .globl polyv_emu_fiber_entry
    .hidden polyv_emu_fiber_entry
    .type polyv_emu_fiber_entry,@function
polyv_emu_fiber_entry:
    andq $-16, %rsp
    call polyv_emu_fiber_main
    ud2
    .size polyv_emu_fiber_entry, .-polyv_emu_fiber_entry
)");
extern "C" void polyv_emu_ctx_switch(void** save_sp, void* to_sp) __attribute__((visibility("hidden")));
extern "C" void polyv_emu_fiber_entry() __attribute__((visibility("hidden")));
extern "C" void polyv_emu_fiber_main() __attribute__((visibility("hidden"), used, noreturn));

namespace {

constexpr size_t kStack = 256 * 1024;
constexpr size_t kGuard = 4096;
constexpr int kMaxThreads = 1024;
constexpr size_t kSmemDefault = 48 * 1024, kSmemMax = 227 * 1024;

enum State : uint8_t { READY, BAR, COLL, DONE };
enum Kind : int {
    K_SHFL_IDX, K_SHFL_UP, K_SHFL_DOWN, K_SHFL_XOR, K_BALLOT, K_ANY, K_ALL, K_MATCH_ANY, K_SYNCWARP, K_LDMATRIX,
    K_LDMATRIX_T, K_MMA
};
const char* kind_name(int k) {
    static const char* n[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync", "__ballot_sync",
                              "__any_sync", "__all_sync", "__match_any_sync", "__syncwarp", "ldmatrix.x4",
                              "ldmatrix.x4.trans", "mma.sync.m16n8k16"};
    return n[k];
}

struct Fiber {
    void* sp = nullptr;
    char* stack_lo = nullptr;  // usable range [stack_lo, stack_hi)
    char* stack_hi = nullptr;
    int tid = 0;
    EmuUint3 idx{};
    State state = READY;
    const char* file = "";
    int line = 0;
    int kind = 0;
    unsigned mask = 0;
    uint64_t in[12];
    uint64_t out[4];
    uint32_t last_gen = 0;  // warp-sync generation of the last collective this lane completed
    std::vector<uint32_t> cur_group;                // cp.async destinations (shared offsets) not committed yet
    std::vector<std::vector<uint32_t>> groups;      // committed, oldest first
};

// Shadow of one shared byte.
struct Sh {
    uint32_t w_epoch, r_epoch, w_gen, r_gen;
    uint16_t w_tid, r_tid;
    uint8_t pending, w_atomic;
};

struct Kernel {
    polyv_emu_kernel_def def;
    size_t static_smem;
    unsigned max_dyn_smem;  // opt-in (polyv_emu_kernel_set_max_dynamic_smem), 0 = none
};

// Per warp: the lanes' states as bit sets (bit l = lane l), so that the collective checks after a lane
// parks cost O(1) when every waiting lane waits at the same collective (the common case).
struct Warp {
    uint32_t exist = 0;        // lanes that exist in the block
    uint32_t ready = 0;        // READY (the running fiber included)
    uint32_t coll = 0;         // parked at a warp collective
    bool mixed = false;        // the lanes of coll may wait at different (kind, mask)
    int kind0 = 0;             // when !mixed and coll != 0: the (kind, mask) every lane of coll waits at
    unsigned mask0 = 0;
    std::vector<unsigned> masks;  // mask of generation g at [g - 1]
};

struct Launch {
    const Kernel* k = nullptr;
    void** params = nullptr;
    EmuUint3 grid{}, block{}, bidx{};
    int nthreads = 0;
    std::vector<Fiber>* fibers = nullptr;
    std::vector<Warp> warps;
    std::vector<int> order;  // this round's shuffled READY fibers; order[pos..] have not run yet
    size_t pos = 0;
    uint32_t epoch = 0, block_start = 0;
    void* sched_sp = nullptr;
    int err = 0;
    std::string msg;
    uint64_t rng = 0;
    // allocation snapshot, sorted by base
    std::vector<std::pair<uintptr_t, uintptr_t>> allocs;
    std::pair<uintptr_t, uintptr_t> hit[4] = {};  // the allocations of the last hits (most recent first)
};

// The running launch and fiber. Plain globals, not thread_local: launches are serialised by
// g_launch_mu and only the launching thread runs kernel code (the instrumented translation units), and a
// thread_local in the shared libcuda.so.1 costs a __tls_get_addr call on every checked load and store.
Launch* g_launch = nullptr;
Fiber* g_cur = nullptr;

std::mutex g_launch_mu;   // one launch at a time (shared region, shadow and epochs are global)
std::mutex g_alloc_mu;
std::map<uintptr_t, size_t> g_allocs;
std::atomic<uint64_t> g_seed{0};
std::atomic<bool> g_seed_set{false};

uintptr_t g_shm_lo = 0;
size_t g_shm_size = 0;
std::vector<Sh> g_shadow;
uint32_t g_epoch = 0;
std::vector<std::pair<uintptr_t, uintptr_t>> g_image;  // PT_LOAD ranges of the object holding this code
std::vector<Fiber> g_fibers;                            // reused: stacks stay mapped

std::once_flag g_init_once;

int phdr_cb(struct dl_phdr_info* info, size_t, void* data) {
    const uintptr_t me = reinterpret_cast<uintptr_t>(data);
    bool mine = false;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& p = info->dlpi_phdr[i];
        if (p.p_type != PT_LOAD) continue;
        const uintptr_t lo = info->dlpi_addr + p.p_vaddr, hi = lo + p.p_memsz;
        if (me >= lo && me < hi) mine = true;
    }
    if (!mine) return 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& p = info->dlpi_phdr[i];
        if (p.p_type != PT_LOAD) continue;
        const uintptr_t lo = info->dlpi_addr + p.p_vaddr;
        g_image.push_back({lo, lo + p.p_memsz});
    }
    return 1;
}

void init_once() {
    g_shm_lo = reinterpret_cast<uintptr_t>(__start_polyv_emu_shared);
    g_shm_size = (__start_polyv_emu_shared && __stop_polyv_emu_shared)
                     ? static_cast<size_t>(__stop_polyv_emu_shared - __start_polyv_emu_shared)
                     : 0;
    g_shadow.assign(g_shm_size, Sh{});
    dl_iterate_phdr(phdr_cb, reinterpret_cast<void*>(&init_once));
    if (!g_seed_set.load()) {
        const char* s = getenv("POLYV_EMU_SEED");
        g_seed.store(s ? strtoull(s, nullptr, 0) : 1);
    }
}

uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

std::string thr(int tid) {
    const Launch* L = g_launch;
    const int x = tid % L->block.x, y = (tid / L->block.x) % L->block.y, z = tid / (L->block.x * L->block.y);
    return fmt("thread (%d,%d,%d) [warp %d lane %d]", x, y, z, tid / 32, tid % 32);
}

std::string where() {
    const Launch* L = g_launch;
    return fmt("kernel %s block (%u,%u,%u)", L->k->def.name, L->bidx.x, L->bidx.y, L->bidx.z);
}

void switch_to_sched() {
    Fiber* f = g_cur;
    g_cur = nullptr;
    polyv_emu_ctx_switch(&f->sp, g_launch->sched_sp);
}

// Records the launch's first error; inside a fiber it never returns (the fiber is abandoned).
void report(int code, const std::string& m) {
    Launch* L = g_launch;
    if (L->err == 0) {
        L->err = code;
        L->msg = where() + ": " + m;
    }
    if (g_cur) {
        switch_to_sched();
        __builtin_unreachable();
    }
}

// ---- shared-memory shadow ---------------------------------------------------------------------------
bool ordered(int u, uint32_t g_u, int t) {
    if (u / 32 != t / 32) return false;
    const Launch* L = g_launch;
    const std::vector<unsigned>& m = L->warps[t / 32].masks;
    const uint32_t last = (*L->fibers)[t].last_gen;
    const unsigned bits = (1u << (u % 32)) | (1u << (t % 32));
    for (uint32_t g = g_u + 1; g <= last && g <= m.size(); ++g)
        if ((m[g - 1] & bits) == bits) return true;
    return false;
}

uint32_t cur_gen(int tid) { return static_cast<uint32_t>(g_launch->warps[tid / 32].masks.size()); }

enum AccessKind { RD = 0, WR = 1, AT = 2 };

// Checks (and records) an access of n shared bytes at offset off by thread tid. Returns false after
// report() when called from the scheduler.
bool shared_access(int tid, size_t off, size_t n, int kind, const char* what = nullptr) {
    Launch* L = g_launch;
    const uint32_t epoch = L->epoch, gen = cur_gen(tid);
    for (size_t i = 0; i < n; ++i) {
        Sh& s = g_shadow[off + i];
        const char* op = what ? what : (kind == RD ? "read" : kind == WR ? "write" : "atomic");
        if (kind != WR && s.w_epoch < L->block_start) {
            report(719, fmt("%s of shared memory never written in this block: %s, shared offset %zu (%zu bytes)", op,
                            thr(tid).c_str(), off + i, n));
            return false;
        }
        if (s.pending) {
            report(719, fmt("%s of shared memory whose cp.async (issued by %s) has not been waited for with "
                            "cp.async.wait_group: %s, shared offset %zu",
                            op, thr(s.w_tid).c_str(), thr(tid).c_str(), off + i));
            return false;
        }
        if (s.w_epoch == epoch && s.w_tid != tid && !(kind == AT && s.w_atomic) && !ordered(s.w_tid, s.w_gen, tid)) {
            report(719, fmt("shared-memory race: %s %s shared offset %zu that %s %s since the last barrier, with no "
                            "__syncthreads/__syncwarp between",
                            thr(tid).c_str(), kind == RD ? "reads" : "writes", off + i, thr(s.w_tid).c_str(),
                            s.w_atomic ? "updated atomically" : "wrote"));
            return false;
        }
        if (kind != RD && s.r_epoch == epoch && s.r_tid != tid && !ordered(s.r_tid, s.r_gen, tid)) {
            report(719, fmt("shared-memory race: %s writes shared offset %zu that %s read since the last barrier, "
                            "with no __syncthreads/__syncwarp between",
                            thr(tid).c_str(), off + i, thr(s.r_tid).c_str()));
            return false;
        }
        if (kind == RD) {
            s.r_tid = static_cast<uint16_t>(tid);
            s.r_epoch = epoch;
            s.r_gen = gen;
        } else {
            s.w_tid = static_cast<uint16_t>(tid);
            s.w_epoch = epoch;
            s.w_gen = gen;
            s.w_atomic = kind == AT;
        }
    }
    return true;
}

bool in_allocs_slow(uintptr_t a, size_t n) {
    Launch* L = g_launch;
    auto& v = L->allocs;
    auto it = std::upper_bound(v.begin(), v.end(), std::make_pair(a, UINTPTR_MAX));
    if (it == v.begin()) return false;
    --it;
    if (a >= it->first && a + n <= it->second) {
        L->hit[3] = L->hit[2], L->hit[2] = L->hit[1], L->hit[1] = L->hit[0];
        L->hit[0] = *it;
        return true;
    }
    return false;
}

// The whole access [a, a + n) inside one registered allocation (the hit cache holds only real
// allocations; empty slots are [0, 0) and never contain an access).
inline bool in_allocs(uintptr_t a, size_t n) {
    const auto* h = g_launch->hit;
    for (int i = 0; i < 4; ++i)
        if (a - h[i].first < h[i].second - h[i].first && a + n <= h[i].second) return true;
    return in_allocs_slow(a, n);
}

std::string nearest_alloc(uintptr_t a) {
    auto& v = g_launch->allocs;
    auto it = std::upper_bound(v.begin(), v.end(), std::make_pair(a, UINTPTR_MAX));
    std::string s;
    if (it != v.begin()) {
        auto p = it - 1;
        s = fmt(" (allocation [0x%lx, +%lu) ends %ld bytes before)", (unsigned long)p->first,
                (unsigned long)(p->second - p->first), (long)(a - p->second));
        if (a < p->second) s = fmt(" (straddles the end of allocation [0x%lx, +%lu))", (unsigned long)p->first,
                                   (unsigned long)(p->second - p->first));
    } else if (!v.empty()) {
        s = fmt(" (below the first allocation 0x%lx)", (unsigned long)v.front().first);
    }
    return s;
}

// Any access from kernel code (fiber context). kind: RD / WR / AT.
inline void check_access(const void* p, size_t n, int kind) {
    Fiber* f = g_cur;
    if (!f) return;
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    if (a - g_shm_lo < g_shm_size) {
        if (a + n > g_shm_lo + g_shm_size) report(700, fmt("access past the end of shared memory by %s", thr(f->tid).c_str()));
        shared_access(f->tid, a - g_shm_lo, n, kind);
        return;
    }
    if (a >= reinterpret_cast<uintptr_t>(f->stack_lo) && a + n <= reinterpret_cast<uintptr_t>(f->stack_hi)) return;
    if (in_allocs(a, n)) return;
    for (auto& r : g_image)
        if (a >= r.first && a + n <= r.second) return;
    report(700, fmt("illegal address: %s of %zu bytes at 0x%lx by %s, outside every allocation%s",
                    kind == RD ? "read" : kind == WR ? "write" : "atomic", n, (unsigned long)a, thr(f->tid).c_str(),
                    nearest_alloc(a).c_str()));
}

// ---- warp collectives -----------------------------------------------------------------------------
Fiber& fib(int tid) { return (*g_launch->fibers)[tid]; }

std::string wait_desc(const Fiber& f) {
    if (f.state == BAR) return fmt("__syncthreads at %s:%d", f.file, f.line);
    if (f.state == COLL) return fmt("%s(mask 0x%08x) at %s:%d", kind_name(f.kind), f.mask, f.file, f.line);
    if (f.state == DONE) return "exited";
    return "running";
}

void complete(int w, unsigned mask) {
    Launch* L = g_launch;
    const int base = w * 32;
    Fiber& f0 = fib(base + __builtin_ctz(mask));
    const int kind = f0.kind;
    auto lane_in = [&](int l) -> Fiber& { return fib(base + l); };
    switch (kind) {
        case K_SHFL_IDX:
        case K_SHFL_UP:
        case K_SHFL_DOWN:
        case K_SHFL_XOR:
            for (int l = 0; l < 32; ++l) {
                if (!((mask >> l) & 1)) continue;
                Fiber& f = lane_in(l);
                const int arg = static_cast<int>(f.in[1]), width = static_cast<int>(f.in[2]);
                if (width < 1 || width > 32 || (width & (width - 1))) {
                    report(719, fmt("%s with width %d (must be a power of 2 in 1..32) by %s at %s:%d", kind_name(kind),
                                    width, thr(f.tid).c_str(), f.file, f.line));
                    return;
                }
                const int seg = l & ~(width - 1);
                int src;
                if (kind == K_SHFL_IDX) src = seg + (arg & (width - 1));
                else if (kind == K_SHFL_UP) src = (l - seg) >= arg ? l - arg : l;
                else if (kind == K_SHFL_DOWN) src = (l - seg) + arg < width ? l + arg : l;
                else {
                    src = l ^ arg;
                    if (src < seg || src >= seg + width) src = l;
                }
                if (src < 0 || src > 31 || !((mask >> src) & 1)) {
                    report(719, fmt("%s by %s at %s:%d reads lane %d, which is not in the mask 0x%08x (undefined value)",
                                    kind_name(kind), thr(f.tid).c_str(), f.file, f.line, src, mask));
                    return;
                }
                f.out[0] = lane_in(src).in[0];
            }
            break;
        case K_BALLOT:
        case K_ANY:
        case K_ALL: {
            unsigned b = 0;
            for (int l = 0; l < 32; ++l)
                if (((mask >> l) & 1) && lane_in(l).in[0]) b |= 1u << l;
            const unsigned r = kind == K_BALLOT ? b : kind == K_ANY ? (b != 0) : (b == mask);
            for (int l = 0; l < 32; ++l)
                if ((mask >> l) & 1) lane_in(l).out[0] = r;
            break;
        }
        case K_MATCH_ANY:
            for (int l = 0; l < 32; ++l) {
                if (!((mask >> l) & 1)) continue;
                unsigned m = 0;
                for (int j = 0; j < 32; ++j)
                    if (((mask >> j) & 1) && lane_in(j).in[0] == lane_in(l).in[0]) m |= 1u << j;
                lane_in(l).out[0] = m;
            }
            break;
        case K_SYNCWARP:
            break;
        case K_LDMATRIX:
        case K_LDMATRIX_T: {
            // lane l supplies the row address of row l % 8 of matrix l / 8 (16 bytes of 8 b16 elements)
            const uint16_t* rows[32];
            for (int l = 0; l < 32; ++l) {
                Fiber& f = lane_in(l);
                const uintptr_t a = static_cast<uintptr_t>(f.in[0]);
                if (a - g_shm_lo >= g_shm_size || a + 16 > g_shm_lo + g_shm_size || (a & 15)) {
                    report(719, fmt("%s at %s:%d: %s supplies row address 0x%lx, not a 16-byte aligned row inside "
                                    "shared memory",
                                    kind_name(kind), f.file, f.line, thr(f.tid).c_str(), (unsigned long)a));
                    return;
                }
                if (!shared_access(f.tid, a - g_shm_lo, 16, RD, kind_name(kind))) return;
                rows[l] = reinterpret_cast<const uint16_t*>(a);
            }
            for (int l = 0; l < 32; ++l) {
                Fiber& f = lane_in(l);
                const int g = l / 4, t = l % 4;
                for (int i = 0; i < 4; ++i) {
                    uint32_t lo, hi;
                    if (kind == K_LDMATRIX) {
                        lo = rows[i * 8 + g][2 * t];
                        hi = rows[i * 8 + g][2 * t + 1];
                    } else {
                        lo = rows[i * 8 + 2 * t][g];
                        hi = rows[i * 8 + 2 * t + 1][g];
                    }
                    f.out[i] = lo | (hi << 16);
                }
            }
            break;
        }
        case K_MMA: {
            float A[16][16], B[16][8], C[16][8];
            auto bf = [](uint32_t h) { return __builtin_bit_cast(float, (h & 0xffffu) << 16); };
            for (int l = 0; l < 32; ++l) {
                Fiber& f = lane_in(l);
                const int g = l / 4, t = l % 4;
                const uint32_t a0 = f.in[0], a1 = f.in[1], a2 = f.in[2], a3 = f.in[3], b0 = f.in[4], b1 = f.in[5];
                A[g][2 * t] = bf(a0), A[g][2 * t + 1] = bf(a0 >> 16);
                A[g + 8][2 * t] = bf(a1), A[g + 8][2 * t + 1] = bf(a1 >> 16);
                A[g][2 * t + 8] = bf(a2), A[g][2 * t + 9] = bf(a2 >> 16);
                A[g + 8][2 * t + 8] = bf(a3), A[g + 8][2 * t + 9] = bf(a3 >> 16);
                B[2 * t][g] = bf(b0), B[2 * t + 1][g] = bf(b0 >> 16);
                B[2 * t + 8][g] = bf(b1), B[2 * t + 9][g] = bf(b1 >> 16);
                for (int q = 0; q < 4; ++q) {
                    const int r = g + (q >= 2 ? 8 : 0), c = 2 * t + (q & 1);
                    C[r][c] = __builtin_bit_cast(float, static_cast<uint32_t>(f.in[6 + q]));
                }
            }
            for (int r = 0; r < 16; ++r)
                for (int c = 0; c < 8; ++c) {
                    float s = 0.f;
                    for (int kk = 0; kk < 16; ++kk) s += A[r][kk] * B[kk][c];  // products exact in fp32
                    C[r][c] += s;
                }
            for (int l = 0; l < 32; ++l) {
                Fiber& f = lane_in(l);
                const int g = l / 4, t = l % 4;
                for (int q = 0; q < 4; ++q)
                    f.out[q] = __builtin_bit_cast(uint32_t, C[g + (q >= 2 ? 8 : 0)][2 * t + (q & 1)]);
            }
            break;
        }
    }
    Warp& W = L->warps[w];
    W.masks.push_back(mask);
    const uint32_t gen = static_cast<uint32_t>(W.masks.size());
    for (unsigned m = mask; m; m &= m - 1) {
        Fiber& f = lane_in(__builtin_ctz(m));
        f.last_gen = gen;
        f.state = READY;
    }
    W.ready |= mask;
    W.coll &= ~mask;
    if (!W.coll) W.mixed = false;
}

// After a lane of warp w parked, exited or reached a barrier (its bit already moved out of W.ready):
// complete the collectives that can be, report the ones that never can. Same outcome as checking every
// waiting lane l in lane order against every lane m of its mask (m must exist, and be READY, meaning
// not arrived yet, or wait at the same kind with the same mask), completing l's collective when every
// lane of its mask has arrived; the lanes waiting with one (kind, mask) give one answer, so each such
// group is checked once, at its lowest lane. O(1) when every waiting lane waits at one (kind, mask).
void check_warp(int w) {
    Launch* L = g_launch;
    Warp& W = L->warps[w];
    const int base = w * 32;
    uint32_t todo = W.coll;
    while (todo) {
        const int l = __builtin_ctz(todo);
        const Fiber& f = fib(base + l);
        uint32_t same;
        if (!W.mixed) {
            same = W.coll;
        } else {
            same = 0;
            for (uint32_t c = W.coll; c; c &= c - 1) {
                const Fiber& g = fib(base + __builtin_ctz(c));
                if (g.kind == f.kind && g.mask == f.mask) same |= 1u << __builtin_ctz(c);
            }
        }
        todo &= ~same;
        const uint32_t nonex = f.mask & ~W.exist, bad = f.mask & W.exist & ~W.ready & ~same;
        if (nonex | bad) {
            const int m = __builtin_ctz(nonex | bad);
            if ((nonex >> m) & 1)
                report(719, fmt("%s(mask 0x%08x) at %s:%d by %s names lane %d, which does not exist (block of %d threads)",
                                kind_name(f.kind), f.mask, f.file, f.line, thr(f.tid).c_str(), m, L->nthreads));
            else
                report(719, fmt("warp collective mismatch in warp %d: lane %d waits in %s:%d %s(mask 0x%08x) but lane %d "
                                "named in that mask is %s",
                                w, l, f.file, f.line, kind_name(f.kind), f.mask, m, wait_desc(fib(base + m)).c_str()));
            return;
        }
        if (!(f.mask & W.ready)) {
            complete(w, f.mask);
            if (L->err) return;
        }
    }
}

// The running fiber f left READY (collective, barrier, exit; its Warp bits already updated): checks its
// warp, then switches straight to the next READY fiber of this round's order (no detour through the
// scheduler), or back to the scheduler when the round is over. Returns when f is resumed.
void park(Fiber* f) {
    Launch* L = g_launch;
    check_warp(f->tid / 32);  // an error switches to the scheduler from report() and never returns
    std::vector<Fiber>& fs = *L->fibers;
    while (L->pos < L->order.size()) {
        Fiber& nx = fs[L->order[L->pos++]];
        if (nx.state != READY) continue;
        g_cur = &nx;
        polyv_emu_ctx_switch(&f->sp, nx.sp);
        return;
    }
    g_cur = nullptr;
    polyv_emu_ctx_switch(&f->sp, L->sched_sp);
}

// The running fiber f stops at a barrier (BAR) or exits (DONE).
void leave(Fiber* f, State st) {
    f->state = st;
    g_launch->warps[f->tid / 32].ready &= ~(1u << (f->tid % 32));
    park(f);
}

// Collective entry from a fiber: parks and returns once complete.
void collective(int kind, unsigned mask, const char* file, int line) {
    Fiber* f = g_cur;
    if (!f) {
        fprintf(stderr, "[polyv emu] %s called outside a kernel\n", kind_name(kind));
        abort();
    }
    if (!((mask >> (f->tid % 32)) & 1))
        report(719, fmt("%s(mask 0x%08x) at %s:%d called by %s, which is not in its own mask", kind_name(kind), mask,
                        file, line, thr(f->tid).c_str()));
    if ((kind == K_LDMATRIX || kind == K_LDMATRIX_T || kind == K_MMA) && mask != 0xffffffffu)
        report(719, "internal: aligned warp instruction without full warp");
    f->kind = kind;
    f->mask = mask;
    f->file = file;
    f->line = line;
    f->state = COLL;
    Warp& W = g_launch->warps[f->tid / 32];
    const uint32_t bit = 1u << (f->tid % 32);
    if (!W.coll) {
        W.kind0 = kind;
        W.mask0 = mask;
        W.mixed = false;
    } else if (W.kind0 != kind || W.mask0 != mask) {
        W.mixed = true;
    }
    W.ready &= ~bit;
    W.coll |= bit;
    park(f);
}

// ---- block scheduler -----------------------------------------------------------------------------
void setup_fiber(Fiber& f) {
    if (!f.stack_lo) {
        void* m = mmap(nullptr, kStack + kGuard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            perror("[polyv emu] mmap fiber stack");
            abort();
        }
        mprotect(m, kGuard, PROT_NONE);
        f.stack_lo = static_cast<char*>(m) + kGuard;
        f.stack_hi = f.stack_lo + kStack;
    }
    void** sp = reinterpret_cast<void**>(reinterpret_cast<uintptr_t>(f.stack_hi) & ~uintptr_t(15));
    *--sp = nullptr;
    *--sp = reinterpret_cast<void*>(&polyv_emu_fiber_entry);
    for (int i = 0; i < 6; ++i) *--sp = nullptr;
    f.sp = sp;
    f.state = READY;
    f.last_gen = 0;
    f.file = "";
    f.line = 0;
    f.cur_group.clear();
    f.groups.clear();
}

void run_block() {
    Launch* L = g_launch;
    std::vector<Fiber>& fs = *L->fibers;
    const int n = L->nthreads;
    for (int t = 0; t < n; ++t) {
        Fiber& f = fs[t];
        setup_fiber(f);
        f.tid = t;
        f.idx = {t % L->block.x, (t / L->block.x) % L->block.y, t / (L->block.x * L->block.y)};
    }
    if (g_shm_size) memset(reinterpret_cast<void*>(g_shm_lo), 0xff, g_shm_size);
    L->warps.resize((n + 31) / 32);
    for (int w = 0; w < (n + 31) / 32; ++w) {
        Warp& W = L->warps[w];
        W.exist = W.ready = n - w * 32 >= 32 ? 0xffffffffu : (1u << (n - w * 32)) - 1;
        W.coll = 0;
        W.mixed = false;
        W.masks.clear();
    }
    L->block_start = L->epoch = ++g_epoch;
    const uint64_t bl = (static_cast<uint64_t>(L->bidx.z) * L->grid.y + L->bidx.y) * L->grid.x + L->bidx.x;
    L->rng = g_seed.load() * 0x9E3779B97F4A7C15ull ^ (bl + 0x1234567ull);
    splitmix(L->rng);
    std::vector<int> ready;
    ready.reserve(n);
    for (;;) {
        ready.clear();
        for (int t = 0; t < n; ++t)
            if (fs[t].state == READY) ready.push_back(t);
        if (ready.empty()) {
            int done = 0, bar = 0;
            for (int t = 0; t < n; ++t) done += fs[t].state == DONE, bar += fs[t].state == BAR;
            if (done == n) return;
            if (bar + done == n) {
                // every live thread waits at a barrier: one site, or a divergent barrier
                const Fiber* first = nullptr;
                for (int t = 0; t < n; ++t) {
                    const Fiber& f = fs[t];
                    if (f.state != BAR) continue;
                    if (!first) first = &f;
                    else if (f.line != first->line || strcmp(f.file, first->file) != 0) {
                        report(719, fmt("__syncthreads in divergent code: %s waits at %s:%d, %s at %s:%d",
                                        thr(first->tid).c_str(), first->file, first->line, thr(f.tid).c_str(), f.file,
                                        f.line));
                        return;
                    }
                }
                ++g_epoch;
                L->epoch = g_epoch;
                for (int t = 0; t < n; ++t)
                    if (fs[t].state == BAR) {
                        fs[t].state = READY;
                        L->warps[t / 32].ready |= 1u << (t % 32);
                    }
                continue;
            }
            std::string d;
            int shown = 0;
            for (int t = 0; t < n && shown < 6; ++t)
                if (fs[t].state != DONE) {
                    d += fmt("%s%s: %s", shown ? "; " : "", thr(t).c_str(), wait_desc(fs[t]).c_str());
                    ++shown;
                }
            report(719, fmt("deadlock: %d of %d threads wait and none can proceed (%d exited): %s%s", n - done, n, done,
                            d.c_str(), n - done > shown ? "; ..." : ""));
            return;
        }
        // Fisher-Yates with a multiply-shift bound (no division): i <= 1024, 32 random bits suffice.
        for (size_t i = ready.size(); i > 1; --i)
            std::swap(ready[i - 1], ready[(static_cast<uint64_t>(static_cast<uint32_t>(splitmix(L->rng))) * i) >> 32]);
        // Run the round: the first fiber from here, each one then hands over to the next itself (park);
        // the last one of the round (or an error) comes back here.
        L->order.swap(ready);
        L->pos = 1;
        g_cur = &fs[L->order[0]];
        polyv_emu_ctx_switch(&L->sched_sp, g_cur->sp);
        g_cur = nullptr;
        ready.swap(L->order);
        if (L->err) return;
    }
}

}  // namespace

extern "C" void polyv_emu_fiber_main() {
    Launch* L = g_launch;
    L->k->def.tramp(L->k->def.fn, L->params);
    leave(g_cur, DONE);
    __builtin_trap();
}

// ---- registry ------------------------------------------------------------------------------------
struct polyv_emu_kernel {
    Kernel k;
};

namespace {
std::once_flag g_reg_once;
std::vector<polyv_emu_kernel*> g_kernels;
std::unordered_map<std::string, polyv_emu_kernel*> g_by_name;

void build_registry() {
    int ntu = 0, nsm = 0;
    const polyv_emu_tu* tus = polyv_emu_registry_tus(&ntu);
    const polyv_emu_smem_def* sm = polyv_emu_registry_smem(&nsm);
    std::unordered_map<std::string, size_t> smem;
    for (int i = 0; i < nsm; ++i) smem[sm[i].name] = sm[i].bytes;
    for (int i = 0; i < ntu; ++i)
        for (int j = 0; j < tus[i].n; ++j) {
            auto* k = new polyv_emu_kernel{Kernel{tus[i].defs[j], 0, 0}};
            auto it = smem.find(k->k.def.name);
            if (it != smem.end()) k->k.static_smem = it->second;
            g_kernels.push_back(k);
            g_by_name[k->k.def.name] = k;
        }
}
}  // namespace

extern "C" {

const polyv_emu_kernel* polyv_emu_find_kernel(const char* name) {
    std::call_once(g_reg_once, build_registry);
    auto it = g_by_name.find(name ? name : "");
    return it == g_by_name.end() ? nullptr : it->second;
}

int polyv_emu_kernel_max_threads(const polyv_emu_kernel* k) { return k->k.def.max_threads; }
size_t polyv_emu_kernel_static_smem(const polyv_emu_kernel* k) { return k->k.static_smem; }
int polyv_emu_kernel_param_count(const polyv_emu_kernel* k) { return k->k.def.nparams; }
size_t polyv_emu_kernel_param_size(const polyv_emu_kernel* k, int i) {
    return i >= 0 && i < k->k.def.nparams ? k->k.def.param_sizes[i] : 0;
}

int polyv_emu_kernel_set_max_dynamic_smem(const polyv_emu_kernel* k, unsigned bytes) {
    if (k->k.static_smem + bytes > kSmemMax) return 1;
    const_cast<polyv_emu_kernel*>(k)->k.max_dyn_smem = bytes;
    return 0;
}

int polyv_emu_kernel_count(void) {
    std::call_once(g_reg_once, build_registry);
    return static_cast<int>(g_kernels.size());
}

const char* polyv_emu_kernel_name(int i) {
    std::call_once(g_reg_once, build_registry);
    return i >= 0 && i < static_cast<int>(g_kernels.size()) ? g_kernels[i]->k.def.name : nullptr;
}

void polyv_emu_register_allocation(const void* base, size_t bytes) {
    std::lock_guard<std::mutex> g(g_alloc_mu);
    g_allocs[reinterpret_cast<uintptr_t>(base)] = bytes;
}

void polyv_emu_unregister_allocation(const void* base) {
    std::lock_guard<std::mutex> g(g_alloc_mu);
    g_allocs.erase(reinterpret_cast<uintptr_t>(base));
}

void polyv_emu_set_seed(uint64_t seed) {
    g_seed.store(seed);
    g_seed_set.store(true);
}

int polyv_emu_launch(const polyv_emu_kernel* kp, polyv_emu_dim3 grid, polyv_emu_dim3 block, unsigned dynamic_smem_bytes,
                     void** params, char* err, size_t err_len) {
    std::call_once(g_init_once, init_once);
    auto fail = [&](int code, const std::string& m) {
        if (err && err_len) snprintf(err, err_len, "%s", m.c_str());
        return code;
    };
    if (!kp) return fail(1, "polyv_emu_launch: null kernel");
    const Kernel& k = kp->k;
    const char* nm = k.def.name;
    if (block.x == 0 || block.y == 0 || block.z == 0 || block.x > 1024 || block.y > 1024 || block.z > 64)
        return fail(1, fmt("kernel %s: invalid block dimensions (%u,%u,%u) (sm_90: x,y <= 1024, z <= 64, all >= 1)", nm,
                           block.x, block.y, block.z));
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
        return fail(1, fmt("kernel %s: invalid grid dimensions (%u,%u,%u) (sm_90: x < 2^31, y,z <= 65535, all >= 1)", nm,
                           grid.x, grid.y, grid.z));
    const unsigned long long threads = 1ull * block.x * block.y * block.z;
    if (threads > static_cast<unsigned long long>(kMaxThreads))
        return fail(701, fmt("kernel %s: %llu threads per block exceed the sm_90 limit of 1024", nm, threads));
    if (threads > static_cast<unsigned long long>(k.def.max_threads))
        return fail(701, fmt("kernel %s: %llu threads per block exceed its __launch_bounds__(%d)", nm, threads,
                             k.def.max_threads));
    const size_t smem = k.static_smem + dynamic_smem_bytes;
    const size_t limit = k.max_dyn_smem ? std::min(kSmemMax, k.static_smem + k.max_dyn_smem) : kSmemDefault;
    if (smem > limit || (k.max_dyn_smem && dynamic_smem_bytes > k.max_dyn_smem))
        return fail(701, fmt("kernel %s: shared memory %zu static + %u dynamic bytes exceed the limit of %zu bytes%s", nm,
                             k.static_smem, dynamic_smem_bytes, limit,
                             k.max_dyn_smem ? "" : " (48 KiB without the MAX_DYNAMIC_SHARED_SIZE_BYTES opt-in)"));
    if (k.def.nparams > 0 && !params) return fail(1, fmt("kernel %s: kernelParams is null", nm));

    std::lock_guard<std::mutex> guard(g_launch_mu);
    Launch L;
    L.k = &k;
    L.params = params;
    L.grid = {grid.x, grid.y, grid.z};
    L.block = {block.x, block.y, block.z};
    L.nthreads = static_cast<int>(threads);
    if (g_fibers.size() < threads) g_fibers.resize(threads);
    L.fibers = &g_fibers;
    {
        std::lock_guard<std::mutex> g(g_alloc_mu);
        for (auto& a : g_allocs) L.allocs.push_back({a.first, a.first + a.second});
    }
    Launch* prev = g_launch;
    g_launch = &L;
    for (unsigned z = 0; z < grid.z && !L.err; ++z)
        for (unsigned y = 0; y < grid.y && !L.err; ++y)
            for (unsigned x = 0; x < grid.x && !L.err; ++x) {
                L.bidx = {x, y, z};
                run_block();
            }
    g_launch = prev;
    g_cur = nullptr;
    if (L.err) return fail(L.err, L.msg);
    if (err && err_len) err[0] = 0;
    return 0;
}

// ---- entry points of the device code (cuda_emu.h) ------------------------------------------------
EmuUint3 polyv_emu_thread_idx(void) { return g_cur ? g_cur->idx : EmuUint3{0, 0, 0}; }
EmuUint3 polyv_emu_block_idx(void) { return g_launch ? g_launch->bidx : EmuUint3{0, 0, 0}; }
EmuUint3 polyv_emu_block_dim(void) { return g_launch ? g_launch->block : EmuUint3{1, 1, 1}; }
EmuUint3 polyv_emu_grid_dim(void) { return g_launch ? g_launch->grid : EmuUint3{1, 1, 1}; }

void polyv_emu_syncthreads(const char* file, int line) {
    Fiber* f = g_cur;
    f->file = file;
    f->line = line;
    leave(f, BAR);
}

void polyv_emu_syncwarp(unsigned mask, const char* file, int line) { collective(K_SYNCWARP, mask, file, line); }

uint64_t polyv_emu_shfl(int mode, unsigned mask, uint64_t v, int arg, int width, const char* file, int line) {
    Fiber* f = g_cur;
    f->in[0] = v;
    f->in[1] = static_cast<uint64_t>(static_cast<uint32_t>(arg));
    f->in[2] = static_cast<uint64_t>(width);
    collective(K_SHFL_IDX + mode, mask, file, line);
    return g_cur->out[0];
}

unsigned polyv_emu_vote(int mode, unsigned mask, uint64_t v, const char* file, int line) {
    g_cur->in[0] = v;
    collective(K_BALLOT + mode, mask, file, line);
    return static_cast<unsigned>(g_cur->out[0]);
}

unsigned polyv_emu_activemask(void) {
    const Warp& W = g_launch->warps[g_cur->tid / 32];
    unsigned m = 0;
    for (uint32_t e = W.exist; e; e &= e - 1)
        if (fib(g_cur->tid / 32 * 32 + __builtin_ctz(e)).state != DONE) m |= e & -e;
    return m;
}

void polyv_emu_ldmatrix_x4(uint32_t* r, const void* p, int trans, const char* file, int line) {
    g_cur->in[0] = reinterpret_cast<uintptr_t>(p);
    collective(trans ? K_LDMATRIX_T : K_LDMATRIX, 0xffffffffu, file, line);
    for (int i = 0; i < 4; ++i) r[i] = static_cast<uint32_t>(g_cur->out[i]);
}

void polyv_emu_mma_bf16_16816(float* c, const uint32_t* a, uint32_t b0, uint32_t b1, const char* file, int line) {
    Fiber* f = g_cur;
    for (int i = 0; i < 4; ++i) f->in[i] = a[i];
    f->in[4] = b0;
    f->in[5] = b1;
    for (int i = 0; i < 4; ++i) f->in[6 + i] = __builtin_bit_cast(uint32_t, c[i]);
    collective(K_MMA, 0xffffffffu, file, line);
    for (int i = 0; i < 4; ++i) c[i] = __builtin_bit_cast(float, static_cast<uint32_t>(g_cur->out[i]));
}

uint32_t polyv_emu_cvta_shared(const void* p, const char* file, int line) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    if (g_cur && a - g_shm_lo >= g_shm_size)
        report(719, fmt("__cvta_generic_to_shared at %s:%d of 0x%lx, not a shared-memory address, by %s", file, line,
                        (unsigned long)a, thr(g_cur->tid).c_str()));
    return static_cast<uint32_t>(a - g_shm_lo);
}

void polyv_emu_cp_async_16(void* dst, const void* src, int src_bytes, const char* file, int line) {
    Fiber* f = g_cur;
    const uintptr_t a = reinterpret_cast<uintptr_t>(dst);
    if (a - g_shm_lo >= g_shm_size || a + 16 > g_shm_lo + g_shm_size || (a & 15))
        report(719, fmt("cp.async at %s:%d: destination 0x%lx is not a 16-byte aligned shared address (%s)", file, line,
                        (unsigned long)a, thr(f->tid).c_str()));
    if (src_bytes < 0 || src_bytes > 16)
        report(719, fmt("cp.async at %s:%d: src-size %d outside 0..16 (%s)", file, line, src_bytes, thr(f->tid).c_str()));
    if (src_bytes > 0) {
        if (reinterpret_cast<uintptr_t>(src) & 15)
            report(719, fmt("cp.async at %s:%d: source %p not 16-byte aligned (%s)", file, line, src, thr(f->tid).c_str()));
        check_access(src, static_cast<size_t>(src_bytes), RD);
    }
    const size_t off = a - g_shm_lo;
    shared_access(f->tid, off, 16, WR, "cp.async write");
    uint8_t tmp[16] = {0};
    if (src_bytes > 0) memcpy(tmp, src, static_cast<size_t>(src_bytes));
    memcpy(dst, tmp, 16);
    for (int i = 0; i < 16; ++i) g_shadow[off + i].pending = 1;
    f->cur_group.push_back(static_cast<uint32_t>(off));
}

void polyv_emu_cp_async_commit(void) {
    Fiber* f = g_cur;
    f->groups.push_back(std::move(f->cur_group));
    f->cur_group.clear();
}

void polyv_emu_cp_async_wait(int n, const char*, int) {
    Fiber* f = g_cur;
    Launch* L = g_launch;
    while (static_cast<int>(f->groups.size()) > n) {
        for (uint32_t off : f->groups.front())
            for (int i = 0; i < 16; ++i) {
                Sh& s = g_shadow[off + i];
                if (s.pending && s.w_tid == f->tid) {
                    s.pending = 0;
                    s.w_epoch = L->epoch;  // the copy is complete (visible to this thread) now
                    s.w_gen = cur_gen(f->tid);
                }
            }
        f->groups.erase(f->groups.begin());
    }
}

uint64_t polyv_emu_atomic(int op, void* p, uint64_t v, uint64_t c, const char* file, int line) {
    using namespace std;
    const bool wide = op == 2 || op == 9 || op == 11 || op == 17;  // A_ADD_U64, A_EXCH_64, A_CAS_64, A_ADD_F64
    const size_t n = wide ? 8 : 4;
    if (g_cur && (reinterpret_cast<uintptr_t>(p) & (n - 1)))
        report(719, fmt("misaligned atomic at %s:%d on %p by %s", file, line, p, thr(g_cur->tid).c_str()));
    check_access(p, n, AT);
    if (wide) {
        uint64_t* q = static_cast<uint64_t*>(p);
        const uint64_t old = *q;
        switch (op) {
            case 2: *q = old + v; break;
            case 9: *q = v; break;
            case 11: if (old == c) *q = v; break;
            case 17: *q = __builtin_bit_cast(uint64_t, __builtin_bit_cast(double, old) + __builtin_bit_cast(double, v)); break;
        }
        return old;
    }
    uint32_t* q = static_cast<uint32_t*>(p);
    const uint32_t old = *q, x = static_cast<uint32_t>(v);
    switch (op) {
        case 0: case 1: *q = old + x; break;
        case 3: *q = __builtin_bit_cast(uint32_t, __builtin_bit_cast(float, old) + __builtin_bit_cast(float, x)); break;
        case 4: *q = static_cast<uint32_t>(max(static_cast<int32_t>(old), static_cast<int32_t>(x))); break;
        case 5: *q = max(old, x); break;
        case 6: *q = static_cast<uint32_t>(min(static_cast<int32_t>(old), static_cast<int32_t>(x))); break;
        case 7: *q = min(old, x); break;
        case 8: *q = x; break;
        case 10: if (old == static_cast<uint32_t>(c)) *q = x; break;
        case 12: *q = old & x; break;
        case 13: *q = old | x; break;
        case 14: *q = old ^ x; break;
        case 15: case 16: *q = old - x; break;
    }
    return old;
}

void polyv_emu_trap(const char* file, int line) {
    if (g_cur) report(719, fmt("__trap() at %s:%d by %s", file, line, thr(g_cur->tid).c_str()));
    abort();
}

void polyv_emu_threadfence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// ---- ThreadSanitizer entry points (the instrumentation of the kernel objects; no libtsan) -----------
#define POLYV_TSAN_RW(N)                                                                      \
    void __tsan_read##N(void* p) { check_access(p, N, RD); }                                  \
    void __tsan_write##N(void* p) { check_access(p, N, WR); }                                 \
    void __tsan_unaligned_read##N(void* p) { check_access(p, N, RD); }                        \
    void __tsan_unaligned_write##N(void* p) { check_access(p, N, WR); }                       \
    void __tsan_read##N##_pc(void* p, void*) { check_access(p, N, RD); }                      \
    void __tsan_write##N##_pc(void* p, void*) { check_access(p, N, WR); }
POLYV_TSAN_RW(1)
POLYV_TSAN_RW(2)
POLYV_TSAN_RW(4)
POLYV_TSAN_RW(8)
POLYV_TSAN_RW(16)
void __tsan_read_range(void* p, size_t n) { if (n) check_access(p, n, RD); }
void __tsan_write_range(void* p, size_t n) { if (n) check_access(p, n, WR); }
void __tsan_init(void) {}
void __tsan_func_entry(void*) {}
void __tsan_func_exit(void) {}
void __tsan_vptr_update(void**, void*) {}
void __tsan_vptr_read(void**) {}
void* __tsan_memcpy(void* d, const void* s, size_t n) {
    if (n) {
        check_access(s, n, RD);
        check_access(d, n, WR);
    }
    return memcpy(d, s, n);
}
void* __tsan_memmove(void* d, const void* s, size_t n) {
    if (n) {
        check_access(s, n, RD);
        check_access(d, n, WR);
    }
    return memmove(d, s, n);
}
void* __tsan_memset(void* d, int c, size_t n) {
    if (n) check_access(d, n, WR);
    return memset(d, c, n);
}

}  // extern "C"
