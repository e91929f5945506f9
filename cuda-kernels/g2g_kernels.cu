// The one translation unit nvcc compiles into g2g_kernels.fatbin (SASS sm_80/86/89/90 +
// compute_90 PTX). Each family lives in its own file with its own header comment; they are
// included here so one fatbin holds every kernel, loaded once with cuModuleLoadData and
// looked up by name (all entry points are extern "C").
#include "common.cuh"
#include "gemm.cu"
#include "sparse.cu"
#include "edges.cu"
#include "correlation.cu"
#include "loss.cu"
#include "elementwise.cu"
#include "step.cu"
#include "layer.cu"
#include "encoder.cu"
