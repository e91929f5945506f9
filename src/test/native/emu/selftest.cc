// selftest.cc - emu-selftest CASE: shows that each check of g2g's emulated CUDA device fires
// (and that a correct kernel passes), through the same driver API the JCuda backend uses.
// One case per process, because a fault leaves the device in a sticky error state, as a GPU's.
// Prints "PASS <case>: <what was seen>" and exits 0 when the check behaved as expected;
// "FAIL <case>: ..." and exit 1 otherwise. Run by EmulatorSelfTest (JUnit) for every case.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cuda_emu.h"
#include "selftest_kernels.cu"
#include "selftest_kernels.reg"

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef void* H;
extern "C" {
CUresult cuInit(unsigned);
CUresult cuDeviceGet(int*, int);
CUresult cuDevicePrimaryCtxRetain(H*, int);
CUresult cuCtxSetCurrent(H);
CUresult cuMemAlloc_v2(CUdeviceptr*, size_t);
CUresult cuMemFree_v2(CUdeviceptr);
CUresult cuMemAllocAsync(CUdeviceptr*, size_t, H);
CUresult cuMemFreeAsync(CUdeviceptr, H);
CUresult cuMemcpyHtoD_v2(CUdeviceptr, const void*, size_t);
CUresult cuMemcpyDtoH_v2(void*, CUdeviceptr, size_t);
CUresult cuModuleLoadData(H*, const void*);
CUresult cuModuleGetFunction(H*, H, const char*);
CUresult cuLaunchKernel(H, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, H, void**, void**);
CUresult cuStreamCreate(H*, unsigned);
CUresult cuStreamSynchronize(H);
CUresult cuCtxSynchronize();
CUresult cuGetErrorString(CUresult, const char**);
CUresult cuStreamBeginCapture_v2(H, int);
CUresult cuStreamEndCapture(H, H*);
CUresult cuGraphInstantiateWithFlags(H*, H, unsigned long long);
CUresult cuGraphLaunch(H, H);
CUresult cuGraphGetNodes(H, H*, size_t*);
CUresult cuGraphExecKernelNodeSetParams_v2(H, H, const void*);
}

static std::string why(CUresult r) {
    const char* s = nullptr;
    cuGetErrorString(r, &s);
    return s ? s : "?";
}
static int pass(const char* c, const std::string& m) { printf("PASS %s: %s\n", c, m.c_str()); return 0; }
static int failed(const char* c, const std::string& m) { printf("FAIL %s: %s\n", c, m.c_str()); return 1; }

// Expects code `want` with `text` in the emulator's diagnostic.
static int expect(const char* c, CUresult r, CUresult want, const char* text) {
    std::string w = why(r);
    if (r != want) return failed(c, "got " + std::to_string(r) + " (" + w + "), expected " + std::to_string(want));
    if (!strstr(w.c_str(), text)) return failed(c, "diagnostic lacks '" + std::string(text) + "': " + w);
    return pass(c, w);
}

int main(int argc, char** argv) {
    if (argc != 2) { fprintf(stderr, "usage: emu-selftest CASE\n"); return 2; }
    const char* c = argv[1];
    std::string cs = c;
    CUresult r = cuInit(0);
    if (cs == "no-device") return expect(c, r, 100, "CUDA_ERROR_NO_DEVICE");  // run with G2G_EMU_DEVICES=0
    if (r) return failed(c, "cuInit " + why(r));
    int dev;
    H ctx, mod, stream;
    cuDeviceGet(&dev, 0);
    cuDevicePrimaryCtxRetain(&ctx, dev);
    cuCtxSetCurrent(ctx);
    const char image[] = "G2GEMU1\ngood_sum\0divergent_barrier\0write_past_end\0shuffle_exited_lane\0deadlock\0fill\0barrier_after_exit\0"
                         "mma_layout\0mma_exited_lane\0";
    if ((r = cuModuleLoadData(&mod, image))) return failed(c, "module " + why(r));
    auto fn = [&](const char* name) { H f = nullptr; cuModuleGetFunction(&f, mod, name); return f; };
    cuStreamCreate(&stream, 0);
    const int n = 256;
    CUdeviceptr a, out;
    cuMemAlloc_v2(&a, n * 4);
    cuMemAlloc_v2(&out, n * 4);
    std::vector<float> host(n);
    for (int i = 0; i < n; i++) host[i] = (float)(i % 7);
    cuMemcpyHtoD_v2(a, host.data(), n * 4);

    if (cs == "good") {
        int nn = n;
        void* p[] = {&nn, &a, &out};
        if ((r = cuLaunchKernel(fn("good_sum"), 1, 1, 1, 128, 1, 1, 0, stream, p, nullptr))) return failed(c, why(r));
        float s = 0;
        if ((r = cuMemcpyDtoH_v2(&s, out, 4))) return failed(c, why(r));
        float want = 0;
        for (float v : host) want += v;
        return s == want ? pass(c, "sum " + std::to_string(s)) : failed(c, "sum " + std::to_string(s) + " != " + std::to_string(want));
    }
    if (cs == "divergent-barrier") {
        void* p[] = {&out};
        cuLaunchKernel(fn("divergent_barrier"), 1, 1, 1, 64, 1, 1, 0, stream, p, nullptr);
        return expect(c, cuStreamSynchronize(stream), 719, "divergent __syncthreads");
    }
    if (cs == "barrier-after-exit") {
        void* p[] = {&out};
        cuLaunchKernel(fn("barrier_after_exit"), 1, 1, 1, 64, 1, 1, 0, stream, p, nullptr);
        return expect(c, cuStreamSynchronize(stream), 719, "divergent __syncthreads");
    }
    if (cs == "out-of-bounds") {
        int nn = n;
        void* p[] = {&nn, &a};
        cuLaunchKernel(fn("write_past_end"), 2, 1, 1, 256, 1, 1, 0, stream, p, nullptr);
        return expect(c, cuStreamSynchronize(stream), 700, "0 bytes past the end of allocation");
    }
    if (cs == "exited-lane") {
        void* p[] = {&out};
        cuLaunchKernel(fn("shuffle_exited_lane"), 1, 1, 1, 32, 1, 1, 0, stream, p, nullptr);
        return expect(c, cuStreamSynchronize(stream), 719, "lane 5 of warp 0 has exited");
    }
    if (cs == "mma-layout") {  // two warps, each its own product; values exact in TF32 and in fp32 sums
        std::vector<float> A(256), B(128), C(256), D(256, -1.f);
        for (int i = 0; i < 256; i++) A[i] = (float)((i * 37) % 17 - 8) * 0.5f;
        for (int i = 0; i < 128; i++) B[i] = (float)((i * 11) % 13 - 6) * 0.25f;
        for (int i = 0; i < 256; i++) C[i] = (float)((i * 5) % 9 - 4);
        CUdeviceptr da, db, dc, dd;
        cuMemAlloc_v2(&da, 1024);
        cuMemAlloc_v2(&db, 512);
        cuMemAlloc_v2(&dc, 1024);
        cuMemAlloc_v2(&dd, 1024);
        cuMemcpyHtoD_v2(da, A.data(), 1024);
        cuMemcpyHtoD_v2(db, B.data(), 512);
        cuMemcpyHtoD_v2(dc, C.data(), 1024);
        void* p[] = {&da, &db, &dc, &dd};
        if ((r = cuLaunchKernel(fn("mma_layout"), 1, 1, 1, 64, 1, 1, 0, stream, p, nullptr))) return failed(c, why(r));
        if ((r = cuMemcpyDtoH_v2(D.data(), dd, 1024))) return failed(c, why(r));
        for (int w = 0; w < 2; w++)
            for (int m = 0; m < 16; m++)
                for (int n = 0; n < 8; n++) {
                    float want = C[w * 128 + m * 8 + n];
                    for (int k = 0; k < 8; k++) want += A[w * 128 + m * 8 + k] * B[w * 64 + k * 8 + n];
                    const float got = D[w * 128 + m * 8 + n];
                    if (got != want)
                        return failed(c, "warp " + std::to_string(w) + " D[" + std::to_string(m) + "][" + std::to_string(n) +
                                             "] = " + std::to_string(got) + ", want " + std::to_string(want));
                }
        return pass(c, "two warps' 16x8x8 products exact");
    }
    if (cs == "mma-exited-lane") {
        void* p[] = {&out};
        cuLaunchKernel(fn("mma_exited_lane"), 1, 1, 1, 32, 1, 1, 0, stream, p, nullptr);
        return expect(c, cuStreamSynchronize(stream), 719, "lane 5 of warp 0 has exited");
    }
    if (cs == "deadlock") {
        void* p[] = {&out};
        cuLaunchKernel(fn("deadlock"), 1, 1, 1, 32, 1, 1, 0, stream, p, nullptr);
        return expect(c, cuStreamSynchronize(stream), 719, "deadlock");
    }
    if (cs == "wrong-pointer") {  // a host pointer where a device pointer belongs
        int nn = n;
        float* hostp = host.data();
        void* p[] = {&nn, &hostp};
        return expect(c, cuLaunchKernel(fn("write_past_end"), 1, 1, 1, 32, 1, 1, 0, stream, p, nullptr), 1, "not in a live device allocation");
    }
    if (cs == "misaligned-pointer") {
        int nn = 4;
        CUdeviceptr odd = a + 2;
        void* p[] = {&nn, &odd};
        return expect(c, cuLaunchKernel(fn("write_past_end"), 1, 1, 1, 32, 1, 1, 0, stream, p, nullptr), 1, "not aligned to 4 bytes");
    }
    if (cs == "freed-pointer") {
        CUdeviceptr b;
        cuMemAlloc_v2(&b, 64);
        cuMemFree_v2(b);
        int nn = 4;
        void* p[] = {&nn, &b};
        return expect(c, cuLaunchKernel(fn("write_past_end"), 1, 1, 1, 32, 1, 1, 0, stream, p, nullptr), 1, "in freed allocation");
    }
    if (cs == "missing-sync") {  // a non-blocking stream: the synchronous copy does not wait for it
        H nb;
        cuStreamCreate(&nb, 1);
        int nn = n;
        float v = 42.f;
        void* p[] = {&nn, &out, &v};
        cuLaunchKernel(fn("fill"), 1, 1, 1, 256, 1, 1, 0, nb, p, nullptr);
        float early = 0, late = 0;
        cuMemcpyDtoH_v2(&early, out, 4);  // the bug: no cuStreamSynchronize(nb) before reading
        cuStreamSynchronize(nb);
        cuMemcpyDtoH_v2(&late, out, 4);
        if (early == 42.f) return failed(c, "read the result without synchronising: the emulator ran the launch early");
        if (late != 42.f) return failed(c, "after synchronising: " + std::to_string(late));
        return pass(c, "unsynchronised read saw " + std::to_string(early) + " (poison), synchronised read 42");
    }
    if (cs == "free-async") {  // the stream-ordered allocator: a free that does not wait, in stream order
        H nb;
        cuStreamCreate(&nb, 1);  // non-blocking: the legacy stream's synchronous copy does not wait for it
        CUdeviceptr b;
        if ((r = cuMemAllocAsync(&b, n * 4, nb))) return failed(c, "cuMemAllocAsync " + why(r));
        int nn = n;
        float v = 42.f, seven = 7.f;
        void* pb[] = {&nn, &b, &seven};
        void* po[] = {&nn, &out, &v};
        cuLaunchKernel(fn("fill"), 1, 1, 1, 256, 1, 1, 0, nb, pb, nullptr);  // queued before the free: may use b
        cuLaunchKernel(fn("fill"), 1, 1, 1, 256, 1, 1, 0, nb, po, nullptr);
        if ((r = cuMemFreeAsync(b, nb))) return failed(c, "cuMemFreeAsync " + why(r));
        float early = 0, late = 0;
        cuMemcpyDtoH_v2(&early, out, 4);
        if (early == 42.f) return failed(c, "cuMemFreeAsync waited for the queued work (as cuMemFree would)");
        // work queued after the free may not name the block
        r = cuLaunchKernel(fn("fill"), 1, 1, 1, 256, 1, 1, 0, nb, pb, nullptr);
        if (r != 1 || !strstr(why(r).c_str(), "in freed allocation")) return failed(c, "a launch after the free: " + why(r));
        r = cuMemFreeAsync(b, nb);
        if (r != 1 || !strstr(why(r).c_str(), "freed twice")) return failed(c, "a second cuMemFreeAsync: " + why(r));
        r = cuMemFreeAsync(a, nb);  // a (above) is cuMemAlloc's
        if (r != 1 || !strstr(why(r).c_str(), "not the stream-ordered allocator's")) return failed(c, "cuMemFreeAsync of cuMemAlloc's block: " + why(r));
        if ((r = cuStreamSynchronize(nb))) return failed(c, "the queued work, then the free: " + why(r));
        cuMemcpyDtoH_v2(&late, out, 4);
        if (late != 42.f) return failed(c, "after synchronising: " + std::to_string(late));
        return pass(c, "returned before the queued work ran (read " + std::to_string(early) + "), which then ran and freed the block; "
                       "later launches naming it, a second free and a free of cuMemAlloc's block refused");
    }
    if (cs == "double-free") {
        CUdeviceptr b;
        cuMemAlloc_v2(&b, 64);
        cuMemFree_v2(b);
        return expect(c, cuMemFree_v2(b), 1, "freed twice");
    }
    if (cs == "out-of-memory") {  // run with G2G_EMU_MEMORY_MB=1
        CUdeviceptr b;
        return expect(c, cuMemAlloc_v2(&b, 2 << 20), 2, "out of memory");
    }
    if (cs == "graph") {  // capture, instantiate, update a node's value, launch; a sync inside a capture is refused
        int nn = n;
        float v = 1.f;
        void* p[] = {&nn, &out, &v};
        cuStreamBeginCapture_v2(stream, 0);
        cuLaunchKernel(fn("fill"), 1, 1, 1, 256, 1, 1, 0, stream, p, nullptr);
        H g, exec, node;
        if ((r = cuStreamEndCapture(stream, &g))) return failed(c, "end capture " + why(r));
        cuGraphInstantiateWithFlags(&exec, g, 0);
        size_t count = 1;
        cuGraphGetNodes(g, &node, &count);
        float v2 = 7.f;
        void* p2[] = {&nn, &out, &v2};
        struct { H f; unsigned g[3], b[3], sh; void** kp; void** ex; void* k; H ctx; } kp = {fn("fill"), {1, 1, 1}, {256, 1, 1}, 0, p2, nullptr, nullptr, nullptr};
        if ((r = cuGraphExecKernelNodeSetParams_v2(exec, node, &kp))) return failed(c, "set params " + why(r));
        cuGraphLaunch(exec, stream);
        cuStreamSynchronize(stream);
        float got = 0;
        cuMemcpyDtoH_v2(&got, out, 4);
        if (got != 7.f) return failed(c, "graph wrote " + std::to_string(got));
        cuStreamBeginCapture_v2(stream, 0);
        return expect(c, cuStreamSynchronize(stream), 900, "capture");
    }
    if (cs == "capture-modes") {  // thread-local capture restricts only its own thread; global restricts every thread
        H other;
        cuStreamCreate(&other, 1);
        auto from_other_thread = [&] {  // a sibling run on another thread: allocate, copy, synchronise its stream
            CUresult rr = 0;
            std::thread t([&] {
                cuCtxSetCurrent(ctx);
                CUdeviceptr b = 0;
                float x = 3.f;
                if (!(rr = cuMemAlloc_v2(&b, 64)) && !(rr = cuMemcpyHtoD_v2(b, &x, 4)) && !(rr = cuStreamSynchronize(other)))
                    rr = cuMemFree_v2(b);
            });
            t.join();
            return rr;
        };
        H g;
        cuStreamBeginCapture_v2(stream, 1);  // CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
        if ((r = from_other_thread())) return failed(c, "thread-local capture refused another thread's calls: " + why(r));
        if ((r = cuStreamEndCapture(stream, &g))) return failed(c, "thread-local capture invalidated by another thread: " + why(r));
        cuStreamBeginCapture_v2(stream, 1);
        CUdeviceptr b;
        if ((r = cuMemAlloc_v2(&b, 64)) != 900) return failed(c, "cuMemAlloc on the capturing thread: got " + std::to_string(r));
        cuStreamEndCapture(stream, &g);
        cuStreamBeginCapture_v2(stream, 0);  // CU_STREAM_CAPTURE_MODE_GLOBAL
        return expect(c, from_other_thread(), 900, "capture");
    }
    return failed(c, "unknown case");
}
