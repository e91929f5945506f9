// emu.h - the internal interface of g2g's emulated CUDA device, shared by the emulated driver
// (driver.cc -> libcuda.so.1), the block scheduler (block.cc), the kernel translation units
// (kernels_*.cc, compiled from cuda-kernels/*.cu through cuda_emu.h) and the fake cuBLAS /
// cuSPARSE libraries (which link against libcuda.so.1 for its memory table and stream queues).
//
// Nothing here is a CUDA API: the public surface is the cu* functions of driver.cc. Every
// library is built by build.sh with the same g++, so C++ types may cross the .so boundary.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#define EMU_EXPORT __attribute__((visibility("default")))

namespace emu {

struct Dim3 { unsigned x = 1, y = 1, z = 1; };

// ---------------------------------------------------------------- kernel registry
// One registered kernel: its name, what each parameter is (from template deduction on the
// kernel's function pointer, see cuda_emu.h), and how to call it for one thread with the
// argument bytes packed at `offset[i]` in an argument buffer.
struct Param {
    size_t size;        // sizeof(T)
    size_t align;       // alignof(T), or alignof(*T) for a pointer: what its address must honour
    bool pointer;       // T is a pointer: must be null or inside a live allocation
    std::string type;   // C spelling for messages ("const float*", "int", ...)
};
struct Kernel {
    std::string name;
    std::vector<Param> params;
    std::vector<size_t> offset;  // of each argument in the packed buffer
    size_t bytes = 0;            // packed buffer size
    void (*call)(const unsigned char* args, const size_t* offset);  // the kernel body, for the current thread
};
EMU_EXPORT void register_kernel(Kernel k);
EMU_EXPORT const Kernel* find_kernel(const std::string& name);
EMU_EXPORT std::vector<std::string> kernel_names();

// ---------------------------------------------------------------- block execution
// Runs every block of a grid, threads as fibers (block.cc). Returns "" on success, else the
// one-line diagnostic of the first failure (fault, divergent barrier, absent lane, deadlock);
// the launch is abandoned at that point, as a GPU abandons a faulting grid.
EMU_EXPORT std::string run_grid(const Kernel& k, const unsigned char* args, Dim3 grid, Dim3 block);
// Called once on the device thread before its first run_grid: fault handlers, alternate stack.
void prepare_device_thread();

// ---------------------------------------------------------------- device memory
// Every allocation is its own mapping: [slack][data][guard page], data ending flush against a
// PROT_NONE guard page (16-byte aligned sizes), filled with 0xFF on allocation (NaN as float,
// -1 as int). Freed blocks stay mapped PROT_NONE (quarantine), so a use after free faults.
struct Range { uintptr_t base; size_t bytes; bool live; long id; };
// The allocation holding [p, p + bytes), or why not (message names `what`). bytes 0 checks p only.
EMU_EXPORT bool check_range(const void* p, size_t bytes, const std::string& what, std::string* why);
// A description of address a relative to the nearest allocation, for fault messages.
EMU_EXPORT std::string describe_address(uintptr_t a);

// ---------------------------------------------------------------- streams
// Work queued on a stream runs on the device worker thread, in order, and only when the host
// waits for it (a sync point): the latest legal schedule, so a missing synchronisation reads
// poison instead of results. `what` names the operation in reports and error messages.
typedef void* Stream;
// compute=false for copies and fills, which run even in host-only mode (G2G_CUDA_EMULATION=host-only).
// Returns a CUresult (0, or why the stream cannot take work now).
EMU_EXPORT int enqueue(Stream s, const std::string& what, std::function<void()> op, bool compute = true);
// Records that a library call failed in device work (sticky, like a fault): `msg` is printed.
EMU_EXPORT void device_error(const std::string& msg);
EMU_EXPORT bool verbose();

}  // namespace emu
