/* The measured FMA limit of one core: benchmarks/gemm.py compiles and runs this to
 * know the real peak of the machine it runs on (a VM's vCPU may issue fewer vector
 * FMAs per cycle than the chip's data sheet says).
 *
 * Prints one line per ISA the CPU has: "<isa> <fp32 GFLOP/s> <fp64 GFLOP/s>".
 * Twelve independent FMA chains hide the FMA latency on every x86-64 core we know
 * (latency 4 x 2 pipes = 8 chains needed). Built with plain -O2: each function
 * enables its own ISA with a target attribute, as pynn's kernels do. */
#include <stdio.h>
#include <time.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define CHAINS 12
#define ROUNDS 20000000L

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* One probe per vector type: CHAINS accumulators (named, so that they live in
 * registers) x ROUNDS fused multiply-adds. */
#define FMA_PROBE(name, isa, vec, set1, fmadd, first, flops_per_fma)                \
    __attribute__((target(isa))) static double name(void) {                         \
        vec mul = set1(0.9999), add = set1(1e-4);                                       \
        vec a0 = set1(0), a1 = set1(1), a2 = set1(2), a3 = set1(3), a4 = set1(4);       \
        vec a5 = set1(5), a6 = set1(6), a7 = set1(7), a8 = set1(8), a9 = set1(9);       \
        vec a10 = set1(10), a11 = set1(11);                                             \
        double start = seconds();                                                       \
        for (long r = 0; r < ROUNDS; r++) {                                             \
            a0 = fmadd(a0, mul, add), a1 = fmadd(a1, mul, add);                         \
            a2 = fmadd(a2, mul, add), a3 = fmadd(a3, mul, add);                         \
            a4 = fmadd(a4, mul, add), a5 = fmadd(a5, mul, add);                         \
            a6 = fmadd(a6, mul, add), a7 = fmadd(a7, mul, add);                         \
            a8 = fmadd(a8, mul, add), a9 = fmadd(a9, mul, add);                         \
            a10 = fmadd(a10, mul, add), a11 = fmadd(a11, mul, add);                     \
        }                                                                               \
        double elapsed = seconds() - start;                                             \
        double sink = first(a0) + first(a1) + first(a2) + first(a3) + first(a4) +      \
                      first(a5) + first(a6) + first(a7) + first(a8) + first(a9) +      \
                      first(a10) + first(a11);                                          \
        if (sink == 12345.678) printf(" "); /* the chains' results are used */          \
        return (double)ROUNDS * CHAINS * (flops_per_fma) / elapsed / 1e9;               \
    }

FMA_PROBE(avx512_fp32, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_cvtss_f32, 32)
FMA_PROBE(avx512_fp64, "avx512f", __m512d, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_cvtsd_f64, 16)
FMA_PROBE(avx2_fp32, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_cvtss_f32, 16)
FMA_PROBE(avx2_fp64, "avx2,fma", __m256d, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_cvtsd_f64, 8)

int main(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        printf("avx512 %.1f %.1f\n", avx512_fp32(), avx512_fp64());
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        printf("avx2 %.1f %.1f\n", avx2_fp32(), avx2_fp64());
    return 0;
}
#else
int main(void) { return 0; } /* no probe for this architecture: the script's default */
#endif
