// cuda_emu.h - compiles CUDA kernel sources unmodified as C++17 (g++ -include cuda_emu.h),
// so g2g's emulated device (libcuda.so.1, see README.md) runs the very kernels nvcc compiles.
//
// Model: one thread block runs at a time on the emulator's device thread; each CUDA thread of
// the block is a fiber (block.cc) that runs until it reaches a barrier (__syncthreads, a warp
// shuffle/vote/__syncwarp) or returns. Hence:
//  * threadIdx reads the running fiber's index; blockIdx/blockDim/gridDim are per launch/block;
//  * __shared__ variables are plain statics: one block at a time owns them (their contents are
//    whatever the previous block left, as undefined as on a GPU);
//  * atomics are plain read-modify-writes: fibers never switch inside one;
//  * every barrier passes its source line, so a divergent barrier, a shuffle that waits for an
//    exited lane, or a deadlock is reported with kernel, block and file:line.
// Floating point: build with -ffp-contract=off so a*b+c is never fused unless the kernel says
// fmaf; then the __f*_rn intrinsics round exactly as on the GPU. expf/logf/sqrtf are glibc's
// (correctly rounded or within 1 ulp), not the GPU's: compare those with a tolerance.
// Only what g2g's kernels use is here (plus a few neighbours); extend it when a kernel needs more.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "emu.h"

namespace emu {

// The running fiber's thread index and the launch geometry (defined in block.cc).
struct ThreadState { Dim3 tid; };
extern ThreadState* g_thread;
extern Dim3 g_blockIdx, g_blockDim, g_gridDim;

// Barriers, implemented by the scheduler (block.cc).
void sync_block(int line, const char* file);
enum WarpOp { SHFL_IDX, SHFL_XOR, SHFL_UP, SHFL_DOWN, BALLOT, SYNCWARP, COLLECTIVE };
uint64_t warp_op(WarpOp op, unsigned mask, uint64_t bits, int arg, int width, int line, const char* file);

// A warp-collective instruction (mma.sync): every lane of `mask` passes a pointer to its own
// operands; when all of them have arrived (same line, same mask, as any warp operation), fn runs
// once with lanes[l] = lane l's pointer (null for lanes outside the mask), then all continue.
using WarpFn = void (*)(void* const* lanes);
void warp_collective(unsigned mask, void* mine, WarpFn fn, int line, const char* file);

// ---- mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 d, a, b, c (one warp, D = A B + C) ----
// The per-lane fragment layout of the PTX ISA, section "Matrix Fragments for mma.m16n8k8"
// (9.7.14.5.7 in PTX ISA 9.x; https://docs.nvidia.com/cuda/parallel-thread-execution/#warp-level-matrix-fragment-mma-1688),
// .tf32 multiplicands, .f32 accumulators; groupID = laneid >> 2, threadID_in_group = laneid % 4:
//   A (16 x 8, .row):  a0 (groupID,     tig)    a1 (groupID + 8, tig)
//                      a2 (groupID,     tig + 4) a3 (groupID + 8, tig + 4)
//   B (8 x 8, .col):   b0 (tig, groupID)        b1 (tig + 4, groupID)
//   C, D (16 x 8):     c0 (groupID, 2 tig)      c1 (groupID, 2 tig + 1)
//                      c2 (groupID + 8, 2 tig)  c3 (groupID + 8, 2 tig + 1)
// This is the emulator's model of the instruction, written from that table independently of the
// kernels that call it (cuda-kernels/common.cuh mma_tf32_m16n8k8): a kernel that puts an element
// into the wrong register gets a wrong product here, as on a GPU. Numerics: a TF32 operand is its
// register's top 19 bits (sign, 8-bit exponent, 10-bit mantissa; the low 13 bits are dropped -
// g2g's kernels round with cvt.rna first, so they are 0 anyway); products of TF32 values are exact
// in fp32; they are added to c in k order in fp32. A tensor core's internal order and rounding
// are not documented: results are compared with tolerances, never bit for bit.
struct MmaTf32Lane {
    float* d;
    const unsigned* a;
    const unsigned* b;
    const float* c;
};
inline float tf32_operand(unsigned bits) {
    bits &= 0xffffe000u;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}
inline void mma_m16n8k8_tf32_warp(void* const* lanes) {
    float A[16][8], B[8][8], D[16][8];
    for (int l = 0; l < 32; l++) {
        const MmaTf32Lane& p = *static_cast<const MmaTf32Lane*>(lanes[l]);
        const int g = l >> 2, t = l & 3;
        A[g][t] = tf32_operand(p.a[0]);
        A[g + 8][t] = tf32_operand(p.a[1]);
        A[g][t + 4] = tf32_operand(p.a[2]);
        A[g + 8][t + 4] = tf32_operand(p.a[3]);
        B[t][g] = tf32_operand(p.b[0]);
        B[t + 4][g] = tf32_operand(p.b[1]);
        D[g][2 * t] = p.c[0];
        D[g][2 * t + 1] = p.c[1];
        D[g + 8][2 * t] = p.c[2];
        D[g + 8][2 * t + 1] = p.c[3];
    }
    for (int r = 0; r < 16; r++)  // all of D before any lane's d is written: d may be c
        for (int n = 0; n < 8; n++)
            for (int k = 0; k < 8; k++) D[r][n] += A[r][k] * B[k][n];
    for (int l = 0; l < 32; l++) {
        const MmaTf32Lane& p = *static_cast<const MmaTf32Lane*>(lanes[l]);
        const int g = l >> 2, t = l & 3;
        p.d[0] = D[g][2 * t];
        p.d[1] = D[g][2 * t + 1];
        p.d[2] = D[g + 8][2 * t];
        p.d[3] = D[g + 8][2 * t + 1];
    }
}
// The instruction for the calling lane: all 32 lanes of the warp must execute it together.
inline void mma_m16n8k8_tf32(float* d, const unsigned* a, const unsigned* b, const float* c, int line, const char* file) {
    MmaTf32Lane mine{d, a, b, c};
    warp_collective(0xffffffffu, &mine, &mma_m16n8k8_tf32_warp, line, file);
}

template <typename T> inline uint64_t to_bits(T v) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of an unsupported type");
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(T));
    return b;
}
template <typename T> inline T from_bits(uint64_t b) {
    T v;
    std::memcpy(&v, &b, sizeof(T));
    return v;
}
template <typename T> inline T shfl(WarpOp op, int line, const char* file, unsigned mask, T v, int arg, int width = 32) {
    return from_bits<T>(warp_op(op, mask, to_bits(v), arg, width, line, file));
}

// ---- registration: parameter kinds deduced from the kernel's function pointer ----
template <typename T> std::string type_name() {
    if constexpr (std::is_pointer<T>::value) {
        using U = typename std::remove_pointer<T>::type;
        return (std::is_const<U>::value ? "const " : "") + type_name<typename std::remove_cv<U>::type>() + "*";
    } else if constexpr (std::is_same<T, int>::value) return "int";
    else if constexpr (std::is_same<T, unsigned>::value) return "unsigned";
    else if constexpr (std::is_same<T, long long>::value) return "long long";
    else if constexpr (std::is_same<T, unsigned long long>::value) return "unsigned long long";
    else if constexpr (std::is_same<T, float>::value) return "float";
    else if constexpr (std::is_same<T, double>::value) return "double";
    else if constexpr (std::is_same<T, unsigned char>::value) return "unsigned char";
    else if constexpr (std::is_same<T, void>::value) return "void";
    else return "T" + std::to_string(sizeof(T));
}
template <typename T> Param param_of() {
    if constexpr (std::is_pointer<T>::value) {
        using U = typename std::remove_cv<typename std::remove_pointer<T>::type>::type;
        size_t a = 1;
        if constexpr (!std::is_void<U>::value) a = alignof(U);
        return Param{sizeof(T), a, true, type_name<T>()};
    } else {
        return Param{sizeof(T), alignof(T), false, type_name<T>()};
    }
}

template <typename F> struct Sig;
template <typename... P> struct Sig<void (*)(P...)> {
    // Argument i lives at offset[i] of the packed buffer (natural alignment, in order).
    template <void (*F)(P...), size_t... I>
    static void call(const unsigned char* a, const size_t* off, std::index_sequence<I...>) {
        F(from_packed<P>(a + off[I])...);
    }
    template <typename T> static T from_packed(const unsigned char* p) {
        T v;
        std::memcpy(&v, p, sizeof(T));
        return v;
    }
    static Kernel describe(const char* name) {
        Kernel k;
        k.name = name;
        k.params = {param_of<P>()...};
        size_t at = 0;
        for (const Param& p : k.params) {
            at = (at + p.align - 1) / p.align * p.align;
            if (p.pointer) at = (at + 7) / 8 * 8;
            k.offset.push_back(at);
            at += p.size;
        }
        k.bytes = at;
        return k;
    }
};
template <typename Fn> struct Arity;
template <typename... P> struct Arity<void (*)(P...)> { static constexpr size_t n = sizeof...(P); };

// A static Registrar per kernel adds it to the registry when the library loads. (The offsets
// live in the registry's Kernel, not in a static member of this template: those have no
// defined initialisation order relative to the registrars.)
template <auto F> struct Registrar {
    using S = Sig<decltype(F)>;
    static void call(const unsigned char* a, const size_t* off) {
        S::template call<F>(a, off, std::make_index_sequence<Arity<decltype(F)>::n>());
    }
    explicit Registrar(const char* name) {
        Kernel k = S::describe(name);
        k.call = &Registrar::call;
        register_kernel(k);
    }
};

}  // namespace emu

// One line per kernel (generated by build.sh from the `extern "C" __global__` definitions).
#define EMU_REGISTER(name) static ::emu::Registrar<&name> emu_registrar_##name(#name);

// ---- CUDA keywords ----
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static
#define __constant__ static

// ---- built-in variables ----
#define threadIdx (::emu::g_thread->tid)
#define blockIdx (::emu::g_blockIdx)
#define blockDim (::emu::g_blockDim)
#define gridDim (::emu::g_gridDim)
#define warpSize 32

// ---- barriers and warp operations (each passes its source line for diagnostics) ----
#define __syncthreads() ::emu::sync_block(__LINE__, __FILE__)
#define __syncwarp(...) ((void)::emu::warp_op(::emu::SYNCWARP, (__VA_ARGS__ + 0) ? (__VA_ARGS__ + 0u) : 0xffffffffu, 0, 0, 32, __LINE__, __FILE__))
#define __shfl_sync(...) ::emu::shfl(::emu::SHFL_IDX, __LINE__, __FILE__, __VA_ARGS__)
#define __shfl_xor_sync(...) ::emu::shfl(::emu::SHFL_XOR, __LINE__, __FILE__, __VA_ARGS__)
#define __shfl_up_sync(...) ::emu::shfl(::emu::SHFL_UP, __LINE__, __FILE__, __VA_ARGS__)
#define __shfl_down_sync(...) ::emu::shfl(::emu::SHFL_DOWN, __LINE__, __FILE__, __VA_ARGS__)
#define __ballot_sync(mask, pred) ((unsigned)::emu::warp_op(::emu::BALLOT, (mask), (pred) ? 1 : 0, 0, 32, __LINE__, __FILE__))
#define __any_sync(mask, pred) (__ballot_sync((mask), (pred)) != 0u)
#define __all_sync(mask, pred) (__ballot_sync((mask), (pred)) == (mask))

// ---- vector types (16-byte aligned, as on the GPU) ----
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) float2 { float x, y; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
inline float2 make_float2(float x, float y) { return float2{x, y}; }
template <typename T> inline T __ldg(const T* p) { return *p; }

// ---- atomics: fibers never switch inside one, so a plain read-modify-write is atomic ----
inline float atomicAdd(float* p, float v) { float o = *p; *p = o + v; return o; }
inline int atomicAdd(int* p, int v) { int o = *p; *p = o + v; return o; }
inline unsigned atomicAdd(unsigned* p, unsigned v) { unsigned o = *p; *p = o + v; return o; }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { auto o = *p; *p = o + v; return o; }
inline int atomicMax(int* p, int v) { int o = *p; if (v > o) *p = v; return o; }
inline unsigned atomicMax(unsigned* p, unsigned v) { unsigned o = *p; if (v > o) *p = v; return o; }
inline int atomicMin(int* p, int v) { int o = *p; if (v < o) *p = v; return o; }
inline unsigned atomicMin(unsigned* p, unsigned v) { unsigned o = *p; if (v < o) *p = v; return o; }
inline int atomicExch(int* p, int v) { int o = *p; *p = v; return o; }
inline unsigned atomicExch(unsigned* p, unsigned v) { unsigned o = *p; *p = v; return o; }
inline int atomicCAS(int* p, int c, int v) { int o = *p; if (o == c) *p = v; return o; }
inline unsigned atomicCAS(unsigned* p, unsigned c, unsigned v) { unsigned o = *p; if (o == c) *p = v; return o; }
inline void __threadfence() {}
inline void __threadfence_block() {}

// ---- integer helpers of the CUDA math library ----
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz((unsigned)v); }
inline int __ffs(int v) { return __builtin_ffs(v); }

// ---- float intrinsics: IEEE round-to-nearest, never contracted (-ffp-contract=off) ----
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __expf(float a) { return std::exp(a); }
inline float __logf(float a) { return std::log(a); }
inline float __saturatef(float a) { return a < 0.f ? 0.f : (a > 1.f ? 1.f : a); }  // NaN -> NaN: not checked by any kernel
inline float rsqrtf(float a) { return 1.0f / std::sqrt(a); }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline int __float_as_int(float f) { int u; std::memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline float __int_as_float(int u) { float f; std::memcpy(&f, &u, 4); return f; }
