/* The fast GEMM against the plain one at the C level, one thread: benchmarks/gemm_plain.py
 * compiles this with pynn's csrc/*.c (setup.py's flags) and runs it.
 *
 * Usage: gemm_plain SIMD REPEATS BATCH_SECONDS then lines "dtype layout m k n" on stdin
 * (layout NT: C = A B^T, a dense layer's forward; NN: C = A B, its dx; TN: C = A^T B, its
 * dW). Prints per shape "dtype layout m k n fast_ns plain_ns", each the median over
 * REPEATS of the process CPU time per call of a batch of about BATCH_SECONDS, the two
 * GEMMs alternating (interleaved, which goes first alternating too). Operands and the
 * workspace are made before timing. */
#define _POSIX_C_SOURCE 200809L
#include "pynn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

typedef struct {
    int f64, ta, tb, simd;
    int64_t m, n, k, lda, ldb;
    void *a, *b, *c, *work;
} shape;

static void run(const shape *s, int plain) {
    if (s->f64) {
        if (plain)
            gemm_plain_f64(s->c, s->a, s->b, s->m, s->n, s->k, 1, 0, s->ta, s->tb, s->lda,
                           s->ldb, s->n, s->simd);
        else
            gemm_f64(s->c, s->a, s->b, s->m, s->n, s->k, 1, 0, s->ta, s->tb, s->lda, s->ldb,
                     s->n, s->work, s->simd, 1);
    } else {
        if (plain)
            gemm_plain_f32(s->c, s->a, s->b, s->m, s->n, s->k, 1, 0, s->ta, s->tb, s->lda,
                           s->ldb, s->n, s->simd);
        else
            gemm_f32(s->c, s->a, s->b, s->m, s->n, s->k, 1, 0, s->ta, s->tb, s->lda, s->ldb,
                     s->n, s->work, s->simd, 1);
    }
}

/* Seconds per call of a batch of `calls`. */
static double batch(const shape *s, int plain, long calls) {
    double t0 = cpu_seconds();
    for (long r = 0; r < calls; r++) run(s, plain);
    return (cpu_seconds() - t0) / calls;
}

static void *filled(int64_t count, int f64) {
    size_t size = f64 ? sizeof(double) : sizeof(float);
    void *p = malloc((size_t)(count > 0 ? count : 1) * size);
    for (int64_t i = 0; i < count; i++) {
        double v = (double)((i * 7919) % 1000) / 500.0 - 1.0;
        if (f64)
            ((double *)p)[i] = v;
        else
            ((float *)p)[i] = (float)v;
    }
    return p;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: gemm_plain SIMD REPEATS BATCH_SECONDS < shapes\n");
        return 2;
    }
    int simd = atoi(argv[1]), repeats = atoi(argv[2]);
    double batch_seconds = atof(argv[3]);
    char dtype[16], layout[8];
    long long m, k, n;
    while (scanf("%15s %7s %lld %lld %lld", dtype, layout, &m, &k, &n) == 5) {
        shape s = {strcmp(dtype, "float64") == 0, layout[0] == 'T', layout[1] == 'T', simd,
                   m, n, k, 0, 0, NULL, NULL, NULL, NULL};
        s.lda = s.ta ? m : k;
        s.ldb = s.tb ? k : n;
        s.a = filled(m * k, s.f64);
        s.b = filled(k * n, s.f64);
        s.c = filled(m * n, s.f64);
        int64_t ws = s.f64 ? gemm_workspace_size_f64(m, n, k, simd, 1)
                           : gemm_workspace_size_f32(m, n, k, simd, 1);
        s.work = filled(ws, s.f64);
        /* Calibrate: calls per batch so that a fast batch takes about batch_seconds. */
        run(&s, 0);
        run(&s, 1);
        long calls = 1;
        while (batch(&s, 0, calls) * calls < batch_seconds / 8 && calls < (1L << 30)) calls *= 2;
        calls = (long)(calls * 8 * (batch_seconds / 8) / (batch(&s, 0, calls) * calls)) + 1;
        double *times[2];
        times[0] = malloc(sizeof(double) * repeats);
        times[1] = malloc(sizeof(double) * repeats);
        for (int r = 0; r < repeats; r++) {
            int first = r % 2;
            times[first][r] = batch(&s, first, calls);
            times[!first][r] = batch(&s, !first, calls);
        }
        qsort(times[0], repeats, sizeof(double), cmp_double);
        qsort(times[1], repeats, sizeof(double), cmp_double);
        printf("%s %s %lld %lld %lld %.1f %.1f\n", dtype, layout, m, k, n,
               1e9 * times[0][repeats / 2], 1e9 * times[1][repeats / 2]);
        fflush(stdout);
        free(times[0]);
        free(times[1]);
        free(s.a);
        free(s.b);
        free(s.c);
        free(s.work);
    }
    return 0;
}
