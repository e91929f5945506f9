// block.cc - runs a kernel's grid on the CPU: blocks one after another, the threads of a block
// as fibers switched by hand-written x86-64 code (swapcontext makes a sigprocmask system call per
// switch and was measured 9x slower), a scheduler that releases barriers, and the checks that
// make the emulation worth running: divergent __syncthreads, warp operations that name an
// exited or absent lane, deadlock, and memory faults (guard pages, see driver.cc) turned into a
// one-line diagnostic with kernel, block, thread and source line instead of a crashed JVM.
//
// Only the device thread (driver.cc) calls run_grid, so the state below is plain globals.
#include <csignal>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <map>
#include <pthread.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "cuda_emu.h"

namespace emu {

// ------------------------------------------------------------------ fibers
namespace {

enum State { READY, AT_BARRIER, AT_WARP, EXITED };

struct Fiber : ThreadState {
    void* sp = nullptr;          // saved stack pointer while switched out
    unsigned char* stack = nullptr;  // lowest usable byte; a guard page lies below it
    int linear = 0, warp = 0, lane = 0;
    State state = READY;
    int line = 0;                // where it waits (barrier or warp operation)
    const char* file = "";
    WarpOp op = SYNCWARP;        // the pending warp operation and its operands
    unsigned mask = 0;
    uint64_t bits = 0, result = 0;
    int arg = 0, width = 32;
    WarpFn fn = nullptr;         // COLLECTIVE: what runs once every lane arrived
};

constexpr size_t STACK_BYTES = 64 * 1024;  // g2g's kernels need < 4 KiB; a guard page catches more
constexpr int MAX_THREADS = 1024;

Fiber g_fibers[MAX_THREADS];
int g_pool = 0;                  // fibers with a stack
void* g_sched_sp;                // the scheduler's stack pointer while a fiber runs
Fiber* g_cur;
const Kernel* g_kernel;
const unsigned char* g_args;

// Fault state, written by the signal handler, read after siglongjmp.
volatile sig_atomic_t g_in_kernel;
sigjmp_buf g_fault_jmp;
pthread_t g_device_thread;
void* volatile g_fault_addr;
volatile uintptr_t g_fault_rip;
volatile int g_fault_sig, g_fault_write;
struct sigaction g_prev[32];

}  // namespace

ThreadState* g_thread;
Dim3 g_blockIdx, g_blockDim, g_gridDim;

}  // namespace emu

// emu_switch(save, load): push the callee-saved registers and the SSE/x87 control words, store
// the stack pointer in *save, continue on stack `load` (which was saved the same way).
// emu_fiber_start: where a fresh fiber stack "returns" to; rbx holds the Fiber*.
extern "C" void emu_switch(void** save, void* load);
extern "C" void emu_fiber_start();
asm(R"(
    .text
    .p2align 4
    .globl emu_switch
    .hidden emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch

    .p2align 4
    .globl emu_fiber_start
    .hidden emu_fiber_start
    .type emu_fiber_start, @function
emu_fiber_start:
    movq %rbx, %rdi
    andq $-16, %rsp
    call emu_fiber_main
    ud2
    .size emu_fiber_start, .-emu_fiber_start
)");

extern "C" __attribute__((used, visibility("hidden"))) void emu_fiber_main(emu::Fiber* f) {
    emu::g_kernel->call(emu::g_args, emu::g_kernel->offset.data());
    f->state = emu::EXITED;
    emu_switch(&f->sp, emu::g_sched_sp);
    std::abort();  // an exited fiber is never resumed
}

namespace emu {
namespace {

// A fresh stack whose first switch-in "returns" into emu_fiber_start with rbx = f. Layout from
// the saved sp upwards: control words (8 bytes), r15 r14 r13 r12 rbx rbp, return address, pad.
void reset(Fiber& f) {
    uintptr_t top = (reinterpret_cast<uintptr_t>(f.stack) + STACK_BYTES) & ~uintptr_t(15);
    uint64_t* sp = reinterpret_cast<uint64_t*>(top - 72);
    unsigned mxcsr;
    unsigned short fpucw;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpucw));
    sp[0] = uint64_t(mxcsr) | (uint64_t(fpucw) << 32);
    sp[1] = sp[2] = sp[3] = sp[4] = 0;                       // r15 r14 r13 r12
    sp[5] = reinterpret_cast<uint64_t>(&f);                   // rbx
    sp[6] = 0;                                                // rbp
    sp[7] = reinterpret_cast<uint64_t>(&emu_fiber_start);     // return address
    sp[8] = 0;
    f.sp = sp;
    f.state = READY;
}

void grow_pool(int n) {
    long page = sysconf(_SC_PAGESIZE);
    for (; g_pool < n; g_pool++) {
        void* m = mmap(nullptr, STACK_BYTES + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) { perror("g2g CUDA emulator: fiber stack"); std::abort(); }
        mprotect(m, page, PROT_NONE);  // stack overflow faults instead of corrupting a neighbour
        g_fibers[g_pool].stack = static_cast<unsigned char*>(m) + page;
    }
}

std::string base(const char* file) {
    const char* s = strrchr(file, '/');
    return s ? s + 1 : file;
}
std::string site(const Fiber& f) { return base(f.file) + ":" + std::to_string(f.line); }
std::string tid(const Fiber& f) {
    return "(" + std::to_string(f.tid.x) + "," + std::to_string(f.tid.y) + "," + std::to_string(f.tid.z) + ")";
}
const char* op_name(WarpOp op) {
    switch (op) {
        case SHFL_IDX: return "__shfl_sync";
        case SHFL_XOR: return "__shfl_xor_sync";
        case SHFL_UP: return "__shfl_up_sync";
        case SHFL_DOWN: return "__shfl_down_sync";
        case BALLOT: return "__ballot_sync";
        case COLLECTIVE: return "mma.sync";
        default: return "__syncwarp";
    }
}
char hexbuf[16];
const char* hex(unsigned m) { snprintf(hexbuf, sizeof hexbuf, "0x%08x", m); return hexbuf; }

// Groups of threads by where they wait, for divergence and deadlock messages:
// "threads 0..31 at gemm.cu:88, threads 32..255 at gemm.cu:120".
std::string where_all(int n, State want) {
    std::map<std::string, std::pair<int, int>> at;  // site -> (count, first thread)
    for (int i = 0; i < n; i++) {
        const Fiber& f = g_fibers[i];
        if (f.state != want) continue;
        std::string s = (want == AT_WARP ? std::string(op_name(f.op)) + " " : std::string("__syncthreads ")) + site(f);
        auto it = at.find(s);
        if (it == at.end()) at[s] = {1, i};
        else it->second.first++;
    }
    std::string out;
    for (auto& e : at) {
        if (!out.empty()) out += "; ";
        out += std::to_string(e.second.first) + " thread(s) from " + std::to_string(e.second.second) + " at " + e.first;
    }
    return out;
}

struct Block {
    int n = 0, live = 0, at_barrier = 0;
    std::string err;

    Fiber* lane_fiber(int warp, int lane) {
        int i = warp * 32 + lane;
        return i < n ? &g_fibers[i] : nullptr;
    }

    void release_barrier() {
        const Fiber* first = nullptr;
        for (int i = 0; i < n; i++) {
            Fiber& f = g_fibers[i];
            if (f.state != AT_BARRIER) continue;
            if (!first) first = &f;
            else if (f.line != first->line || strcmp(f.file, first->file) != 0) {
                err = "divergent __syncthreads: " + where_all(n, AT_BARRIER);
                return;
            }
        }
        for (int i = 0; i < n; i++) if (g_fibers[i].state == AT_BARRIER) g_fibers[i].state = READY;
        at_barrier = 0;
    }

    // Lane f arrived at a warp operation: check its mask, then complete the operation if every
    // lane of the mask is there.
    void arrive_warp(Fiber& f) {
        if (!(f.mask >> f.lane & 1u)) {
            err = std::string(op_name(f.op)) + " at " + site(f) + ": thread " + tid(f) + " (lane " + std::to_string(f.lane) +
                  ") calls it with mask " + hex(f.mask) + " that does not include itself";
            return;
        }
        for (int l = 0; l < 32; l++) {
            if (!(f.mask >> l & 1u)) continue;
            Fiber* o = lane_fiber(f.warp, l);
            if (!o || o->state == EXITED) {
                err = std::string(op_name(f.op)) + " at " + site(f) + " with mask " + hex(f.mask) + ": lane " + std::to_string(l) +
                      " of warp " + std::to_string(f.warp) + (o ? " has exited" : " does not exist (block of " + std::to_string(n) + " threads)");
                return;
            }
            if (o->state != AT_WARP) return;  // not complete yet
        }
        // every lane of the mask waits here: same operation, same site, same mask?
        for (int l = 0; l < 32; l++) {
            if (!(f.mask >> l & 1u)) continue;
            Fiber* o = lane_fiber(f.warp, l);
            if (o->op != f.op || o->line != f.line || strcmp(o->file, f.file) != 0 || o->mask != f.mask || o->fn != f.fn) {
                err = "divergent warp operation in warp " + std::to_string(f.warp) + ": lane " + std::to_string(f.lane) + " at " +
                      op_name(f.op) + " " + site(f) + " mask " + hex(f.mask) + ", lane " + std::to_string(l) + " at " + op_name(o->op) +
                      " " + site(*o) + " mask " + hex(o->mask);
                return;
            }
        }
        if (f.op == COLLECTIVE) {  // one call for the warp, with every lane's operands
            void* lanes[32] = {};
            for (int l = 0; l < 32; l++)
                if (f.mask >> l & 1u) lanes[l] = reinterpret_cast<void*>(lane_fiber(f.warp, l)->bits);
            f.fn(lanes);
            for (int l = 0; l < 32; l++) if (f.mask >> l & 1u) lane_fiber(f.warp, l)->state = READY;
            return;
        }
        unsigned ballot = 0;
        for (int l = 0; l < 32; l++)
            if ((f.mask >> l & 1u) && lane_fiber(f.warp, l)->bits) ballot |= 1u << l;
        for (int l = 0; l < 32; l++) {
            if (!(f.mask >> l & 1u)) continue;
            Fiber* o = lane_fiber(f.warp, l);
            int w = o->width, seg = (l / w) * w, src = l;
            switch (o->op) {
                case SHFL_IDX: src = seg + ((o->arg % w) + w) % w; break;
                case SHFL_XOR: src = l ^ o->arg; if (src < seg || src >= seg + w) src = l; break;
                case SHFL_UP: src = l - o->arg; if (src < seg) src = l; break;
                case SHFL_DOWN: src = l + o->arg; if (src >= seg + w) src = l; break;
                default: break;
            }
            if (o->op == BALLOT) o->result = ballot;
            else if (o->op == SYNCWARP) o->result = 0;
            else if (src < 0 || src > 31 || !(f.mask >> src & 1u)) {
                err = std::string(op_name(o->op)) + " at " + site(*o) + ": lane " + std::to_string(l) + " reads lane " +
                      std::to_string(src) + ", which is not in the mask " + hex(f.mask);
                return;
            } else o->result = lane_fiber(f.warp, src)->bits;
        }
        for (int l = 0; l < 32; l++) if (f.mask >> l & 1u) lane_fiber(f.warp, l)->state = READY;
    }

    // After fiber f switched back to the scheduler.
    void settle(Fiber& f) {
        if (f.state == EXITED) {
            live--;
            // CUDA: a __syncthreads must be reached by every thread of the block or by none. A
            // thread that exits while others wait at one (or before others reach one, below) is
            // a divergent barrier, even where a GPU happens to release it.
            if (at_barrier > 0) {
                err = "divergent __syncthreads: thread " + tid(f) + " exited while " + where_all(n, AT_BARRIER);
                return;
            }
            // a lane of its warp waiting for it at a warp operation would wait forever
            for (int l = 0; l < 32; l++) {
                Fiber* o = lane_fiber(f.warp, l);
                if (o && o->state == AT_WARP && (o->mask >> f.lane & 1u)) {
                    err = std::string(op_name(o->op)) + " at " + site(*o) + " with mask " + hex(o->mask) + ": lane " +
                          std::to_string(f.lane) + " of warp " + std::to_string(f.warp) + " has exited (thread " + tid(f) + ")";
                    return;
                }
            }
        } else if (f.state == AT_BARRIER) {
            if (live < n) {
                err = "divergent __syncthreads at " + site(f) + ": reached after " + std::to_string(n - live) +
                      " thread(s) of the block exited";
                return;
            }
            at_barrier++;
        } else if (f.state == AT_WARP) {
            arrive_warp(f);
            if (!err.empty()) return;
        }
        if (at_barrier > 0 && at_barrier == live) release_barrier();
    }

    std::string run(int threads) {
        n = threads;
        live = n;
        for (int i = 0; i < n; i++) reset(g_fibers[i]);
        for (;;) {
            bool ran = false;
            for (int i = 0; i < n; i++) {
                Fiber& f = g_fibers[i];
                if (f.state != READY) continue;
                g_cur = &f;
                g_thread = &f;
                emu_switch(&g_sched_sp, f.sp);
                ran = true;
                settle(f);
                if (!err.empty()) return err;
            }
            if (live == 0) return "";
            if (!ran) {
                std::string w = where_all(n, AT_BARRIER), v = where_all(n, AT_WARP);
                return "deadlock: " + w + (w.empty() || v.empty() ? "" : "; ") + v + " (" + std::to_string(n - live) + " exited)";
            }
        }
    }
};

// ------------------------------------------------------------------ faults
void on_fault(int sig, siginfo_t* info, void* uc) {
    if (g_in_kernel && pthread_equal(pthread_self(), g_device_thread)) {
        g_in_kernel = 0;
        g_fault_sig = sig;
        g_fault_addr = info->si_addr;
        const ucontext_t* u = static_cast<const ucontext_t*>(uc);
        g_fault_rip = u->uc_mcontext.gregs[REG_RIP];
        g_fault_write = (u->uc_mcontext.gregs[REG_ERR] & 2) != 0;
        siglongjmp(g_fault_jmp, 1);
    }
    // not ours (the JVM uses SIGSEGV itself): hand over to whoever was installed before us
    const struct sigaction& p = g_prev[sig];
    if (p.sa_flags & SA_SIGINFO) {
        p.sa_sigaction(sig, info, uc);
    } else if (p.sa_handler == SIG_DFL) {
        signal(sig, SIG_DFL);
        raise(sig);
    } else if (p.sa_handler != SIG_IGN) {
        p.sa_handler(sig);
    }
}

// "gemm.cu:112" for a code address inside a kernel, via addr2line on our own library (built -g).
std::string source_line(uintptr_t rip) {
    Dl_info di;
    if (!dladdr(reinterpret_cast<void*>(rip), &di) || !di.dli_fname) return "";
    if (!di.dli_sname) di.dli_sname = nullptr;
    std::string out;
    if (di.dli_sname) out = std::string(" in ") + di.dli_sname;
    const char* no = getenv("G2G_EMU_NO_ADDR2LINE");
    if (no && *no) return out;
    char cmd[1200];
    const char* file = di.dli_fname[0] ? di.dli_fname : "/proc/self/exe";  // "" for the main program
    snprintf(cmd, sizeof cmd, "addr2line -e '%s' 0x%lx 2>/dev/null", file,
             static_cast<unsigned long>(rip - reinterpret_cast<uintptr_t>(di.dli_fbase)));
    FILE* p = popen(cmd, "r");
    if (!p) return out;
    char line[1024] = {0};
    if (fgets(line, sizeof line, p) && line[0] != '?') {
        std::string l = line;
        while (!l.empty() && (l.back() == '\n' || l.back() == ' ')) l.pop_back();
        size_t d = l.find(" (discriminator");
        if (d != std::string::npos) l = l.substr(0, d);
        out += " at " + base(l.c_str());
    }
    pclose(p);
    return out;
}

std::string fault_message() {
    uintptr_t a = reinterpret_cast<uintptr_t>(g_fault_addr);
    std::string what = g_fault_sig == SIGFPE ? "arithmetic exception (integer division by zero?)"
                       : g_fault_sig == SIGILL ? "illegal instruction"
                       : std::string("invalid ") + (g_fault_write ? "write" : "read") + " at address " + std::to_string(a);
    if (g_fault_sig == SIGSEGV || g_fault_sig == SIGBUS) {
        char h[32];
        snprintf(h, sizeof h, "0x%lx", static_cast<unsigned long>(a));
        what = std::string("invalid ") + (g_fault_write ? "write" : "read") + " at " + h;
        for (int i = 0; i < g_pool; i++) {
            uintptr_t lo = reinterpret_cast<uintptr_t>(g_fibers[i].stack);
            if (a < lo && a + 8192 >= lo) { what = "stack overflow of an emulated thread (64 KiB)"; break; }
        }
        if (what.rfind("stack", 0) != 0) what += " (" + describe_address(a) + ")";
    }
    return "thread " + tid(*g_cur) + ": " + what + source_line(g_fault_rip);
}

}  // namespace

void prepare_device_thread() {
    g_device_thread = pthread_self();
    // faults run their handler on an alternate stack: a fiber's own stack may be what overflowed
    stack_t ss;
    ss.ss_size = 256 * 1024;
    ss.ss_sp = mmap(nullptr, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ss.ss_flags = 0;
    sigaltstack(&ss, nullptr);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL}) sigaction(sig, &sa, &g_prev[sig]);
}

std::string run_grid(const Kernel& k, const unsigned char* args, Dim3 grid, Dim3 block) {
    const int n = static_cast<int>(block.x * block.y * block.z);
    if (n <= 0 || n > MAX_THREADS) return "block of " + std::to_string(n) + " threads (at most 1024)";
    grow_pool(n);
    for (int i = 0; i < n; i++) {
        Fiber& f = g_fibers[i];
        f.linear = i;
        f.warp = i / 32;
        f.lane = i % 32;
        f.tid = Dim3{unsigned(i) % block.x, unsigned(i) / block.x % block.y, unsigned(i) / (block.x * block.y)};
    }
    g_kernel = &k;
    g_args = args;
    g_gridDim = grid;
    g_blockDim = block;
    static Block b;  // static: its fields survive a siglongjmp
    if (sigsetjmp(g_fault_jmp, 1)) {
        g_thread = nullptr;
        return "kernel " + k.name + " block (" + std::to_string(g_blockIdx.x) + "," + std::to_string(g_blockIdx.y) + "," +
               std::to_string(g_blockIdx.z) + "): " + fault_message();
    }
    g_in_kernel = 1;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                g_blockIdx = Dim3{x, y, z};
                b = Block();
                std::string err = b.run(n);
                if (!err.empty()) {
                    g_in_kernel = 0;
                    g_thread = nullptr;
                    return "kernel " + k.name + " block (" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(z) + "): " + err;
                }
            }
    g_in_kernel = 0;
    g_thread = nullptr;
    return "";
}

// ------------------------------------------------------------------ called from kernels
void sync_block(int line, const char* file) {
    Fiber* f = g_cur;
    f->state = AT_BARRIER;
    f->line = line;
    f->file = file;
    emu_switch(&f->sp, g_sched_sp);
}

uint64_t warp_op(WarpOp op, unsigned mask, uint64_t bits, int arg, int width, int line, const char* file) {
    Fiber* f = g_cur;
    f->state = AT_WARP;
    f->op = op;
    if (op != COLLECTIVE) f->fn = nullptr;
    f->mask = mask;
    f->bits = bits;
    f->arg = arg;
    f->width = (width > 0 && width <= 32 && (width & (width - 1)) == 0) ? width : 32;
    f->line = line;
    f->file = file;
    emu_switch(&f->sp, g_sched_sp);
    return f->result;
}

void warp_collective(unsigned mask, void* mine, WarpFn fn, int line, const char* file) {
    Fiber* f = g_cur;
    f->fn = fn;
    warp_op(COLLECTIVE, mask, reinterpret_cast<uint64_t>(mine), 0, 32, line, file);
}

// ------------------------------------------------------------------ registry
namespace {
std::map<std::string, Kernel>& registry() {
    static std::map<std::string, Kernel> r;
    return r;
}
}  // namespace

void register_kernel(Kernel k) { registry()[k.name] = std::move(k); }

const Kernel* find_kernel(const std::string& name) {
    auto it = registry().find(name);
    return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> kernel_names() {
    std::vector<std::string> v;
    for (auto& e : registry()) v.push_back(e.first);
    return v;
}

}  // namespace emu
