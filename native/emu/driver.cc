// driver.cc - libcuda.so.1 of g2g's emulated CUDA device: the driver-API functions the JCuda
// backend calls (README.md lists them), implemented on the CPU.
//
// Device: one "GPU" named "CPU emulation (g2g libcuda emulator)", compute capability 9.0,
// driver version 13.0 (G2G_EMU_DEVICES=N: N such devices, each with its primary context, sharing
// one memory pool and the one device thread - enough to check that work goes to the device named). Device memory is host memory (see alloc below: guard page after each
// block, poisoned with 0xFF, quarantined after free). Work queued on a stream (launches, async
// copies and fills, event records, cuBLAS/cuSPARSE calls of the fake libraries) runs on one
// device thread, in stream order, and only when the host waits for it: a stream/event/context
// synchronisation, a synchronous copy (legacy default-stream semantics: it waits for all
// blocking streams), cuMemFree (which synchronises, as the real one does), or a full queue.
// Running work as late as the CUDA rules allow makes a missing synchronisation read poison.
// A failure inside device work (fault, divergent barrier, deadlock, a library operand outside
// its allocation) prints one line, is sticky like a GPU's, and every later call returns it.
//
// Environment: G2G_EMU_DEVICES=0 (no device: cuInit says CUDA_ERROR_NO_DEVICE; N: N devices, at most 8),
// G2G_EMU_MEMORY_MB (device memory, default 16384; beyond it cuMemAlloc says out of memory),
// G2G_EMU_REPORT=1 (launches, allocations and leaks printed at exit),
// G2G_CUDA_EMULATION=host-only (kernels and library calls are checked and counted, not run),
// G2G_EMU_VERBOSE=1 (every launch printed).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

#include "emu.h"

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct Ctx* CUcontext;
typedef struct Module* CUmodule;
typedef struct Function* CUfunction;
typedef struct StreamObj* CUstream;
typedef struct Event* CUevent;
typedef struct Graph* CUgraph;
typedef struct GraphExec* CUgraphExec;
typedef struct Node* CUgraphNode;

enum {
    CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_OUT_OF_MEMORY = 2, CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_NO_DEVICE = 100, CUDA_ERROR_INVALID_DEVICE = 101, CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201, CUDA_ERROR_INVALID_HANDLE = 400, CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600, CUDA_ERROR_ILLEGAL_ADDRESS = 700, CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_SUPPORTED = 801, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901, CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD = 908,
    CUDA_ERROR_ILLEGAL_STATE = 401, CUDA_ERROR_UNKNOWN = 999
};

// CUDA_KERNEL_NODE_PARAMS_v2 as in cuda.h 12.x (JCuda 12.6 passes this layout).
struct CUDA_KERNEL_NODE_PARAMS {
    CUfunction func;
    unsigned gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes;
    void** kernelParams;
    void** extra;
    void* kern;
    CUcontext ctx;
};

#define API extern "C" EMU_EXPORT

namespace emu {
namespace {

const char* const DEVICE_NAME = "CPU emulation (g2g libcuda emulator)";

// ------------------------------------------------------------------ state
// live: usable by work queued from now on (false once freed, or once cuMemFreeAsync was called);
// stream_ordered: from cuMemAllocAsync, so cuMemFreeAsync may free it.
struct Alloc { uintptr_t map; size_t map_bytes; uintptr_t data; size_t bytes; long id; bool live; bool stream_ordered = false; };

struct Launch {               // a kernel launch, as queued or as a graph node
    const Kernel* k;
    Dim3 grid, block;
    std::vector<unsigned char> args;
};
struct Cmd {
    std::string what;
    std::shared_ptr<Launch> launch;  // a kernel launch, or
    std::function<void()> op;        // any other device work
    bool compute = true;
};

struct KernelStats { long launches = 0, blocks = 0; double seconds = 0; };

struct Graph { std::vector<std::shared_ptr<Node>> nodes; };

}  // namespace
}  // namespace emu

struct Node { emu::Cmd cmd; };
struct Ctx { int device = 0; int refs = 0; };
struct Module { std::set<std::string> names; bool loaded = true; };
struct Function { const emu::Kernel* k; Module* m; };
struct StreamObj {
    unsigned flags = 0;                  // 1 = CU_STREAM_NON_BLOCKING
    std::deque<emu::Cmd> queue;          // queued, not yet handed to the device thread
    std::shared_ptr<emu::Graph> capture; // set while capturing
    int capture_mode = 0;                // 0 global, 1 thread-local, 2 relaxed
    std::thread::id capture_thread;      // who began the capture (thread-local mode restricts only it)
    bool capture_invalid = false;
};
struct Event { bool recorded = false, done = false; std::chrono::steady_clock::time_point t; StreamObj* stream = nullptr; };
struct Graph : emu::Graph {};
struct GraphExec { std::vector<emu::Cmd> cmds; std::vector<Node*> from; };

namespace emu {
namespace {

struct Globals {
    std::mutex mu;                       // API state, queues
    std::condition_variable work_cv, done_cv;
    std::deque<Cmd> work;                // handed to the device thread, in order
    uint64_t released = 0, completed = 0;
    bool started = false, initialised = false;
    int devices = 1;
    bool host_only = false, report = false, verbose = false;
    size_t limit = 16ull << 30, used = 0, peak = 0;
    long allocs = 0, frees = 0, next_id = 1;
    int sticky = 0;                      // first device failure; every later call returns it
    std::string sticky_msg;
    std::mutex msg_mu;                   // last_msg: the last failed call's diagnostic
    std::string last_msg;
    Ctx primary[8];                      // one primary context per emulated device (G2G_EMU_DEVICES, at most 8)
    StreamObj null_stream;
    std::set<StreamObj*> streams;
    std::map<std::string, KernelStats> stats;
    long library_ops = 0;

    std::mutex mem_mu;                   // the allocation table (host and device thread read it)
    std::map<uintptr_t, Alloc> mem;      // by data address; freed blocks stay (quarantine)
};
Globals& G = *new Globals;               // never destroyed: the device thread may outlive exit()
thread_local CUcontext t_current = nullptr;

void say(const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "g2g CUDA emulator: %s\n", buf);
    fflush(stderr);
}

// A user error of an API call: printed, kept for cuGetErrorString, returned.
CUresult fail(CUresult r, const std::string& msg) {
    say("%s", msg.c_str());
    std::lock_guard<std::mutex> l(G.msg_mu);
    G.last_msg = msg;
    return r;
}

size_t env_size(const char* name, size_t dflt) {
    const char* v = getenv(name);
    return v && *v ? strtoull(v, nullptr, 10) : dflt;
}

void report();

void configure() {
    G.devices = static_cast<int>(std::min<size_t>(env_size("G2G_EMU_DEVICES", 1), 8));
    for (int i = 0; i < 8; i++) G.primary[i].device = i;
    G.limit = env_size("G2G_EMU_MEMORY_MB", 16384) << 20;
    const char* e = getenv("G2G_CUDA_EMULATION");
    G.host_only = e && strcmp(e, "host-only") == 0;
    G.report = env_size("G2G_EMU_REPORT", 0) != 0;
    G.verbose = env_size("G2G_EMU_VERBOSE", 0) != 0;
    if (G.report) atexit(report);
}

// ------------------------------------------------------------------ device thread
void device_loop() {
    prepare_device_thread();
    std::unique_lock<std::mutex> lock(G.mu);
    for (;;) {
        G.work_cv.wait(lock, [] { return !G.work.empty(); });
        Cmd c = std::move(G.work.front());
        G.work.pop_front();
        bool skip = G.sticky != 0;  // a failed context runs nothing more
        lock.unlock();
        std::string err;
        double secs = 0;
        if (!skip && !(G.host_only && c.compute)) {
            auto t0 = std::chrono::steady_clock::now();
            if (c.launch) err = run_grid(*c.launch->k, c.launch->args.data(), c.launch->grid, c.launch->block);
            else if (c.op) c.op();
            secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        lock.lock();
        if (c.launch) G.stats[c.launch->k->name].seconds += secs;
        if (!err.empty() && !G.sticky) {
            G.sticky = err.find("invalid ") != std::string::npos || err.find("stack overflow") != std::string::npos
                           ? CUDA_ERROR_ILLEGAL_ADDRESS : CUDA_ERROR_LAUNCH_FAILED;
            G.sticky_msg = err;
            say("%s", err.c_str());
        }
        G.completed++;
        G.done_cv.notify_all();
    }
}

void start_device() {
    if (G.started) return;
    G.started = true;
    std::thread(device_loop).detach();
}

// Hands the queued work of `s` to the device thread (lock held).
void release(StreamObj* s) {
    while (!s->queue.empty()) {
        G.work.push_back(std::move(s->queue.front()));
        s->queue.pop_front();
        G.released++;
    }
    G.work_cv.notify_one();
}

// Waits until everything handed over so far has run (lock held, released while waiting).
CUresult wait_device(std::unique_lock<std::mutex>& lock) {
    uint64_t target = G.released;
    G.done_cv.wait(lock, [&] { return G.completed >= target; });
    return G.sticky;
}

// Whether a capture forbids the calling thread's synchronous calls, as the real driver decides:
// a global-mode capture forbids them on every thread, a thread-local one only on the thread that
// began it (so K runs of one process may capture their own streams while the others copy,
// allocate and synchronise), a relaxed one on none.
bool restricts_caller(const StreamObj* s) {
    if (!s->capture) return false;
    if (s->capture_mode == 0) return true;
    return s->capture_mode == 1 && s->capture_thread == std::this_thread::get_id();
}

bool capturing_any() {
    for (StreamObj* s : G.streams) if (restricts_caller(s)) return true;
    return false;
}

// A synchronous operation while a stream is being captured (global mode, or thread-local mode on
// the capturing thread) is not allowed and invalidates the capture, as with the real driver.
CUresult refuse_during_capture(const char* what) {
    for (StreamObj* s : G.streams)
        if (restricts_caller(s)) {
            s->capture_invalid = true;
            return fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
                        std::string(what) + " while a stream is being captured: not allowed (capture invalidated)");
        }
    return CUDA_SUCCESS;
}

// Synchronise stream s; the legacy default stream (null) waits for every blocking stream.
CUresult sync_stream(std::unique_lock<std::mutex>& lock, StreamObj* s) {
    if (s == &G.null_stream) {
        for (StreamObj* o : G.streams) if (!(o->flags & 1)) release(o);
    }
    release(s);
    return wait_device(lock);
}

CUresult sync_all(std::unique_lock<std::mutex>& lock) {
    for (StreamObj* o : G.streams) release(o);
    release(&G.null_stream);
    return wait_device(lock);
}

StreamObj* stream_of(CUstream h) {
    uintptr_t v = reinterpret_cast<uintptr_t>(h);
    if (v == 0 || v == 1 || v == 2) return &G.null_stream;  // legacy / per-thread default stream
    return G.streams.count(h) ? h : nullptr;
}

CUresult push(StreamObj* s, Cmd c, std::unique_lock<std::mutex>& lock) {
    if (s->capture) {
        auto n = std::make_shared<Node>();
        n->cmd = std::move(c);
        s->capture->nodes.push_back(n);
        return CUDA_SUCCESS;
    }
    s->queue.push_back(std::move(c));
    if (s->queue.size() >= 4096) {  // a full push buffer makes the host wait, as on a GPU
        release(s);
        return wait_device(lock);
    }
    return CUDA_SUCCESS;
}

#define NEED_INIT()                                            \
    if (!G.initialised) return CUDA_ERROR_NOT_INITIALIZED;
#define NEED_CTX()                                             \
    NEED_INIT();                                               \
    if (!t_current) return fail(CUDA_ERROR_INVALID_CONTEXT, std::string(__func__) + ": no current context on this thread (cuCtxSetCurrent)");

// ------------------------------------------------------------------ memory
std::string hex(uintptr_t a) {
    char b[32];
    snprintf(b, sizeof b, "0x%lx", static_cast<unsigned long>(a));
    return b;
}

const Alloc* containing(uintptr_t a) {  // mem_mu held; the block whose mapping holds a, or null
    auto it = G.mem.upper_bound(a);
    if (it != G.mem.begin()) {
        --it;
        const Alloc& m = it->second;
        if (a >= m.map && a < m.map + m.map_bytes) return &m;
    }
    it = G.mem.upper_bound(a);
    if (it != G.mem.end() && a >= it->second.map) return &it->second;
    return nullptr;
}

}  // namespace

std::string describe_address(uintptr_t a) {
    std::lock_guard<std::mutex> l(G.mem_mu);
    const Alloc* m = containing(a);
    if (!m) return "not in any device allocation";
    std::string id = "allocation #" + std::to_string(m->id) + " of " + std::to_string(m->bytes) + " bytes at " + hex(m->data);
    if (!m->live) return "inside freed " + id + " (use after free)";
    if (a >= m->data + m->bytes) return std::to_string(a - m->data - m->bytes) + " bytes past the end of " + id;
    if (a < m->data) return std::to_string(m->data - a) + " bytes before " + id;
    return "inside " + id;
}

bool check_range(const void* p, size_t bytes, const std::string& what, std::string* why) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    std::lock_guard<std::mutex> l(G.mem_mu);
    auto it = G.mem.upper_bound(a);
    if (it != G.mem.begin()) {
        --it;
        const Alloc& m = it->second;
        if (m.live && a >= m.data && a <= m.data + m.bytes) {
            if (a + bytes <= m.data + m.bytes) return true;
            *why = what + " = " + hex(a) + " spans " + std::to_string(bytes) + " bytes, " + std::to_string(a + bytes - m.data - m.bytes) +
                   " past the end of allocation #" + std::to_string(m.id) + " (" + std::to_string(m.bytes) + " bytes at " + hex(m.data) + ")";
            return false;
        }
    }
    const Alloc* m = containing(a);
    *why = what + " = " + hex(a) + " is not in a live device allocation";
    if (m) *why += " (" + std::string(m->live ? "near" : "in freed") + " allocation #" + std::to_string(m->id) + " of " +
                   std::to_string(m->bytes) + " bytes at " + hex(m->data) + ")";
    return false;
}

int enqueue(Stream sh, const std::string& what, std::function<void()> op, bool compute) {
    std::unique_lock<std::mutex> lock(G.mu);
    if (G.sticky) return G.sticky;
    StreamObj* s = stream_of(static_cast<CUstream>(sh));
    if (!s) return fail(CUDA_ERROR_INVALID_HANDLE, what + ": invalid stream");
    Cmd c;
    c.what = what;
    c.op = std::move(op);
    c.compute = compute;
    if (compute) G.library_ops++;
    return push(s, std::move(c), lock);
}

void device_error(const std::string& msg) {
    std::lock_guard<std::mutex> lock(G.mu);  // called from device work: the device thread holds no lock then
    if (!G.sticky) {
        G.sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
        G.sticky_msg = msg;
        say("%s", msg.c_str());
    }
}

bool verbose() { return G.verbose; }

namespace {

// Range check for a driver call on the host side: a user error when it fails.
CUresult checked(const void* p, size_t bytes, const std::string& what) {
    std::string why;
    if (bytes == 0 && p == nullptr) return CUDA_SUCCESS;
    if (!check_range(p, bytes, what, &why)) return fail(CUDA_ERROR_INVALID_VALUE, why);
    return CUDA_SUCCESS;
}

void report() {
    std::unique_lock<std::mutex> lock(G.mu, std::try_to_lock);
    fprintf(stderr, "g2g CUDA emulator report (%s):\n", G.host_only ? "host-only: kernels not run" : "kernels run on the CPU");
    long total = 0;
    for (auto& e : G.stats) {
        fprintf(stderr, "  kernel %-16s %8ld launches %10ld blocks %9.3f s\n", e.first.c_str(), e.second.launches, e.second.blocks,
                e.second.seconds);
        total += e.second.launches;
    }
    fprintf(stderr, "  %ld kernel launches, %ld library calls (cuBLAS/cuSPARSE)\n", total, G.library_ops);
    std::lock_guard<std::mutex> l(G.mem_mu);
    long leaks = 0;
    size_t leaked = 0;
    for (auto& e : G.mem) if (e.second.live) { leaks++; leaked += e.second.bytes; }
    fprintf(stderr, "  %ld allocations, %ld frees, peak %.1f MiB, %ld blocks (%.1f MiB) still allocated at exit\n", G.allocs,
            G.frees, G.peak / 1048576.0, leaks, leaked / 1048576.0);
    if (G.sticky) fprintf(stderr, "  device failed: %s\n", G.sticky_msg.c_str());
}

const char* error_name(CUresult r) {
    switch (r) {
        case 0: return "CUDA_SUCCESS";
        case 1: return "CUDA_ERROR_INVALID_VALUE";
        case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
        case 3: return "CUDA_ERROR_NOT_INITIALIZED";
        case 100: return "CUDA_ERROR_NO_DEVICE";
        case 101: return "CUDA_ERROR_INVALID_DEVICE";
        case 200: return "CUDA_ERROR_INVALID_IMAGE";
        case 201: return "CUDA_ERROR_INVALID_CONTEXT";
        case 400: return "CUDA_ERROR_INVALID_HANDLE";
        case 401: return "CUDA_ERROR_ILLEGAL_STATE";
        case 500: return "CUDA_ERROR_NOT_FOUND";
        case 600: return "CUDA_ERROR_NOT_READY";
        case 700: return "CUDA_ERROR_ILLEGAL_ADDRESS";
        case 719: return "CUDA_ERROR_LAUNCH_FAILED";
        case 801: return "CUDA_ERROR_NOT_SUPPORTED";
        case 900: return "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED";
        case 901: return "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED";
        case 908: return "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD";
        default: return nullptr;
    }
}

// Validates and packs a launch's arguments from the driver's void** form.
CUresult pack(const Kernel& k, void** params, void** extra, std::vector<unsigned char>* out) {
    if (extra) return fail(CUDA_ERROR_NOT_SUPPORTED, "cuLaunchKernel(" + k.name + "): 'extra' argument packing is not emulated");
    if (!params && !k.params.empty()) return fail(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(" + k.name + "): kernelParams is null");
    out->assign(k.bytes, 0);
    for (size_t i = 0; i < k.params.size(); i++) {
        const Param& p = k.params[i];
        if (!params[i]) return fail(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(" + k.name + "): argument " + std::to_string(i) + " is null");
        std::memcpy(out->data() + k.offset[i], params[i], p.size);
        if (!p.pointer) continue;
        uintptr_t v;
        std::memcpy(&v, out->data() + k.offset[i], sizeof v);
        if (v == 0) continue;  // kernels test their optional pointers for null
        std::string what = "cuLaunchKernel(" + k.name + "): argument " + std::to_string(i) + " (" + p.type + ")", why;
        if (!check_range(reinterpret_cast<void*>(v), 0, what, &why)) return fail(CUDA_ERROR_INVALID_VALUE, why);
        if (v % p.align) return fail(CUDA_ERROR_INVALID_VALUE, what + " = " + hex(v) + " is not aligned to " + std::to_string(p.align) + " bytes");
    }
    return CUDA_SUCCESS;
}

CUresult launch_checked(const Function* f, Dim3 grid, Dim3 block, unsigned shared, void** params, void** extra,
                        std::shared_ptr<Launch>* out) {
    const Kernel& k = *f->k;
    if (!f->m->loaded) return fail(CUDA_ERROR_INVALID_HANDLE, "cuLaunchKernel(" + k.name + "): its module was unloaded");
    unsigned long long threads = 1ull * block.x * block.y * block.z;
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0 || threads > 1024 ||
        block.z > 64 || grid.y > 65535 || grid.z > 65535 || grid.x > 0x7fffffffu)
        return fail(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(" + k.name + "): invalid grid " + std::to_string(grid.x) + "x" +
                    std::to_string(grid.y) + "x" + std::to_string(grid.z) + " / block " + std::to_string(block.x) + "x" +
                    std::to_string(block.y) + "x" + std::to_string(block.z));
    if (shared) return fail(CUDA_ERROR_NOT_SUPPORTED, "cuLaunchKernel(" + k.name + "): dynamic shared memory is not emulated");
    auto l = std::make_shared<Launch>();
    l->k = &k;
    l->grid = grid;
    l->block = block;
    CUresult r = pack(k, params, extra, &l->args);
    if (r) return r;
    *out = l;
    return CUDA_SUCCESS;
}

bool name_in_image(const unsigned char* img, size_t n, const std::string& name) {
    const unsigned char* end = img + n;
    for (const unsigned char* p = img; (p = static_cast<const unsigned char*>(memmem(p, end - p, name.c_str(), name.size() + 1)));
         p++) {
        if (p == img) return true;
        unsigned char c = p[-1];
        if (!(isalnum(c) || c == '_')) return true;  // a whole symbol, not the tail of a longer one
    }
    return false;
}

}  // namespace
}  // namespace emu

using namespace emu;

// ====================================================================== driver API
API CUresult cuDriverGetVersion(int* v) {
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    *v = 13000;
    return CUDA_SUCCESS;
}

API CUresult cuInit(unsigned flags) {
    std::lock_guard<std::mutex> lock(G.mu);
    if (flags) return CUDA_ERROR_INVALID_VALUE;
    if (!G.initialised) {
        static bool configured = false;
        if (!configured) { configured = true; configure(); }
        if (G.devices <= 0) return CUDA_ERROR_NO_DEVICE;
        G.initialised = true;
        start_device();
    }
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGetCount(int* n) {
    NEED_INIT();
    *n = G.devices;
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    NEED_INIT();
    if (ordinal < 0 || ordinal >= G.devices) return CUDA_ERROR_INVALID_DEVICE;
    *d = ordinal;
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
    NEED_INIT();
    if (d < 0 || d >= G.devices) return CUDA_ERROR_INVALID_DEVICE;
    if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, len, "%s", DEVICE_NAME);
    return CUDA_SUCCESS;
}

API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) {
    NEED_INIT();
    if (d < 0 || d >= G.devices) return CUDA_ERROR_INVALID_DEVICE;
    *bytes = G.limit;
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGetAttribute(int* v, int attr, CUdevice d) {
    NEED_INIT();
    if (d < 0 || d >= G.devices) return CUDA_ERROR_INVALID_DEVICE;
    switch (attr) {
        case 1: *v = 1024; break;                         // max threads per block
        case 2: case 3: *v = 1024; break;                 // max block dim x, y
        case 4: *v = 64; break;                           // max block dim z
        case 5: *v = 0x7fffffff; break;                   // max grid dim x
        case 6: case 7: *v = 65535; break;                // max grid dim y, z
        case 8: *v = 49152; break;                        // shared memory per block
        case 9: *v = 65536; break;                        // constant memory
        case 10: *v = 32; break;                          // warp size
        case 12: *v = 65536; break;                       // registers per block
        case 13: *v = 1980000; break;                     // clock kHz (an H200's)
        case 16: *v = 132; break;                         // multiprocessors (an H200's): grids sized as there
        case 39: *v = 2048; break;                        // threads per multiprocessor
        case 75: *v = 9; break;                           // compute capability 9.0
        case 76: *v = 0; break;
        default: *v = 0; break;
    }
    return CUDA_SUCCESS;
}

API CUresult cuDevicePrimaryCtxRetain(CUcontext* c, CUdevice d) {
    NEED_INIT();
    if (d < 0 || d >= G.devices) return CUDA_ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> lock(G.mu);
    G.primary[d].refs++;
    *c = &G.primary[d];
    return CUDA_SUCCESS;
}

API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
    NEED_INIT();
    if (d < 0 || d >= G.devices) return CUDA_ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> lock(G.mu);
    if (G.primary[d].refs <= 0) return fail(CUDA_ERROR_INVALID_CONTEXT, "cuDevicePrimaryCtxRelease: primary context not retained");
    G.primary[d].refs--;
    return CUDA_SUCCESS;
}

API CUresult cuCtxSetCurrent(CUcontext c) {
    NEED_INIT();
    if (c && (c < &G.primary[0] || c >= &G.primary[G.devices])) return CUDA_ERROR_INVALID_CONTEXT;
    t_current = c;
    return CUDA_SUCCESS;
}

API CUresult cuCtxGetCurrent(CUcontext* c) {
    NEED_INIT();
    *c = t_current;
    return CUDA_SUCCESS;
}

API CUresult cuCtxGetDevice(CUdevice* d) {
    NEED_CTX();
    *d = t_current->device;
    return CUDA_SUCCESS;
}

API CUresult cuCtxSynchronize() {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    if (CUresult r = refuse_during_capture("cuCtxSynchronize")) return r;
    return sync_all(lock);
}

// ---------------------------------------------------------------------- memory
namespace emu {
namespace {
// A fresh block (G.mu held): its own mapping, poisoned, flush against a guard page.
CUresult new_block(CUdeviceptr* out, size_t bytes, bool streamOrdered) {
    if (!out || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    size_t rounded = (bytes + 15) / 16 * 16;
    if (G.used + rounded > G.limit) {
        std::lock_guard<std::mutex> l(G.msg_mu);
        G.last_msg = "out of memory: " + std::to_string(bytes) + " bytes requested, " + std::to_string(G.used) + " of " +
                     std::to_string(G.limit) + " in use (G2G_EMU_MEMORY_MB)";
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    size_t page = sysconf(_SC_PAGESIZE);
    size_t map_bytes = (rounded + page - 1) / page * page + page;
    void* m = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
    uintptr_t guard = reinterpret_cast<uintptr_t>(m) + map_bytes - page;
    mprotect(reinterpret_cast<void*>(guard), page, PROT_NONE);
    uintptr_t data = guard - rounded;  // ends flush against the guard page: an overrun faults
    std::memset(reinterpret_cast<void*>(data), 0xFF, rounded);  // poison: NaN as float, -1 as int
    {
        std::lock_guard<std::mutex> l(G.mem_mu);
        G.mem[data] = Alloc{reinterpret_cast<uintptr_t>(m), map_bytes, data, bytes, G.next_id++, true, streamOrdered};
    }
    G.used += rounded;
    G.peak = std::max(G.peak, G.used);
    G.allocs++;
    *out = data;
    return CUDA_SUCCESS;
}

// The block's end of life (G.mem_mu held): quarantine - addresses kept reserved and unreadable,
// so a use after free faults instead of reading a later allocation's data.
void quarantine(Alloc& a) {
    mprotect(reinterpret_cast<void*>(a.map), a.map_bytes, PROT_NONE);
    madvise(reinterpret_cast<void*>(a.map), a.map_bytes, MADV_DONTNEED);
}
}  // namespace
}  // namespace emu

API CUresult cuMemAlloc_v2(CUdeviceptr* out, size_t bytes) {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    if (G.sticky) return G.sticky;
    if (CUresult r = refuse_during_capture("cuMemAlloc")) return r;
    return new_block(out, bytes, false);
}

// The stream-ordered allocator: the block may be used by work queued on the stream from now on
// (the emulator has it at once; a GPU's pool may hand out memory freed earlier in that stream's
// order). Capturing an allocation into a graph (a mem-alloc node) is not emulated: refused.
API CUresult cuMemAllocAsync(CUdeviceptr* out, size_t bytes, CUstream h) {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    if (G.sticky) return G.sticky;
    StreamObj* s = stream_of(h);
    if (!s) return fail(CUDA_ERROR_INVALID_HANDLE, "cuMemAllocAsync: invalid stream");
    if (s->capture) return fail(CUDA_ERROR_NOT_SUPPORTED, "cuMemAllocAsync during a stream capture (a graph allocation): not emulated");
    return new_block(out, bytes, true);
}

// Frees in stream order and returns at once: no device synchronisation (cuMemFree's cost when
// several runs share a device). Work queued before it on the stream still reads the block; the
// block is unusable for anything queued after the call (a launch naming it is refused) and is
// quarantined when the stream reaches the free. Only blocks of cuMemAllocAsync (what the
// stream-ordered allocator owns); capture into a graph (a mem-free node) is not emulated.
API CUresult cuMemFreeAsync(CUdeviceptr p, CUstream h) {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    if (G.sticky) return G.sticky;
    StreamObj* s = stream_of(h);
    if (!s) return fail(CUDA_ERROR_INVALID_HANDLE, "cuMemFreeAsync: invalid stream");
    if (s->capture) return fail(CUDA_ERROR_NOT_SUPPORTED, "cuMemFreeAsync during a stream capture (a graph free node): not emulated");
    size_t rounded = 0;
    {
        std::lock_guard<std::mutex> l(G.mem_mu);
        auto it = G.mem.find(p);
        if (it == G.mem.end() || !it->second.live)
            return fail(CUDA_ERROR_INVALID_VALUE, "cuMemFreeAsync(" + hex(p) + "): not the start of a live allocation" +
                        (it != G.mem.end() ? " (freed twice)" : ""));
        if (!it->second.stream_ordered)
            return fail(CUDA_ERROR_INVALID_VALUE, "cuMemFreeAsync(" + hex(p) + "): allocation #" + std::to_string(it->second.id) +
                        " is cuMemAlloc's, not the stream-ordered allocator's (cuMemAllocAsync)");
        it->second.live = false;
        rounded = (it->second.bytes + 15) / 16 * 16;
    }
    Cmd c;
    c.what = "cuMemFreeAsync";
    c.compute = false;
    c.op = [p, rounded] {
        {
            std::lock_guard<std::mutex> l(G.mem_mu);
            quarantine(G.mem.at(p));
        }
        std::lock_guard<std::mutex> l(G.mu);  // device work runs with no lock held
        G.used -= rounded;
        G.frees++;
    };
    return push(s, std::move(c), lock);
}

API CUresult cuMemFree_v2(CUdeviceptr p) {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    if (CUresult r = refuse_during_capture("cuMemFree")) return r;
    if (p == 0) return CUDA_SUCCESS;
    // the real cuMemFree waits for the device: work still queued may use the block
    CUresult r = sync_all(lock);
    std::lock_guard<std::mutex> l(G.mem_mu);
    auto it = G.mem.find(p);
    if (it == G.mem.end() || !it->second.live)
        return fail(CUDA_ERROR_INVALID_VALUE, "cuMemFree(" + hex(p) + "): not the start of a live allocation" +
                    (it != G.mem.end() ? " (freed twice)" : ""));
    Alloc& a = it->second;
    a.live = false;
    quarantine(a);
    G.used -= (a.bytes + 15) / 16 * 16;
    G.frees++;
    return r;
}

// Page-locked host memory is ordinary host memory here; it is what async copies to and from
// the host need (a Java array is pinned only during the JCuda call).
API CUresult cuMemAllocHost_v2(void** p, size_t bytes) {
    NEED_CTX();
    if (!p || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    *p = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    return *p ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

API CUresult cuMemHostAlloc(void** p, size_t bytes, unsigned flags) {
    (void)flags;
    return cuMemAllocHost_v2(p, bytes);
}

API CUresult cuMemFreeHost(void* p) {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    CUresult r = sync_all(lock);  // queued async copies may still use it
    free(p);
    return r;
}

API CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) {
    NEED_CTX();
    std::lock_guard<std::mutex> lock(G.mu);
    *free_bytes = G.limit - G.used;
    *total = G.limit;
    return CUDA_SUCCESS;
}

API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    if (CUresult r = refuse_during_capture("cuMemcpyHtoD")) return r;
    if (CUresult r = checked(reinterpret_cast<void*>(dst), n, "cuMemcpyHtoD destination")) return r;
    if (CUresult r = sync_stream(lock, &G.null_stream)) return r;
    std::memcpy(reinterpret_cast<void*>(dst), src, n);
    return CUDA_SUCCESS;
}

API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    if (CUresult r = refuse_during_capture("cuMemcpyDtoH")) return r;
    if (CUresult r = checked(reinterpret_cast<void*>(src), n, "cuMemcpyDtoH source")) return r;
    if (CUresult r = sync_stream(lock, &G.null_stream)) return r;
    std::memcpy(dst, reinterpret_cast<void*>(src), n);
    return CUDA_SUCCESS;
}

API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    if (CUresult r = refuse_during_capture("cuMemcpyDtoD")) return r;
    if (CUresult r = checked(reinterpret_cast<void*>(dst), n, "cuMemcpyDtoD destination")) return r;
    if (CUresult r = checked(reinterpret_cast<void*>(src), n, "cuMemcpyDtoD source")) return r;
    if (CUresult r = sync_stream(lock, &G.null_stream)) return r;
    std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<void*>(src), n);
    return CUDA_SUCCESS;
}

namespace {
CUresult async_op(CUstream h, const std::string& what, std::function<void()> op) {
    std::unique_lock<std::mutex> lock(G.mu);
    if (G.sticky) return G.sticky;
    StreamObj* s = stream_of(h);
    if (!s) return fail(CUDA_ERROR_INVALID_HANDLE, what + ": invalid stream");
    Cmd c;
    c.what = what;
    c.op = std::move(op);
    c.compute = false;
    return push(s, std::move(c), lock);
}
}  // namespace

API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
    NEED_CTX();
    if (CUresult r = checked(reinterpret_cast<void*>(dst), n, "cuMemcpyDtoDAsync destination")) return r;
    if (CUresult r = checked(reinterpret_cast<void*>(src), n, "cuMemcpyDtoDAsync source")) return r;
    return async_op(s, "cuMemcpyDtoDAsync", [=] { std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<void*>(src), n); });
}

// Async copies from/to host memory: the host buffer must stay valid until the stream reaches
// the copy (JCuda pins a Java array only during the call: use page-locked memory for these).
API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, CUstream s) {
    NEED_CTX();
    if (CUresult r = checked(reinterpret_cast<void*>(dst), n, "cuMemcpyHtoDAsync destination")) return r;
    return async_op(s, "cuMemcpyHtoDAsync", [=] { std::memcpy(reinterpret_cast<void*>(dst), src, n); });
}

API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, CUstream s) {
    NEED_CTX();
    if (CUresult r = checked(reinterpret_cast<void*>(src), n, "cuMemcpyDtoHAsync source")) return r;
    return async_op(s, "cuMemcpyDtoHAsync", [=] { std::memcpy(dst, reinterpret_cast<void*>(src), n); });
}

API CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned v, size_t n, CUstream s) {
    NEED_CTX();
    if (dst % 4) return fail(CUDA_ERROR_INVALID_VALUE, "cuMemsetD32Async: destination " + hex(dst) + " not 4-byte aligned");
    if (CUresult r = checked(reinterpret_cast<void*>(dst), n * 4, "cuMemsetD32Async destination")) return r;
    return async_op(s, "cuMemsetD32Async", [=] {
        unsigned* p = reinterpret_cast<unsigned*>(dst);
        std::fill(p, p + n, v);
    });
}

API CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, CUstream s) {
    NEED_CTX();
    if (CUresult r = checked(reinterpret_cast<void*>(dst), n, "cuMemsetD8Async destination")) return r;
    return async_op(s, "cuMemsetD8Async", [=] { std::memset(reinterpret_cast<void*>(dst), v, n); });
}

API CUresult cuMemsetD2D32Async(CUdeviceptr dst, size_t pitch, unsigned v, size_t width, size_t height, CUstream s) {
    NEED_CTX();
    if (dst % 4 || pitch % 4) return fail(CUDA_ERROR_INVALID_VALUE, "cuMemsetD2D32Async: destination or pitch not 4-byte aligned");
    if (height > 0 && width * 4 > pitch && height > 1)
        return fail(CUDA_ERROR_INVALID_VALUE, "cuMemsetD2D32Async: width " + std::to_string(width) + " x 4 bytes exceeds the pitch " + std::to_string(pitch));
    size_t span = height == 0 ? 0 : (height - 1) * pitch + width * 4;
    if (CUresult r = checked(reinterpret_cast<void*>(dst), span, "cuMemsetD2D32Async destination")) return r;
    return async_op(s, "cuMemsetD2D32Async", [=] {
        for (size_t r = 0; r < height; r++) {
            unsigned* p = reinterpret_cast<unsigned*>(dst + r * pitch);
            std::fill(p, p + width, v);
        }
    });
}

API CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned v, size_t n) {
    CUresult r = cuMemsetD32Async(dst, v, n, nullptr);
    if (r) return r;
    std::unique_lock<std::mutex> lock(G.mu);
    return sync_stream(lock, &G.null_stream);
}

// ---------------------------------------------------------------------- modules
API CUresult cuModuleLoadData(CUmodule* out, const void* image) {
    NEED_CTX();
    if (!image || !out) return CUDA_ERROR_INVALID_VALUE;
    const unsigned char* b = static_cast<const unsigned char*>(image);
    uint32_t magic;
    std::memcpy(&magic, b, 4);
    size_t n;
    if (magic == 0xBA55ED50u) {  // fatbin: magic, u16 version, u16 header size, u64 payload size
        uint16_t hs;
        uint64_t payload;
        std::memcpy(&hs, b + 6, 2);
        std::memcpy(&payload, b + 8, 8);
        n = hs + payload;
    } else if (std::memcmp(b, "G2GEMU1\n", 8) == 0) {  // emulation-only image: "G2GEMU1\n", then "name\0"..., then "\0"
        n = 8;
        while (b[n]) n += strlen(reinterpret_cast<const char*>(b) + n) + 1;
        n++;
    } else {
        return fail(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData: not a fatbin (magic " + hex(magic) + ")");
    }
    auto* m = new Module;
    for (const std::string& k : kernel_names())
        if (name_in_image(b, n, k)) m->names.insert(k);
    if (magic != 0xBA55ED50u) {  // every name of an emulation image must have a CPU build
        for (size_t at = 8; b[at]; at += strlen(reinterpret_cast<const char*>(b) + at) + 1) {
            std::string name = reinterpret_cast<const char*>(b) + at;
            if (!find_kernel(name)) {
                delete m;
                return fail(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData: kernel " + name + " has no CPU build in the emulator");
            }
        }
    }
    *out = m;
    return CUDA_SUCCESS;
}

API CUresult cuModuleGetFunction(CUfunction* out, CUmodule m, const char* name) {
    NEED_CTX();
    if (!m || !m->loaded || !name) return CUDA_ERROR_INVALID_HANDLE;
    const Kernel* k = find_kernel(name);
    if (!m->names.count(name)) {
        if (!k) return CUDA_ERROR_NOT_FOUND;
        return fail(CUDA_ERROR_NOT_FOUND, std::string("cuModuleGetFunction: kernel ") + name + " is not in the module image");
    }
    if (!k) return fail(CUDA_ERROR_NOT_FOUND, std::string("cuModuleGetFunction: ") + name + " is in the fatbin but the emulator has no CPU build of it (stale target/emu?)");
    *out = new Function{k, m};
    return CUDA_SUCCESS;
}

API CUresult cuModuleUnload(CUmodule m) {
    NEED_CTX();
    if (!m || !m->loaded) return CUDA_ERROR_INVALID_HANDLE;
    m->loaded = false;  // kept: functions of it may still be named in error messages
    return CUDA_SUCCESS;
}

// ---------------------------------------------------------------------- launch
API CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                            unsigned shared, CUstream hs, void** params, void** extra) {
    NEED_CTX();
    if (!f) return CUDA_ERROR_INVALID_HANDLE;
    std::shared_ptr<Launch> l;
    if (CUresult r = launch_checked(f, Dim3{gx, gy, gz}, Dim3{bx, by, bz}, shared, params, extra, &l)) return r;
    std::unique_lock<std::mutex> lock(G.mu);
    if (G.sticky) return G.sticky;
    StreamObj* s = stream_of(hs);
    if (!s) return fail(CUDA_ERROR_INVALID_HANDLE, "cuLaunchKernel(" + f->k->name + "): invalid stream");
    KernelStats& st = G.stats[f->k->name];
    st.launches++;
    st.blocks += 1l * gx * gy * gz;
    if (G.verbose) say("launch %s grid %ux%ux%u block %ux%ux%u", f->k->name.c_str(), gx, gy, gz, bx, by, bz);
    Cmd c;
    c.what = f->k->name;
    c.launch = l;
    return push(s, std::move(c), lock);
}

// ---------------------------------------------------------------------- streams, events
API CUresult cuStreamCreate(CUstream* out, unsigned flags) {
    NEED_CTX();
    std::lock_guard<std::mutex> lock(G.mu);
    auto* s = new StreamObj;
    s->flags = flags;
    G.streams.insert(s);
    *out = s;
    return CUDA_SUCCESS;
}

API CUresult cuStreamDestroy_v2(CUstream h) {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    StreamObj* s = stream_of(h);
    if (!s || s == &G.null_stream) return CUDA_ERROR_INVALID_HANDLE;
    release(s);  // queued work still runs (the real driver completes it too)
    G.streams.erase(s);
    return CUDA_SUCCESS;  // the object is leaked on purpose: queued commands may refer to it
}

API CUresult cuStreamSynchronize(CUstream h) {
    NEED_CTX();
    std::unique_lock<std::mutex> lock(G.mu);
    StreamObj* s = stream_of(h);
    if (!s) return CUDA_ERROR_INVALID_HANDLE;
    if (s->capture) {
        s->capture_invalid = true;
        return fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamSynchronize on a capturing stream (capture invalidated)");
    }
    if (CUresult r = refuse_during_capture("cuStreamSynchronize")) return r;
    return sync_stream(lock, s);
}

API CUresult cuStreamQuery(CUstream h) {
    NEED_CTX();
    std::lock_guard<std::mutex> lock(G.mu);
    StreamObj* s = stream_of(h);
    if (!s) return CUDA_ERROR_INVALID_HANDLE;
    if (G.sticky) return G.sticky;
    return s->queue.empty() && G.completed == G.released ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

API CUresult cuEventCreate(CUevent* out, unsigned flags) {
    NEED_CTX();
    (void)flags;
    *out = new Event;
    return CUDA_SUCCESS;
}

API CUresult cuEventDestroy_v2(CUevent e) {
    NEED_CTX();
    if (!e) return CUDA_ERROR_INVALID_HANDLE;
    return CUDA_SUCCESS;  // leaked on purpose: a queued record may still refer to it
}

API CUresult cuEventRecord(CUevent e, CUstream h) {
    NEED_CTX();
    if (!e) return CUDA_ERROR_INVALID_HANDLE;
    std::unique_lock<std::mutex> lock(G.mu);
    StreamObj* s = stream_of(h);
    if (!s) return CUDA_ERROR_INVALID_HANDLE;
    e->recorded = true;
    e->done = false;
    e->stream = s;
    Cmd c;
    c.what = "cuEventRecord";
    c.compute = false;
    c.op = [e] { e->t = std::chrono::steady_clock::now(); e->done = true; };
    return push(s, std::move(c), lock);
}

API CUresult cuEventQuery(CUevent e) {
    NEED_CTX();
    std::lock_guard<std::mutex> lock(G.mu);
    return !e->recorded || e->done ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

API CUresult cuEventSynchronize(CUevent e) {
    NEED_CTX();
    if (!e) return CUDA_ERROR_INVALID_HANDLE;
    std::unique_lock<std::mutex> lock(G.mu);
    if (!e->recorded) return CUDA_SUCCESS;
    return sync_stream(lock, e->stream);
}

API CUresult cuEventElapsedTime(float* ms, CUevent a, CUevent b) {
    NEED_CTX();
    std::lock_guard<std::mutex> lock(G.mu);
    if (!a || !b) return CUDA_ERROR_INVALID_HANDLE;
    if (!a->recorded || !b->recorded) return CUDA_ERROR_INVALID_HANDLE;
    if (!a->done || !b->done) return fail(CUDA_ERROR_NOT_READY, "cuEventElapsedTime: an event has not completed (synchronise it first)");
    *ms = std::chrono::duration<float, std::milli>(b->t - a->t).count();
    return CUDA_SUCCESS;
}

API CUresult cuStreamWaitEvent(CUstream h, CUevent e, unsigned flags) {
    NEED_CTX();
    (void)flags;
    std::unique_lock<std::mutex> lock(G.mu);
    StreamObj* s = stream_of(h);
    if (!s || !e) return CUDA_ERROR_INVALID_HANDLE;
    // one device thread runs work in hand-over order: hand over the event's stream first
    if (e->recorded && e->stream && e->stream != s) release(e->stream);
    return CUDA_SUCCESS;
}

// ---------------------------------------------------------------------- graphs (stream capture)
API CUresult cuStreamBeginCapture_v2(CUstream h, int mode) {
    NEED_CTX();
    std::lock_guard<std::mutex> lock(G.mu);
    StreamObj* s = stream_of(h);
    if (!s) return CUDA_ERROR_INVALID_HANDLE;
    if (s == &G.null_stream) return fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamBeginCapture: the legacy default stream cannot be captured");
    if (s->capture) return fail(CUDA_ERROR_ILLEGAL_STATE, "cuStreamBeginCapture: the stream is already capturing");
    s->capture = std::make_shared<emu::Graph>();
    s->capture_mode = mode;
    s->capture_thread = std::this_thread::get_id();
    s->capture_invalid = false;
    return CUDA_SUCCESS;
}

API CUresult cuStreamIsCapturing(CUstream h, int* status) {
    NEED_CTX();
    std::lock_guard<std::mutex> lock(G.mu);
    StreamObj* s = stream_of(h);
    if (!s) return CUDA_ERROR_INVALID_HANDLE;
    *status = s->capture ? (s->capture_invalid ? 2 : 1) : 0;
    return CUDA_SUCCESS;
}

API CUresult cuStreamEndCapture(CUstream h, CUgraph* out) {
    NEED_CTX();
    std::lock_guard<std::mutex> lock(G.mu);
    StreamObj* s = stream_of(h);
    if (!s) return CUDA_ERROR_INVALID_HANDLE;
    if (!s->capture) return fail(CUDA_ERROR_ILLEGAL_STATE, "cuStreamEndCapture: the stream is not capturing");
    auto g = s->capture;
    bool invalid = s->capture_invalid;
    s->capture.reset();
    if (invalid) {
        *out = nullptr;
        return fail(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "cuStreamEndCapture: the capture was invalidated by a synchronous call");
    }
    auto* graph = new ::Graph;
    graph->nodes = g->nodes;
    *out = graph;
    return CUDA_SUCCESS;
}

API CUresult cuGraphGetNodes(CUgraph g, CUgraphNode* nodes, size_t* count) {
    NEED_CTX();
    if (!g || !count) return CUDA_ERROR_INVALID_VALUE;
    if (nodes) {
        size_t n = std::min(*count, g->nodes.size());
        for (size_t i = 0; i < n; i++) nodes[i] = g->nodes[i].get();
    }
    *count = g->nodes.size();
    return CUDA_SUCCESS;
}

API CUresult cuGraphNodeGetType(CUgraphNode n, int* type) {
    NEED_CTX();
    if (!n) return CUDA_ERROR_INVALID_VALUE;
    *type = n->cmd.launch ? 0 : (n->cmd.what.find("Memset") != std::string::npos ? 2 : 1);  // kernel, memcpy, memset
    return CUDA_SUCCESS;
}

API CUresult cuGraphInstantiateWithFlags(CUgraphExec* out, CUgraph g, unsigned long long flags) {
    NEED_CTX();
    (void)flags;
    if (!g || !out) return CUDA_ERROR_INVALID_VALUE;
    auto* e = new GraphExec;
    for (auto& n : g->nodes) {
        Cmd c = n->cmd;
        if (c.launch) c.launch = std::make_shared<Launch>(*c.launch);  // updates of the exec leave the graph alone
        e->cmds.push_back(c);
        e->from.push_back(n.get());
    }
    *out = e;
    return CUDA_SUCCESS;
}

API CUresult cuGraphExecKernelNodeSetParams_v2(CUgraphExec e, CUgraphNode n, const CUDA_KERNEL_NODE_PARAMS* p) {
    NEED_CTX();
    if (!e || !n || !p) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < e->from.size(); i++) {
        if (e->from[i] != n) continue;
        if (!e->cmds[i].launch) return fail(CUDA_ERROR_INVALID_VALUE, "cuGraphExecKernelNodeSetParams: not a kernel node");
        if (!p->func || p->func->k != e->cmds[i].launch->k)
            return fail(CUDA_ERROR_INVALID_VALUE, "cuGraphExecKernelNodeSetParams: the function of a kernel node cannot change");
        std::shared_ptr<Launch> l;
        if (CUresult r = launch_checked(p->func, Dim3{p->gridDimX, p->gridDimY, p->gridDimZ}, Dim3{p->blockDimX, p->blockDimY, p->blockDimZ},
                                        p->sharedMemBytes, p->kernelParams, p->extra, &l))
            return r;
        std::lock_guard<std::mutex> lock(G.mu);
        e->cmds[i].launch = l;
        return CUDA_SUCCESS;
    }
    return fail(CUDA_ERROR_INVALID_VALUE, "cuGraphExecKernelNodeSetParams: node not in the graph this exec was made from");
}

API CUresult cuGraphKernelNodeGetParams_v2(CUgraphNode n, CUDA_KERNEL_NODE_PARAMS* p) {
    NEED_CTX();
    if (!n || !p || !n->cmd.launch) return CUDA_ERROR_INVALID_VALUE;
    const Launch& l = *n->cmd.launch;
    std::memset(p, 0, sizeof *p);
    p->gridDimX = l.grid.x; p->gridDimY = l.grid.y; p->gridDimZ = l.grid.z;
    p->blockDimX = l.block.x; p->blockDimY = l.block.y; p->blockDimZ = l.block.z;
    return CUDA_SUCCESS;  // func and kernelParams are not reconstructed: use the ones you captured with
}

API CUresult cuGraphLaunch(CUgraphExec e, CUstream h) {
    NEED_CTX();
    if (!e) return CUDA_ERROR_INVALID_HANDLE;
    std::unique_lock<std::mutex> lock(G.mu);
    if (G.sticky) return G.sticky;
    StreamObj* s = stream_of(h);
    if (!s) return CUDA_ERROR_INVALID_HANDLE;
    for (const Cmd& c : e->cmds) {
        if (c.launch) {
            KernelStats& st = G.stats[c.launch->k->name];
            st.launches++;
            st.blocks += 1l * c.launch->grid.x * c.launch->grid.y * c.launch->grid.z;
        }
        Cmd copy = c;
        if (CUresult r = push(s, std::move(copy), lock)) return r;
    }
    return CUDA_SUCCESS;
}

API CUresult cuGraphExecDestroy(CUgraphExec e) {
    NEED_CTX();
    if (!e) return CUDA_ERROR_INVALID_HANDLE;
    delete e;  // queued copies of its commands own their launches
    return CUDA_SUCCESS;
}

API CUresult cuGraphDestroy(CUgraph g) {
    NEED_CTX();
    if (!g) return CUDA_ERROR_INVALID_HANDLE;
    delete g;
    return CUDA_SUCCESS;
}

// ---------------------------------------------------------------------- errors
API CUresult cuGetErrorName(CUresult r, const char** s) {
    const char* n = error_name(r);
    if (!n) return CUDA_ERROR_INVALID_VALUE;
    *s = n;
    return CUDA_SUCCESS;
}

// The emulator's own diagnostic for the sticky error or the last failed call, so a Java test
// can read why (JCudaDriver.cuGetErrorString).
API CUresult cuGetErrorString(CUresult r, const char** s) {
    static thread_local std::string msg;
    const char* n = error_name(r);
    if (!n) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lock(G.mu);
    std::lock_guard<std::mutex> l(G.msg_mu);
    msg = n;
    if (r == G.sticky && !G.sticky_msg.empty()) msg += ": " + G.sticky_msg;
    else if (r != 0 && !G.last_msg.empty()) msg += ": " + G.last_msg;
    *s = msg.c_str();
    return CUDA_SUCCESS;
}
