/*
 * What this CPU allows the residual-edge kernels, measured without the JVM (benchmarks/edge-bound.sh).
 *
 * g2g's sparse forward (src/main/java/org/g2g/backend/cpu/SparseKernels.java) keeps a 64-sample chunk
 * of one output row in 8 vector registers and, per edge, broadcasts the weight and multiply-adds one
 * contiguous 64-sample chunk of the edge's input row: one vector load per FMA, and nothing shared
 * between the edges of a random mask. This is the same loop in C (GCC/Clang vector extensions, so
 * -march=native picks AVX2/AVX-512/NEON FMAs), on the same layout (feature-major rows of batch 256,
 * 64-byte aligned) and the same walk (column panels of 128 inputs, or whole rows below 64 edges a
 * row, as CpuPlan does). It prints GFLOP/s for:
 *   peak                  10 independent FMA chains in registers (the core's FMA peak)
 *   edges g2g P           one 1024x1024 G2G layer's residual edges: 8 groups of 128, each
 *                         off-diagonal (output, input) pair present with probability P
 *   edges er D            one 1024x1024 Erdos-Renyi layer at density D
 *   ... fold              the same edges with every input row folded onto 16 rows (16 KiB, in L1):
 *                         not a layout a layer can have, the bound with no cache misses at all
 *   grads g2g|er P        the weight gradient of the same edges, gw[e] = sum_b g[r][b] x[j][b]: the
 *                         gradient row's 64-sample chunk in 8 registers, each edge's lane sums carried
 *                         over the chunks in a scratch vector (SparseKernels.dotsChunks)
 * Usage: edge-bound peak | edge-bound edges|grads g2g|er P [fold]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef float v8 __attribute__((vector_size(32)));

#define N 1024       /* units in and out */
#define BATCH 256
#define PANEL 128    /* CpuPlan.PANEL */
#define WHOLE 64     /* CpuPlan.WHOLE_LINE_EDGES */
#define GROUP 128    /* 8 groups of 128 */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static unsigned long long state = 88172645463325252ULL;
static double uniform(void) { /* xorshift64: a fixed mask for a fixed seed, no libc rand quirks */
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return (state >> 11) * (1.0 / 9007199254740992.0);
}

static void *aligned(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) { fprintf(stderr, "edge-bound: out of memory\n"); exit(2); }
    return p;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static float peak_sink;

static void peak(void) {
    v8 a[10], m, c;
    for (int k = 0; k < 10; k++) for (int l = 0; l < 8; l++) a[k][l] = (float) (k + l);
    for (int l = 0; l < 8; l++) { m[l] = 0.999f; c[l] = 0.001f; }
    long iters = 20000000;
    double best = 0;
    for (int round = 0; round < 5; round++) {
        double t = now();
        for (long i = 0; i < iters; i++) {
            a[0] = a[0] * m + c; a[1] = a[1] * m + c; a[2] = a[2] * m + c; a[3] = a[3] * m + c; a[4] = a[4] * m + c;
            a[5] = a[5] * m + c; a[6] = a[6] * m + c; a[7] = a[7] * m + c; a[8] = a[8] * m + c; a[9] = a[9] * m + c;
        }
        double gf = 10.0 * iters * 16 / (now() - t) / 1e9;
        if (gf > best) best = gf;
    }
    for (int k = 0; k < 10; k++) peak_sink += a[k][0];
    printf("FMA peak, one core (10 chains in registers): %.1f GFLOP/s\n", best);
}

/* y[b] += sum_e w[e] * x[idx[e]][b], b in [0, BATCH): SparseKernels.rowChunks */
static void row(const float *w, const int *idx, int e0, int e1, const float *X, float *y) {
    for (int b = 0; b < BATCH; b += 64) {
        v8 *o = (v8 *) (y + b);
        v8 a0 = o[0], a1 = o[1], a2 = o[2], a3 = o[3], a4 = o[4], a5 = o[5], a6 = o[6], a7 = o[7];
        for (int e = e0; e < e1; e++) {
            const v8 *x = (const v8 *) (X + (size_t) idx[e] * BATCH + b);
            float s = w[e];
            v8 ws = {s, s, s, s, s, s, s, s};
            a0 += ws * x[0]; a1 += ws * x[1]; a2 += ws * x[2]; a3 += ws * x[3];
            a4 += ws * x[4]; a5 += ws * x[5]; a6 += ws * x[6]; a7 += ws * x[7];
        }
        o[0] = a0; o[1] = a1; o[2] = a2; o[3] = a3; o[4] = a4; o[5] = a5; o[6] = a6; o[7] = a7;
    }
}

/* part[k] (lanes) += g[b..b+63] . x[idx[e0+k]][b..b+63] over the chunks, then gw[e] = the lane sum: SparseKernels.dotsChunks */
static void dots(const float *g, const int *idx, int e0, int e1, const float *X, v8 *part, float *gw) {
    int n = e1 - e0;
    for (int b = 0; b < BATCH; b += 64) {
        const v8 *gr = (const v8 *) (g + b);
        v8 g0 = gr[0], g1 = gr[1], g2 = gr[2], g3 = gr[3], g4 = gr[4], g5 = gr[5], g6 = gr[6], g7 = gr[7];
        for (int k = 0; k < n; k++) {
            const v8 *x = (const v8 *) (X + (size_t) idx[e0 + k] * BATCH + b);
            v8 p = x[0] * g0, q = x[1] * g1;
            p += x[2] * g2; q += x[3] * g3; p += x[4] * g4; q += x[5] * g5; p += x[6] * g6; q += x[7] * g7;
            p += q;
            part[k] = b == 0 ? p : part[k] + p;
        }
    }
    for (int k = 0; k < n; k++) {
        float s = 0;
        for (int l = 0; l < 8; l++) s += part[k][l];
        gw[e0 + k] = s;
    }
}

/* One layer's edges as CSR split by column panel, its operands, and which kernel runs on them. */
typedef struct {
    int np, whole, grads;
    const int *ptr, *idx;
    const float *w, *X;
    float *Y, *gw; /* forward: Y the output; weight gradient: Y the output gradient, gw the result */
    v8 *part;
} Layer;

/* Row r's edges [e0, e1) through the kernel being measured. */
static void line(const Layer *L, int r, int e0, int e1) {
    if (L->grads) dots(L->Y + (size_t) r * BATCH, L->idx, e0, e1, L->X, L->part, L->gw);
    else row(L->w, L->idx, e0, e1, L->X, L->Y + (size_t) r * BATCH);
}

/* The whole layer, walked as CpuPlan walks it: row by row, or column panel by column panel within each row panel. */
static void walk(const Layer *L) {
    int np = L->np;
    if (L->whole) {
        for (int r = 0; r < N; r++) line(L, r, L->ptr[r * np], L->ptr[r * np + np]);
    } else {
        for (int rp = 0; rp < N; rp += PANEL)
            for (int q = 0; q < np; q++)
                for (int r = rp; r < rp + PANEL; r++) line(L, r, L->ptr[r * np + q], L->ptr[r * np + q + 1]);
    }
}

/* Largest relative error of the forward against a scalar double loop, after one pass from zero. */
static double forward_error(Layer *L) {
    memset(L->Y, 0, sizeof(float) * (size_t) N * BATCH);
    for (int r = 0; r < N; r++) row(L->w, L->idx, L->ptr[r * L->np], L->ptr[r * L->np + L->np], L->X, L->Y + (size_t) r * BATCH);
    double err = 0;
    for (int r = 0; r < N; r++) {
        for (int b = 0; b < BATCH; b++) {
            double ref = 0, mag = 0;
            for (int e = L->ptr[r * L->np]; e < L->ptr[r * L->np + L->np]; e++) {
                ref += (double) L->w[e] * L->X[(size_t) L->idx[e] * BATCH + b];
                mag += (double) (L->w[e] < 0 ? -L->w[e] : L->w[e]);
            }
            double d = (L->Y[(size_t) r * BATCH + b] - ref) / (mag > 0 ? mag : 1);
            if (d < 0) d = -d;
            if (d > err) err = d;
        }
    }
    return err;
}

/* Largest relative error of the weight gradient the timed walks left in gw against a scalar double loop. */
static double gradient_error(const Layer *L) {
    double err = 0;
    for (int r = 0; r < N; r++) {
        for (int e = L->ptr[r * L->np]; e < L->ptr[r * L->np + L->np]; e++) {
            double ref = 0, mag = 0;
            for (int b = 0; b < BATCH; b++) {
                double t = (double) L->Y[(size_t) r * BATCH + b] * L->X[(size_t) L->idx[e] * BATCH + b];
                ref += t; mag += t < 0 ? -t : t;
            }
            double d = (L->gw[e] - ref) / (mag > 0 ? mag : 1);
            if (d < 0) d = -d;
            if (d > err) err = d;
        }
    }
    return err;
}

static void edges(int g2g, double p, int fold, int grads) {
    int np = N / PANEL;
    int *ptr = malloc(sizeof(int) * ((size_t) N * np + 1));
    int *idx = malloc(sizeof(int) * (size_t) N * N);
    float *w = malloc(sizeof(float) * (size_t) N * N);
    float *X = aligned(sizeof(float) * (size_t) N * BATCH), *Y = aligned(sizeof(float) * (size_t) N * BATCH);
    if (!ptr || !idx || !w) { fprintf(stderr, "edge-bound: out of memory\n"); exit(2); }
    for (size_t i = 0; i < (size_t) N * BATCH; i++) { X[i] = (float) (uniform() - 0.5); Y[i] = 0; }
    long ne = 0;
    for (int r = 0; r < N; r++) {
        for (int q = 0; q < np; q++) {
            ptr[r * np + q] = (int) ne;
            for (int j = q * PANEL; j < (q + 1) * PANEL; j++) {
                if (g2g && r / GROUP == j / GROUP) continue; /* the diagonal blocks are dense GEMMs, not edges */
                if (uniform() < p) { idx[ne] = fold ? j % 16 : j; w[ne] = (float) (uniform() - 0.5); ne++; }
            }
        }
    }
    ptr[N * np] = (int) ne;
    float *gw = malloc(sizeof(float) * (size_t) (ne > 0 ? ne : 1));
    if (!gw) { fprintf(stderr, "edge-bound: out of memory\n"); exit(2); }
    if (grads) for (size_t i = 0; i < (size_t) N * BATCH; i++) Y[i] = (float) (uniform() - 0.5); /* the output gradient */
    Layer L = {np, ne < (long) WHOLE * N /* CpuPlan.wholeRows */, grads, ptr, idx, w, X, Y, gw, aligned(sizeof(v8) * (size_t) N)};
    enum { CALLS = 60 };
    double t[CALLS];
    for (int call = -10; call < CALLS; call++) {
        double t0 = now();
        walk(&L);
        if (call >= 0) t[call] = now() - t0;
    }
    qsort(t, CALLS, sizeof(double), cmp);
    /* the kernel must compute the product, or its speed means nothing */
    double err = grads ? gradient_error(&L) : forward_error(&L);
    if (err > 1e-5) {
        fprintf(stderr, "edge-bound: the %s kernel disagrees with the scalar loop (relative error %.2g)\n", grads ? "gradient" : "forward", err);
        exit(1);
    }
    double flop = 2.0 * ne * BATCH;
    printf("%s, %s %.3f%s: %ld edges (%s), batch %d: best %.3f ms = %.1f GFLOP/s, median %.3f ms = %.1f GFLOP/s\n",
           grads ? "edge weight gradient" : "residual edges", g2g ? "g2g p'" : "er density", p, fold ? ", inputs folded into L1" : "",
           ne, L.whole ? "whole rows" : "panels of 128", BATCH, t[0] * 1e3, flop / t[0] / 1e9, t[CALLS / 2] * 1e3, flop / t[CALLS / 2] / 1e9);
    free(ptr); free(idx); free(w); free(X); free(Y); free(gw); free(L.part);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "peak") == 0) { peak(); return 0; }
    int grads = argc >= 2 && strcmp(argv[1], "grads") == 0;
    if (argc >= 4 && (grads || strcmp(argv[1], "edges") == 0) && (strcmp(argv[2], "g2g") == 0 || strcmp(argv[2], "er") == 0)) {
        double p = atof(argv[3]);
        if (!(p > 0 && p <= 1)) { fprintf(stderr, "edge-bound: density %s is not in (0, 1]\n", argv[3]); return 2; }
        edges(strcmp(argv[2], "g2g") == 0, p, argc >= 5 && strcmp(argv[4], "fold") == 0, grads);
        return 0;
    }
    fprintf(stderr, "usage: edge-bound peak | edge-bound edges|grads g2g|er P [fold]\n");
    return 2;
}
