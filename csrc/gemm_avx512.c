/* The AVX-512F GEMM path: micro-kernels and block sizes for float and double.
 * Compiled for every x86-64 build through target attributes (never -march), and
 * only run when the CPU has AVX-512F (pynn_simd_supported).
 *
 * Tiles: 32 accumulators in registers of 32; float 14 x 32 (28 accumulators),
 * double 14 x 16. Blocks for a core with a 48 KB L1d and a 1 MB L2 (Zen 4/5):
 * a B micro-panel (kc x nr) stays in L1, an A block (mc x kc) in L2. */
#include "gemm_paths.h"

#if defined(PYNN_HAVE_X86_PATHS)
#include <immintrin.h>

#define KERNEL_TARGET __attribute__((target("avx512f")))
#define KERNEL_MR 14
#define KERNEL_NV 2

#define real float
#define vec __m512
#define VLEN 16
#define KERNEL_NAME gemm_kernel_avx512_f32
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps(p, v)
#define V_SET1(x) _mm512_set1_ps(x)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#include "gemm_kernel_impl.h"
#undef real
#undef vec
#undef VLEN
#undef KERNEL_NAME
#undef V_ZERO
#undef V_LOAD
#undef V_STORE
#undef V_SET1
#undef V_FMA
#undef V_MUL
#undef V_ADD

#define real double
#define vec __m512d
#define VLEN 8
#define KERNEL_NAME gemm_kernel_avx512_f64
#define V_ZERO() _mm512_setzero_pd()
#define V_LOAD(p) _mm512_loadu_pd(p)
#define V_STORE(p, v) _mm512_storeu_pd(p, v)
#define V_SET1(x) _mm512_set1_pd(x)
#define V_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define V_MUL(a, b) _mm512_mul_pd(a, b)
#define V_ADD(a, b) _mm512_add_pd(a, b)
#include "gemm_kernel_impl.h"

/* Transposed B panels: 8 x 8 (float) or 4 x 4 (double) blocks of b, transposed
 * in registers, so that b is read and the panel written in whole vectors. */
KERNEL_TARGET static void gemm_pack_bt_avx512_f32(float *panel, const float *b, int64_t ldb,
                                                  int64_t kc) {
    int64_t p = 0;
    for (; p + 8 <= kc; p += 8) {
        for (int64_t j0 = 0; j0 < 32; j0 += 8) {
            __m256 r[8], t[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(b + (j0 + i) * ldb + p);
            for (int i = 0; i < 8; i += 2) {
                t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
                t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
            }
            /* t[0] = 00 10 01 11 | 04 14 05 15, t[1] = 02 12 03 13 | ..., and so on */
            __m256 u[8];
            for (int i = 0; i < 8; i += 4) {
                u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
                u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
                u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
                u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
            }
            /* u[q] (q < 4) holds column q of rows 0-3 and column q+4 of rows 0-3;
             * u[4 + q] the same for rows 4-7. */
            for (int q = 0; q < 4; q++) {
                _mm256_storeu_ps(panel + (p + q) * 32 + j0,
                                 _mm256_permute2f128_ps(u[q], u[4 + q], 0x20));
                _mm256_storeu_ps(panel + (p + q + 4) * 32 + j0,
                                 _mm256_permute2f128_ps(u[q], u[4 + q], 0x31));
            }
        }
    }
    for (; p < kc; p++)
        for (int64_t j = 0; j < 32; j++) panel[p * 32 + j] = b[j * ldb + p];
}

KERNEL_TARGET static void gemm_pack_bt_avx512_f64(double *panel, const double *b, int64_t ldb,
                                                  int64_t kc) {
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4) {
        for (int64_t j0 = 0; j0 < 16; j0 += 4) {
            __m256d r0 = _mm256_loadu_pd(b + j0 * ldb + p);
            __m256d r1 = _mm256_loadu_pd(b + (j0 + 1) * ldb + p);
            __m256d r2 = _mm256_loadu_pd(b + (j0 + 2) * ldb + p);
            __m256d r3 = _mm256_loadu_pd(b + (j0 + 3) * ldb + p);
            __m256d t0 = _mm256_unpacklo_pd(r0, r1); /* 00 10 02 12 */
            __m256d t1 = _mm256_unpackhi_pd(r0, r1); /* 01 11 03 13 */
            __m256d t2 = _mm256_unpacklo_pd(r2, r3); /* 20 30 22 32 */
            __m256d t3 = _mm256_unpackhi_pd(r2, r3); /* 21 31 23 33 */
            _mm256_storeu_pd(panel + p * 16 + j0, _mm256_permute2f128_pd(t0, t2, 0x20));
            _mm256_storeu_pd(panel + (p + 1) * 16 + j0, _mm256_permute2f128_pd(t1, t3, 0x20));
            _mm256_storeu_pd(panel + (p + 2) * 16 + j0, _mm256_permute2f128_pd(t0, t2, 0x31));
            _mm256_storeu_pd(panel + (p + 3) * 16 + j0, _mm256_permute2f128_pd(t1, t3, 0x31));
        }
    }
    for (; p < kc; p++)
        for (int64_t j = 0; j < 16; j++) panel[p * 16 + j] = b[j * ldb + p];
}

const gemm_path_f32 gemm_path_avx512_f32 = {14, 32, 192, 14 * 32, 4096, 64,
                                            gemm_kernel_avx512_f32, gemm_pack_bt_avx512_f32};
const gemm_path_f64 gemm_path_avx512_f64 = {14, 16, 192, 14 * 24, 2048, 32,
                                            gemm_kernel_avx512_f64, gemm_pack_bt_avx512_f64};
#endif
