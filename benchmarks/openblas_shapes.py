#!/usr/bin/env python3
"""OpenBLAS sgemm rates (through numpy) on every dense GEMM shape of g2g's default training step.

g2g stores activations feature-major (units x batch), so for a layer out x in and batch B:
  forward       Y  = W  . X      M=out N=B   K=in   (NN)
  input grad    dX = W^T . dY    M=in  N=B   K=out  (TN)
  weight grad   dW = dY . X^T    M=out N=in  K=B    (NT)
Shapes: the whole layers of 784-1024x3-10 and one 128-wide G2G diagonal block (128x128, and
128x98 for the first layer's 8 groups of 98 inputs). Prints GFLOP/s (best of 5 timed rounds)
with numpy's own thread count and with 1 thread (threadpoolctl).

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, where the machine sets them, slow a current numpy:
run this with both unset, e.g. `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 ...`.
usage: python3 benchmarks/openblas_shapes.py [--batch 256] [--seconds 0.4]
"""
import argparse
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits


def rate(f, flops, seconds):
    f()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            f()
        dt = time.perf_counter() - t
        if dt > seconds / 5:
            break
        n *= 2
    best = dt
    for _ in range(4):
        t = time.perf_counter()
        for _ in range(n):
            f()
        best = min(best, time.perf_counter() - t)
    return flops * n / best / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=0.4)
    a = ap.parse_args()
    info = [i for i in threadpool_info() if i["user_api"] == "blas"]
    for i in info:
        print(f"numpy {np.__version__}: {i['internal_api']} {i['version']} {i['architecture']}, {i['num_threads']} threads")
    rng = np.random.default_rng(1)
    B = a.batch
    shapes = [("layer", 1024, 784), ("layer", 1024, 1024), ("layer", 10, 1024), ("block", 128, 128), ("block", 128, 98)]
    print(f"{'shape':>8} {'out':>5} {'in':>5} {'op':>11} {'M':>5} {'N':>5} {'K':>5} {'GFLOP/s':>8} {'1 thread':>8}")
    for kind, out, inp in shapes:
        W = rng.standard_normal((out, inp), dtype=np.float32)
        X = rng.standard_normal((inp, B), dtype=np.float32)
        G = rng.standard_normal((out, B), dtype=np.float32)
        ops = [("forward", lambda: W @ X, out, B, inp),
               ("input-grad", lambda: W.T @ G, inp, B, out),
               ("weight-grad", lambda: G @ X.T, out, inp, B)]
        for name, f, M, N, K in ops:
            fl = 2.0 * M * N * K
            r = rate(f, fl, a.seconds)
            with threadpool_limits(1, user_api="blas"):
                r1 = rate(f, fl, a.seconds)
            print(f"{kind:>8} {out:5d} {inp:5d} {name:>11} {M:5d} {N:5d} {K:5d} {r:8.1f} {r1:8.1f}")


if __name__ == "__main__":
    main()
