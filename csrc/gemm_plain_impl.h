/* Dtype-generic plain GEMM: included once per translation unit after
 * gemm_impl.h (it reads the paths' KC), with `real` and SFX(name) defined.
 *
 * C = alpha op(A) op(B) + beta C with gemm's contract (pynn.h), in a few loops:
 * no packing, no tiles, no intrinsics, no threads, no workspace. Each row of C
 * is done PLAIN_NB columns at a time, with p in the middle loop and j inside,
 * so that the inner loop runs along a row of B (or, for a transposed B, along
 * PLAIN_NB rows at one column each, whose cache lines serve the next p too).
 *
 * Bitwise the fast GEMM's result on the same simd path: gemm sums each element
 * of C in KC steps (gemm_kc: the path's KC, or all of k when k <= 4/3 KC), each
 * step from zero in p order, one multiply-add per p (fused on the AVX paths, a
 * rounded product then a rounded sum on the generic one), then
 *     c = alpha * step + beta_step * c   (beta on the first step, else 1;
 *                                          c not read when beta_step == 0),
 * with alpha * step and beta_step * c each rounded. Threads, tiles, the row
 * count and C^T do not change that chain (gemm_impl.h), and this code follows
 * it, so the tests compare the two bit for bit. Written as the generic kernel
 * writes its statements, so a compiler that contracts a*b+c (Clang on aarch64)
 * contracts both alike. */

/* Columns of a row whose sums are kept at once (on the stack). */
#define PLAIN_NB 64

/* The fused sums are compiled for FMA on x86-64 (run only on the AVX paths, whose
 * CPUs have it), so that fma() is one instruction rather than a libm call; the
 * code stays plain C. Elsewhere fma() is the ISA's own (aarch64) or never run. */
#if defined(PYNN_HAVE_X86_PATHS)
#define PLAIN_FMA_TARGET __attribute__((target("fma")))
#else
#define PLAIN_FMA_TARGET
#endif
#if defined(__GNUC__) || defined(__clang__)
#define PLAIN_INLINE inline __attribute__((always_inline))
#else
#define PLAIN_INLINE inline
#endif
/* One compiled copy of each sum loop: when gemm_driver calls the plain GEMM with
 * m == 1, GCC 12 specialised them for its constants into a copy whose vector loop
 * it never entered (5x slower). */
#if defined(__GNUC__) && !defined(__clang__)
#define PLAIN_OWN_COPY __attribute__((noinline, noclone))
#else
#define PLAIN_OWN_COPY
#endif

/* acc[j] = the sum over p in [p0, p1) of op(A)[i, p] op(B)[p, j0 + j], j < nb, from
 * zero in p order: fused multiply-adds, or a rounded product added. */
static PLAIN_INLINE void SFX(plain_sums)(real *restrict acc, const real *restrict a, int64_t lda,
                                         int trans_a, const real *restrict b, int64_t ldb,
                                         int trans_b, int64_t i, int64_t j0, int64_t nb,
                                         int64_t p0, int64_t p1, int fused) {
    for (int64_t j = 0; j < nb; j++) acc[j] = 0;
    for (int64_t p = p0; p < p1; p++) {
        const real aip = trans_a ? a[p * lda + i] : a[i * lda + p];
        /* op(B)[p, j0 + j]: down column p of b^T, or along row p of b (one loop
         * each, so that each has a constant stride). */
        if (trans_b) {
            const real *restrict bp = b + j0 * ldb + p;
            if (fused)
                for (int64_t j = 0; j < nb; j++) acc[j] = fma(aip, bp[j * ldb], acc[j]);
            else
                for (int64_t j = 0; j < nb; j++) acc[j] += aip * bp[j * ldb];
        } else {
            const real *restrict bp = b + p * ldb + j0;
            if (fused)
                for (int64_t j = 0; j < nb; j++) acc[j] = fma(aip, bp[j], acc[j]);
            else
                for (int64_t j = 0; j < nb; j++) acc[j] += aip * bp[j];
        }
    }
}

PLAIN_FMA_TARGET PLAIN_OWN_COPY static void SFX(plain_sums_fused)(
    real *restrict acc, const real *restrict a, int64_t lda, int trans_a, const real *restrict b,
    int64_t ldb, int trans_b, int64_t i, int64_t j0, int64_t nb, int64_t p0, int64_t p1) {
    SFX(plain_sums)(acc, a, lda, trans_a, b, ldb, trans_b, i, j0, nb, p0, p1, 1);
}

PLAIN_OWN_COPY static void SFX(plain_sums_unfused)(real *restrict acc, const real *restrict a,
                                                   int64_t lda, int trans_a,
                                                   const real *restrict b, int64_t ldb,
                                                   int trans_b, int64_t i, int64_t j0, int64_t nb,
                                                   int64_t p0, int64_t p1) {
    SFX(plain_sums)(acc, a, lda, trans_a, b, ldb, trans_b, i, j0, nb, p0, p1, 0);
}

void SFX(gemm_plain)(real *restrict c, const real *restrict a, const real *restrict b, int64_t m,
                     int64_t n, int64_t k, double alpha_, double beta_, int trans_a, int trans_b,
                     int64_t lda, int64_t ldb, int64_t ldc, int simd) {
    const real alpha = (real)alpha_, beta = (real)beta_;
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) {
        /* BLAS: A and B are not read; beta == 0 does not read C either. */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta != 0 ? beta * c[i * ldc + j] : 0;
        return;
    }
    const SFX(gemm_path) *path = SFX(gemm_path_of)(simd);
    const int fused = path != &SFX(gemm_path_generic);
    const int64_t kc = SFX(gemm_kc)(path, k); /* every tile of a path has its KC */
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j0 = 0; j0 < n; j0 += PLAIN_NB) {
            const int64_t nb = SFX(gemm_min)(PLAIN_NB, n - j0);
            real *restrict crow = c + i * ldc + j0;
            for (int64_t p0 = 0; p0 < k; p0 += kc) {
                const int64_t p1 = SFX(gemm_min)(p0 + kc, k);
                real acc[PLAIN_NB];
                if (fused)
                    SFX(plain_sums_fused)(acc, a, lda, trans_a, b, ldb, trans_b, i, j0, nb, p0,
                                          p1);
                else
                    SFX(plain_sums_unfused)(acc, a, lda, trans_a, b, ldb, trans_b, i, j0, nb, p0,
                                            p1);
                const real beta_step = p0 == 0 ? beta : 1;
                for (int64_t j = 0; j < nb; j++) {
                    real v = alpha * acc[j];
                    if (beta_step != 0) v += beta_step * crow[j];
                    crow[j] = v;
                }
            }
        }
    }
}

#undef PLAIN_NB
#undef PLAIN_FMA_TARGET
#undef PLAIN_INLINE
#undef PLAIN_OWN_COPY
