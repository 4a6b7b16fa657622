/* Dtype-generic GEMM body: included once per translation unit with `real` and
 * SFX(name) defined (see kernels_f32.c). Needs activations_impl.h before it.
 *
 * C = alpha op(A) op(B) + beta C, row-major, packed and cache-blocked in the
 * BLIS style: B is packed a (KC x NC) block at a time into NR-wide panels that
 * all threads share, A a (MC x KC) block at a time into MR-tall panels that
 * each thread owns, and a small MR x NR micro-kernel does the arithmetic.
 *
 * Determinism: a tile of C is owned by one thread for a whole KC step, and the
 * KC steps run in the same order whatever the thread count, so every element
 * is summed in the same order for any nthreads.
 *
 * This is the plain, portable version: the micro-kernel is written so the
 * compiler can vectorise it for the baseline ISA. */

#if defined(__GNUC__) && !defined(__clang__)
#define PYNN_UNROLL _Pragma("GCC unroll 8")
#elif defined(__clang__)
#define PYNN_UNROLL _Pragma("unroll")
#else
#define PYNN_UNROLL
#endif

#define GEMM_MR 6
#define GEMM_NR ((int64_t)(32 / sizeof(real))) /* 8 floats or 4 doubles */
#define GEMM_KC 256
#define GEMM_MC 96  /* a multiple of GEMM_MR */
#define GEMM_NC 2048
#define GEMM_JW (GEMM_NR * 8) /* columns of one parallel task */

static inline int64_t SFX(gemm_min)(int64_t x, int64_t y) { return x < y ? x : y; }
static inline int64_t SFX(gemm_round_up)(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

int64_t SFX(gemm_workspace_size)(int64_t m, int64_t n, int64_t k, int nthreads) {
    if (m <= 0 || n <= 0 || k <= 0) return 0;
    int64_t kc = SFX(gemm_min)(k, GEMM_KC);
    int64_t nc = SFX(gemm_min)(SFX(gemm_round_up)(n, GEMM_NR), GEMM_NC);
    int64_t mc = SFX(gemm_min)(SFX(gemm_round_up)(m, GEMM_MR), GEMM_MC);
    return kc * nc + (int64_t)(nthreads < 1 ? 1 : nthreads) * mc * kc;
}

/* Pack op(A)[i0:i0+mc, p0:p0+kc] as MR-tall panels, each stored p-major and
 * zero-padded to a whole panel. */
static void SFX(gemm_pack_a)(real *restrict ap, const real *restrict a, int64_t lda,
                             int trans_a, int64_t i0, int64_t mc, int64_t p0, int64_t kc) {
    for (int64_t ir = 0; ir < mc; ir += GEMM_MR) {
        int64_t mr = SFX(gemm_min)(GEMM_MR, mc - ir);
        real *restrict panel = ap + ir * kc;
        for (int64_t p = 0; p < kc; p++) {
            for (int64_t i = 0; i < GEMM_MR; i++) {
                real v = 0;
                if (i < mr) {
                    int64_t row = i0 + ir + i, col = p0 + p;
                    v = trans_a ? a[col * lda + row] : a[row * lda + col];
                }
                panel[p * GEMM_MR + i] = v;
            }
        }
    }
}

/* Pack NR-wide panel `jp` of op(B)[p0:p0+kc, j0:j0+nc], p-major, zero-padded. */
static void SFX(gemm_pack_b_panel)(real *restrict bp, const real *restrict b, int64_t ldb,
                                   int trans_b, int64_t p0, int64_t kc, int64_t j0,
                                   int64_t nc, int64_t jp) {
    int64_t jr = jp * GEMM_NR;
    int64_t nr = SFX(gemm_min)(GEMM_NR, nc - jr);
    real *restrict panel = bp + jr * kc;
    for (int64_t p = 0; p < kc; p++) {
        for (int64_t j = 0; j < GEMM_NR; j++) {
            real v = 0;
            if (j < nr) {
                int64_t row = p0 + p, col = j0 + jr + j;
                v = trans_b ? b[col * ldb + row] : b[row * ldb + col];
            }
            panel[p * GEMM_NR + j] = v;
        }
    }
}

/* What happens to a finished value v of C on the last KC step: the dense
 * layer's bias and activation, fused into the store. */
typedef struct {
    const real *bias; /* (n) or NULL */
    real *z;          /* (m, ldz) receives v + bias, or NULL */
    int64_t ldz;
    pynn_activation act;
    real param;
} SFX(gemm_epilogue);

/* One MR x NR tile of C (mr x nr of it valid): acc = A panel (MR x kc) times
 * B panel (kc x NR), then c = alpha acc + beta c (beta == 0: c is not read),
 * then the epilogue on the last KC step. The accumulators are local to this
 * function so that the compiler keeps them in vector registers. */
static inline void SFX(gemm_tile)(real *restrict c, int64_t ldc, int64_t row, int64_t col,
                                  int64_t mr, int64_t nr, int64_t kc,
                                  const real *restrict ap, const real *restrict bp,
                                  real alpha, real beta, const SFX(gemm_epilogue) *ep,
                                  int last) {
    real acc[GEMM_MR][32 / sizeof(real)] = {{0}};
    for (int64_t p = 0; p < kc; p++) {
        const real *restrict bv = bp + p * GEMM_NR;
        const real *restrict av = ap + p * GEMM_MR;
        /* Unrolled so that the compiler vectorises across j, not across p. */
        PYNN_UNROLL
        for (int i = 0; i < GEMM_MR; i++)
            PYNN_UNROLL
            for (int j = 0; j < GEMM_NR; j++) acc[i][j] += av[i] * bv[j];
    }
    for (int64_t i = 0; i < mr; i++) {
        real *restrict crow = c + (row + i) * ldc + col;
        for (int64_t j = 0; j < nr; j++) {
            real v = alpha * acc[i][j];
            if (beta != 0) v += beta * crow[j];
            if (last && ep) {
                if (ep->bias) v += ep->bias[col + j];
                if (ep->z) ep->z[(row + i) * ep->ldz + col + j] = v;
                v = SFX(act_value)(v, ep->act, ep->param);
            }
            crow[j] = v;
        }
    }
}

/* The k == 0 case: c = beta c, then the epilogue. */
static void SFX(gemm_scale_only)(real *restrict c, int64_t m, int64_t n, int64_t ldc,
                                 real beta, const SFX(gemm_epilogue) *ep, int nthreads) {
    if (!PYNN_USE_THREADS(m * n, nthreads)) nthreads = 1;
    PYNN_OMP_FOR(nthreads)
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            real v = beta != 0 ? beta * c[i * ldc + j] : 0;
            if (ep) {
                if (ep->bias) v += ep->bias[j];
                if (ep->z) ep->z[i * ep->ldz + j] = v;
                v = SFX(act_value)(v, ep->act, ep->param);
            }
            c[i * ldc + j] = v;
        }
    }
}

/* The blocked loops. Run by every thread of a parallel region, which share
 * the packing of B and the tiles of C; or, outside any region, by the calling
 * thread alone. */
static void SFX(gemm_blocks)(real *restrict c, const real *restrict a, const real *restrict b,
                             int64_t m, int64_t n, int64_t k, real alpha, real beta,
                             int trans_a, int trans_b, int64_t lda, int64_t ldb, int64_t ldc,
                             const SFX(gemm_epilogue) *ep, real *restrict bp,
                             real *restrict ap) {
    int64_t m_blocks = (m + GEMM_MC - 1) / GEMM_MC;
    for (int64_t j0 = 0; j0 < n; j0 += GEMM_NC) {
        int64_t nc = SFX(gemm_min)(GEMM_NC, n - j0);
        int64_t n_panels = (nc + GEMM_NR - 1) / GEMM_NR;
        int64_t n_groups = (nc + GEMM_JW - 1) / GEMM_JW;
        for (int64_t p0 = 0; p0 < k; p0 += GEMM_KC) {
            int64_t kc = SFX(gemm_min)(GEMM_KC, k - p0);
            real beta_step = p0 == 0 ? beta : (real)1;
            int last = p0 + kc == k;

            PYNN_OMP_SHARED_FOR
            for (int64_t jp = 0; jp < n_panels; jp++)
                SFX(gemm_pack_b_panel)(bp, b, ldb, trans_b, p0, kc, j0, nc, jp);
            /* implicit barrier: B is packed */

            int64_t packed_block = -1;
            PYNN_OMP_SHARED_FOR
            for (int64_t task = 0; task < m_blocks * n_groups; task++) {
                int64_t ib = task / n_groups, g = task % n_groups;
                int64_t i0 = ib * GEMM_MC;
                int64_t mc = SFX(gemm_min)(GEMM_MC, m - i0);
                if (packed_block != ib) {
                    SFX(gemm_pack_a)(ap, a, lda, trans_a, i0, mc, p0, kc);
                    packed_block = ib;
                }
                int64_t jr_end = SFX(gemm_min)((g + 1) * GEMM_JW, nc);
                for (int64_t jr = g * GEMM_JW; jr < jr_end; jr += GEMM_NR) {
                    int64_t nr = SFX(gemm_min)(GEMM_NR, nc - jr);
                    for (int64_t ir = 0; ir < mc; ir += GEMM_MR) {
                        int64_t mr = SFX(gemm_min)(GEMM_MR, mc - ir);
                        SFX(gemm_tile)(c, ldc, i0 + ir, j0 + jr, mr, nr, kc, ap + ir * kc,
                                       bp + jr * kc, alpha, beta_step, ep, last);
                    }
                }
            }
            /* implicit barrier: B may be repacked */
        }
    }
}

/* The whole GEMM, with an optional epilogue (NULL for a plain GEMM). */
static void SFX(gemm_driver)(real *restrict c, const real *restrict a, const real *restrict b,
                             int64_t m, int64_t n, int64_t k, real alpha, real beta,
                             int trans_a, int trans_b, int64_t lda, int64_t ldb, int64_t ldc,
                             const SFX(gemm_epilogue) *ep, real *restrict work, int nthreads) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) {
        SFX(gemm_scale_only)(c, m, n, ldc, beta, ep, nthreads);
        return;
    }
    int64_t kc_max = SFX(gemm_min)(k, GEMM_KC);
    int64_t nc_max = SFX(gemm_min)(SFX(gemm_round_up)(n, GEMM_NR), GEMM_NC);
    int64_t mc_max = SFX(gemm_min)(SFX(gemm_round_up)(m, GEMM_MR), GEMM_MC);
    real *restrict bp = work;
    real *restrict ap_all = work + kc_max * nc_max;
    /* Multiply-adds over 8: a tile's arithmetic costs about one element copy. */
    if (!PYNN_USE_THREADS(m * n / 8 * k, nthreads)) {
        SFX(gemm_blocks)(c, a, b, m, n, k, alpha, beta, trans_a, trans_b, lda, ldb, ldc, ep,
                         bp, ap_all);
        return;
    }
    PYNN_OMP_PARALLEL(nthreads)
    {
        real *restrict ap = ap_all + (int64_t)PYNN_THREAD_ID() * mc_max * kc_max;
        SFX(gemm_blocks)(c, a, b, m, n, k, alpha, beta, trans_a, trans_b, lda, ldb, ldc, ep,
                         bp, ap);
    }
}

void SFX(gemm)(real *restrict c, const real *restrict a, const real *restrict b,
               int64_t m, int64_t n, int64_t k, double alpha, double beta,
               int trans_a, int trans_b, int64_t lda, int64_t ldb, int64_t ldc,
               real *restrict work, int nthreads) {
    SFX(gemm_driver)(c, a, b, m, n, k, (real)alpha, (real)beta, trans_a, trans_b, lda, ldb,
                     ldc, NULL, work, nthreads);
}

#undef PYNN_UNROLL
#undef GEMM_MR
#undef GEMM_NR
#undef GEMM_KC
#undef GEMM_MC
#undef GEMM_NC
#undef GEMM_JW
