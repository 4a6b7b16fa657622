/* Dtype-generic GEMM body: included once per translation unit with `real` and
 * SFX(name) defined (see kernels_f32.c). Needs activations_impl.h before it;
 * gemm_driver_impl.h, included right after it, holds the blocked loops and gemm.
 *
 * C = alpha op(A) op(B) + beta C, row-major, packed and cache-blocked in the
 * BLIS style: B is packed a (KC x NC) block at a time into nr-wide panels that
 * all threads share, A a (MC x KC) block at a time into mr-tall panels that
 * each thread owns, and a small mr x nr micro-kernel does the arithmetic.
 *
 * Determinism: a tile of C is owned by one thread for a whole KC step, and the
 * KC steps run in the same order whatever the thread count, so every element
 * is summed in the same order for any nthreads.
 *
 * The micro-kernel and the tile and block sizes come from a per-path
 * descriptor (gemm_paths.h): the portable one below, or the AVX2 and AVX-512
 * ones of gemm_avx2.c and gemm_avx512.c, chosen by the caller's `simd`. */

#include "gemm_paths.h"

#if defined(__GNUC__) || defined(__clang__)
#define PYNN_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define PYNN_NOINLINE __declspec(noinline)
#else
#define PYNN_NOINLINE
#endif

#if defined(__GNUC__) && !defined(__clang__)
#define PYNN_UNROLL _Pragma("GCC unroll 8")
#elif defined(__clang__)
#define PYNN_UNROLL _Pragma("unroll")
#else
#define PYNN_UNROLL
#endif

/* The generic path's tile and blocks: 6 x 32 bytes, as the baseline ISA's
 * registers (16 of them) hold. */
#define GENERIC_MR 6
#define GENERIC_NR ((int)(32 / sizeof(real))) /* 8 floats or 4 doubles */

static inline int64_t SFX(gemm_min)(int64_t x, int64_t y) { return x < y ? x : y; }
static inline int64_t SFX(gemm_round_up)(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/* The portable micro-kernel (see gemm_paths.h). The accumulators are local so
 * that the compiler keeps them in vector registers. */
static void SFX(gemm_kernel_generic)(int64_t kc, const real *restrict ap, int64_t lda,
                                     const real *restrict bp, int64_t ldb, real *restrict c,
                                     int64_t ldc, real alpha, real beta) {
    real acc[GENERIC_MR][GENERIC_NR] = {{0}};
    /* A packed (lda == 0: a p-major panel) or read in place (rows lda apart): two
     * loops, so that each has constant strides. Unrolled so that the compiler
     * vectorises across j, not across p. */
    if (lda == 0) {
        for (int64_t p = 0; p < kc; p++) {
            const real *restrict bv = bp + p * ldb;
            const real *restrict av = ap + p * GENERIC_MR;
            PYNN_UNROLL
            for (int i = 0; i < GENERIC_MR; i++) PYNN_UNROLL
            for (int j = 0; j < GENERIC_NR; j++) acc[i][j] += av[i] * bv[j];
        }
    } else {
        for (int64_t p = 0; p < kc; p++) {
            const real *restrict bv = bp + p * ldb;
            PYNN_UNROLL
            for (int i = 0; i < GENERIC_MR; i++) PYNN_UNROLL
            for (int j = 0; j < GENERIC_NR; j++) acc[i][j] += ap[i * lda + p] * bv[j];
        }
    }
    for (int i = 0; i < GENERIC_MR; i++) {
        real *restrict crow = c + i * ldc;
        for (int j = 0; j < GENERIC_NR; j++) {
            real v = alpha * acc[i][j];
            if (beta != 0) v += beta * crow[j];
            crow[j] = v;
        }
    }
}

static const SFX(gemm_path) SFX(gemm_path_generic) = {GENERIC_MR,
                                                      GENERIC_NR,
                                                      256,
                                                      GENERIC_MR * 16,
                                                      2048,
                                                      GENERIC_NR * 8,
                                                      SFX(gemm_kernel_generic),
                                                      NULL,
                                                      NULL,
                                                      NULL,
                                                      NULL,
                                                      NULL,
                                                      NULL};

/* The descriptor of a path; the generic one for a path this build lacks. */
static const SFX(gemm_path) *SFX(gemm_path_of)(int simd) {
#if defined(PYNN_HAVE_X86_PATHS)
    if (simd == PYNN_SIMD_AVX512) return &SFX(gemm_path_avx512);
    if (simd == PYNN_SIMD_AVX2) return &SFX(gemm_path_avx2);
#endif
    (void)simd;
    return &SFX(gemm_path_generic);
}

/* The path's descriptor for a product of m rows: on AVX-512, the tile that pads m
 * least, the 8-row one on a tie (it runs at least as fast as the others here:
 * 128 rows, a dense layer's batch, take 128 rows of work instead of 132 or 140).
 * All have the same KC, so every element is summed in the same order. */
static const SFX(gemm_path) *SFX(gemm_path_for_rows)(int simd, int64_t m) {
    const SFX(gemm_path) *path = SFX(gemm_path_of)(simd);
#if defined(PYNN_HAVE_X86_PATHS)
    if (simd == PYNN_SIMD_AVX512) {
        const SFX(gemm_path) *short_rows = &SFX(gemm_path_avx512_short);
        const SFX(gemm_path) *eight = &SFX(gemm_path_avx512_eight);
        if (SFX(gemm_round_up)(m, eight->mr) <= SFX(gemm_round_up)(m, short_rows->mr) &&
            SFX(gemm_round_up)(m, eight->mr) <= SFX(gemm_round_up)(m, path->mr))
            return eight;
        if (SFX(gemm_round_up)(m, short_rows->mr) < SFX(gemm_round_up)(m, path->mr))
            return short_rows;
    }
#endif
    return path;
}

/* The depth of one KC step: the path's, or all of k when k is at most 4/3 of it (one
 * pass over C instead of a short second step). Depends on k only, never on threads. */
static int64_t SFX(gemm_kc)(const SFX(gemm_path) *path, int64_t k) {
    return k <= path->kc * 4 / 3 ? k : path->kc;
}

/* Whether to compute C^T = op(B)^T op(A)^T instead: when C is narrower than a
 * tile (a dense layer with few outputs), its columns would fill a fraction of
 * each NR-wide tile, while its transpose pads m to NR and n only to MR. Each
 * element is the same chain of multiply-adds either way, so the results are
 * bitwise the same; only the padding (wasted arithmetic) and the packing differ. */
static int SFX(gemm_swaps)(const SFX(gemm_path) *path, int64_t m, int64_t n) {
    if (n >= path->nr || m <= n) return 0;
    int64_t padded = SFX(gemm_round_up)(m, path->mr) * SFX(gemm_round_up)(n, path->nr);
    int64_t padded_swapped = SFX(gemm_round_up)(n, path->mr) * SFX(gemm_round_up)(m, path->nr);
    return padded_swapped < padded;
}

int64_t SFX(gemm_workspace_size)(int64_t m, int64_t n, int64_t k, int simd, int nthreads) {
    if (m <= 0 || n <= 0 || k <= 0) return 0;
    const SFX(gemm_path) *path = SFX(gemm_path_of)(simd);
    if (SFX(gemm_swaps)(path, m, n)) {
        int64_t t = m;
        m = n;
        n = t;
    }
    path = SFX(gemm_path_for_rows)(simd, m);
    int64_t kc = SFX(gemm_kc)(path, k);
    int64_t nc = SFX(gemm_min)(SFX(gemm_round_up)(n, path->nr), path->nc);
    int64_t mc = SFX(gemm_min)(SFX(gemm_round_up)(m, path->mr), path->mc);
    return kc * nc + (int64_t)(nthreads < 1 ? 1 : nthreads) * mc * kc;
}

/* The portable packing of one panel, w_full wide (mr or nr) and kc deep, stored
 * p-major (element (p, i) at panel[p * w_full + i]) from w <= w_full source lines
 * and zero-padded to w_full. op(A) and op(B) panels are the same operation: each
 * source line is either along the panel's width (pack_rows) or along its depth
 * (pack_cols), whichever matrix and transposition it comes from. */

/* Line p of the panel is src[p * ld + 0 .. w): kc rows of w contiguous reals. */
static inline void SFX(gemm_pack_rows)(real *restrict panel, const real *restrict src, int64_t ld,
                                       int64_t kc, int64_t w, int64_t w_full) {
    for (int64_t p = 0; p < kc; p++) {
        const real *restrict row = src + p * ld;
        for (int64_t i = 0; i < w; i++) panel[p * w_full + i] = row[i];
        for (int64_t i = w; i < w_full; i++) panel[p * w_full + i] = 0;
    }
}

/* Column i of the panel is src[i * ld + 0 .. kc): w rows of kc contiguous reals,
 * each read contiguously. */
static inline void SFX(gemm_pack_cols)(real *restrict panel, const real *restrict src, int64_t ld,
                                       int64_t kc, int64_t w, int64_t w_full) {
    for (int64_t i = 0; i < w_full; i++) {
        if (i < w) {
            const real *restrict col = src + i * ld;
            for (int64_t p = 0; p < kc; p++) panel[p * w_full + i] = col[p];
        } else {
            for (int64_t p = 0; p < kc; p++) panel[p * w_full + i] = 0;
        }
    }
}

/* Pack op(A)[i0:i0+mc, p0:p0+kc] as mr-tall panels, each stored p-major and
 * zero-padded to a whole panel. */
static void SFX(gemm_pack_a)(const SFX(gemm_path) *path, real *restrict ap, const real *restrict a,
                             int64_t lda, int trans_a, int64_t i0, int64_t mc, int64_t p0,
                             int64_t kc, int64_t mr_full) {
    for (int64_t ir = 0; ir < mc; ir += mr_full) {
        int64_t mr = SFX(gemm_min)(mr_full, mc - ir);
        real *restrict panel = ap + ir * kc;
        if (trans_a)
            SFX(gemm_pack_rows)(panel, a + p0 * lda + i0 + ir, lda, kc, mr, mr_full);
        else if (path->pack_an && mr == mr_full)
            path->pack_an(panel, a + (i0 + ir) * lda + p0, lda, kc, mr_full);
        else
            SFX(gemm_pack_cols)(panel, a + (i0 + ir) * lda + p0, lda, kc, mr, mr_full);
    }
}

/* Pack nr-wide panel `jp` of op(B)[p0:p0+kc, j0:j0+nc], p-major, zero-padded. */
static void SFX(gemm_pack_b_panel)(const SFX(gemm_path) *path, real *restrict bp,
                                   const real *restrict b, int64_t ldb, int trans_b, int64_t p0,
                                   int64_t kc, int64_t j0, int64_t nc, int64_t jp) {
    int64_t nr_full = path->nr;
    int64_t jr = jp * nr_full;
    int64_t nr = SFX(gemm_min)(nr_full, nc - jr);
    real *restrict panel = bp + jr * kc;
    if (trans_b) {
        const real *src = b + (j0 + jr) * ldb + p0;
        if (path->pack_bt && nr == nr_full && ldb * nr_full < ((int64_t)1 << 31))
            path->pack_bt(panel, src, ldb, kc);
        else
            SFX(gemm_pack_cols)(panel, src, ldb, kc, nr, nr_full);
    } else {
        const real *src = b + p0 * ldb + j0 + jr;
        if (path->pack_bn && nr == nr_full)
            path->pack_bn(panel, src, ldb, kc);
        else
            SFX(gemm_pack_rows)(panel, src, ldb, kc, nr, nr_full);
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

/* The tile finished into C^T (see gemm_swaps): element (i, j) of the tile is
 * C's element (col + j, row + i), and the bias goes with its column, row + i.
 * The arithmetic runs along the tile's rows (vectorised, in place in acc), then
 * the tile is stored transposed: C's row col + j receives mr contiguous values. */
static void SFX(gemm_tile_finish_transposed)(real *restrict acc, int64_t acc_ld, real *restrict c,
                                             int64_t ldc, int64_t row, int64_t col, int64_t mr,
                                             int64_t nr, real alpha, real beta,
                                             const SFX(gemm_epilogue) *ep) {
    _Alignas(64) real done[GEMM_MAX_TILE];
    for (int64_t i = 0; i < mr; i++) {
        real *restrict v = acc + i * acc_ld;
        for (int64_t j = 0; j < nr; j++) v[j] *= alpha;
        if (beta != 0)
            for (int64_t j = 0; j < nr; j++) v[j] += beta * c[(col + j) * ldc + row + i];
        if (!ep) continue;
        if (ep->bias) {
            real bias = ep->bias[row + i];
            for (int64_t j = 0; j < nr; j++) v[j] += bias;
        }
        if (ep->z)
            for (int64_t j = 0; j < nr; j++) ep->z[(col + j) * ep->ldz + row + i] = v[j];
        SFX(act_forward_range)(done + i * acc_ld, v, 0, nr, ep->act, ep->param);
    }
    const real *restrict result = ep ? done : acc;
    for (int64_t j = 0; j < nr; j++) {
        real *restrict crow = c + (col + j) * ldc + row;
        for (int64_t i = 0; i < mr; i++) crow[i] = result[i * acc_ld + j];
    }
}

/* The tiles gemm_tile does not hand to the micro-kernel straight (edges, the
 * epilogue, C^T): out of line, so that the common case pays for no stack frame
 * (the local tile) per tile. */
static PYNN_NOINLINE void SFX(gemm_tile_other)(const SFX(gemm_path) *path, real *restrict c,
                                               int64_t ldc, int64_t row, int64_t col, int64_t mr,
                                               int64_t nr, int64_t kc, const real *restrict ap,
                                               int64_t lda, const real *restrict bp, int64_t ldb,
                                               real alpha, real beta, const SFX(gemm_epilogue) *ep,
                                               int with_epilogue, int trans_c) {
    int full = mr == path->mr && nr == path->nr && !trans_c;
    int half = mr == path->mr && 2 * nr == path->nr && !trans_c && path->kernel_half;
    int fused = with_epilogue && !ep->z && (ep->act == PYNN_RELU || ep->act == PYNN_IDENTITY);
    if (half && !with_epilogue) {
        path->kernel_half(kc, ap, lda, bp, ldb, c + row * ldc + col, ldc, alpha, beta);
        return;
    }
    if ((full && fused && path->kernel_bias_act) || (half && fused)) {
        SFX(gemm_kernel_bias_act) kernel =
            full ? path->kernel_bias_act : path->kernel_half_bias_act;
        kernel(kc, ap, lda, bp, ldb, c + row * ldc + col, ldc, alpha, beta,
               ep->bias ? ep->bias + col : NULL, ep->act == PYNN_RELU);
        return;
    }
    _Alignas(64) real acc[GEMM_MAX_TILE];
    path->kernel(kc, ap, lda, bp, ldb, acc, path->nr, 1, 0);
    if (trans_c) {
        SFX(gemm_tile_finish_transposed)(acc, path->nr, c, ldc, row, col, mr, nr, alpha, beta,
                                         with_epilogue ? ep : NULL);
        return;
    }
    /* Row by row, one operation per loop so that each loop vectorises. */
    for (int64_t i = 0; i < mr; i++) {
        real *restrict crow = c + (row + i) * ldc + col;
        real *restrict v = acc + i * path->nr;
        for (int64_t j = 0; j < nr; j++) v[j] *= alpha;
        if (beta != 0)
            for (int64_t j = 0; j < nr; j++) v[j] += beta * crow[j];
        if (!with_epilogue) {
            for (int64_t j = 0; j < nr; j++) crow[j] = v[j];
            continue;
        }
        if (ep->bias)
            for (int64_t j = 0; j < nr; j++) v[j] += ep->bias[col + j];
        if (ep->z) {
            real *restrict zrow = ep->z + (row + i) * ep->ldz + col;
            for (int64_t j = 0; j < nr; j++) zrow[j] = v[j];
        }
        SFX(act_forward_range)(crow, v, 0, nr, ep->act, ep->param);
    }
}

/* One MR x NR tile of C (mr x nr of it valid) on the KC step ending at `last`.
 * A full tile without epilogue goes straight from the micro-kernel's registers
 * to C; otherwise the kernel writes a local tile and this finishes the valid
 * part: c = alpha acc + beta c (beta == 0: c is not read), then the epilogue on
 * the last KC step. */
static inline void SFX(gemm_tile)(const SFX(gemm_path) *path, real *restrict c, int64_t ldc,
                                  int64_t row, int64_t col, int64_t mr, int64_t nr, int64_t kc,
                                  const real *restrict ap, int64_t lda, const real *restrict bp,
                                  int64_t ldb, real alpha, real beta, const SFX(gemm_epilogue) *ep,
                                  int last, int trans_c) {
    int with_epilogue = last && ep;
    if (mr == path->mr && nr == path->nr && !with_epilogue && !trans_c)
        path->kernel(kc, ap, lda, bp, ldb, c + row * ldc + col, ldc, alpha, beta);
    else
        SFX(gemm_tile_other)(path, c, ldc, row, col, mr, nr, kc, ap, lda, bp, ldb, alpha, beta, ep,
                             with_epilogue, trans_c);
}

/* The k == 0 case: c = beta c, then the epilogue, on rows [lo, hi). */
typedef struct {
    real *c;
    int64_t n, ldc;
    real beta;
    const SFX(gemm_epilogue) *ep;
} SFX(gemm_scale_job);

static void SFX(gemm_scale_rows)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(gemm_scale_job) *job = arg;
    real *restrict c = job->c;
    const int64_t n = job->n, ldc = job->ldc;
    const real beta = job->beta;
    const SFX(gemm_epilogue) *ep = job->ep;
    (void)slot;
    for (int64_t i = lo; i < hi; i++) {
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

static void SFX(gemm_scale_only)(real *restrict c, int64_t m, int64_t n, int64_t ldc, real beta,
                                 const SFX(gemm_epilogue) *ep, int nthreads) {
    SFX(gemm_scale_job) job = {c, n, ldc, beta, ep};
    if (!PYNN_USE_THREADS(m * n, nthreads))
        SFX(gemm_scale_rows)(&job, 0, m, 0);
    else
        pynn_parallel_for(nthreads, m, SFX(rows_per_block)(n), SFX(gemm_scale_rows), &job);
}

#undef PYNN_UNROLL
#undef PYNN_NOINLINE
#undef GENERIC_MR
#undef GENERIC_NR
