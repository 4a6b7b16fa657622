/* Dtype-generic GEMM body: included once per translation unit with `real` and
 * SFX(name) defined (see kernels_f32.c). Needs activations_impl.h before it.
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
            for (int i = 0; i < GENERIC_MR; i++)
                PYNN_UNROLL
                for (int j = 0; j < GENERIC_NR; j++) acc[i][j] += av[i] * bv[j];
        }
    } else {
        for (int64_t p = 0; p < kc; p++) {
            const real *restrict bv = bp + p * ldb;
            PYNN_UNROLL
            for (int i = 0; i < GENERIC_MR; i++)
                PYNN_UNROLL
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

static const SFX(gemm_path) SFX(gemm_path_generic) = {
    GENERIC_MR, GENERIC_NR, 256, GENERIC_MR * 16, 2048, GENERIC_NR * 8,
    SFX(gemm_kernel_generic), NULL, NULL, NULL, NULL, NULL, NULL};

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

/* Pack op(A)[i0:i0+mc, p0:p0+kc] as mr-tall panels, each stored p-major and
 * zero-padded to a whole panel. */
static void SFX(gemm_pack_a)(const SFX(gemm_path) *path, real *restrict ap,
                             const real *restrict a, int64_t lda, int trans_a, int64_t i0,
                             int64_t mc, int64_t p0, int64_t kc, int64_t mr_full) {
    for (int64_t ir = 0; ir < mc; ir += mr_full) {
        int64_t mr = SFX(gemm_min)(mr_full, mc - ir);
        real *restrict panel = ap + ir * kc;
        if (trans_a) {
            for (int64_t p = 0; p < kc; p++) {
                const real *restrict src = a + (p0 + p) * lda + i0 + ir;
                for (int64_t i = 0; i < mr; i++) panel[p * mr_full + i] = src[i];
                for (int64_t i = mr; i < mr_full; i++) panel[p * mr_full + i] = 0;
            }
        } else if (path->pack_an && mr == mr_full) {
            path->pack_an(panel, a + (i0 + ir) * lda + p0, lda, kc, mr_full);
        } else {
            /* Row by row: each source row is read contiguously. */
            for (int64_t i = 0; i < mr_full; i++) {
                if (i < mr) {
                    const real *restrict src = a + (i0 + ir + i) * lda + p0;
                    for (int64_t p = 0; p < kc; p++) panel[p * mr_full + i] = src[p];
                } else {
                    for (int64_t p = 0; p < kc; p++) panel[p * mr_full + i] = 0;
                }
            }
        }
    }
}

/* Pack nr-wide panel `jp` of op(B)[p0:p0+kc, j0:j0+nc], p-major, zero-padded. */
static void SFX(gemm_pack_b_panel)(const SFX(gemm_path) *path, real *restrict bp,
                                   const real *restrict b, int64_t ldb, int trans_b,
                                   int64_t p0, int64_t kc, int64_t j0, int64_t nc,
                                   int64_t jp) {
    int64_t nr_full = path->nr;
    int64_t jr = jp * nr_full;
    int64_t nr = SFX(gemm_min)(nr_full, nc - jr);
    real *restrict panel = bp + jr * kc;
    if (trans_b && path->pack_bt && nr == nr_full && ldb * nr_full < ((int64_t)1 << 31)) {
        path->pack_bt(panel, b + (j0 + jr) * ldb + p0, ldb, kc);
        return;
    }
    if (!trans_b && path->pack_bn && nr == nr_full) {
        path->pack_bn(panel, b + p0 * ldb + j0 + jr, ldb, kc);
        return;
    }
    if (trans_b) {
        /* Column by column of op(B): each is a contiguous row of b. */
        for (int64_t j = 0; j < nr_full; j++) {
            if (j < nr) {
                const real *restrict src = b + (j0 + jr + j) * ldb + p0;
                for (int64_t p = 0; p < kc; p++) panel[p * nr_full + j] = src[p];
            } else {
                for (int64_t p = 0; p < kc; p++) panel[p * nr_full + j] = 0;
            }
        }
    } else {
        for (int64_t p = 0; p < kc; p++) {
            const real *restrict src = b + (p0 + p) * ldb + j0 + jr;
            for (int64_t j = 0; j < nr; j++) panel[p * nr_full + j] = src[j];
            for (int64_t j = nr; j < nr_full; j++) panel[p * nr_full + j] = 0;
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

/* The tile finished into C^T (see gemm_swaps): element (i, j) of the tile is
 * C's element (col + j, row + i), and the bias goes with its column, row + i.
 * The arithmetic runs along the tile's rows (vectorised, in place in acc), then
 * the tile is stored transposed: C's row col + j receives mr contiguous values. */
static void SFX(gemm_tile_finish_transposed)(real *restrict acc, int64_t acc_ld,
                                             real *restrict c, int64_t ldc, int64_t row,
                                             int64_t col, int64_t mr, int64_t nr, real alpha,
                                             real beta, const SFX(gemm_epilogue) *ep) {
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
static PYNN_NOINLINE void SFX(gemm_tile_other)(
    const SFX(gemm_path) *path, real *restrict c, int64_t ldc, int64_t row, int64_t col,
    int64_t mr, int64_t nr, int64_t kc, const real *restrict ap, int64_t lda,
    const real *restrict bp, int64_t ldb, real alpha, real beta, const SFX(gemm_epilogue) *ep,
    int with_epilogue, int trans_c) {
    int full = mr == path->mr && nr == path->nr && !trans_c;
    int half = mr == path->mr && 2 * nr == path->nr && !trans_c && path->kernel_half;
    int fused = with_epilogue && !ep->z && (ep->act == PYNN_RELU || ep->act == PYNN_IDENTITY);
    if (half && !with_epilogue) {
        path->kernel_half(kc, ap, lda, bp, ldb, c + row * ldc + col, ldc, alpha, beta);
        return;
    }
    if ((full && fused && path->kernel_bias_act) || (half && fused)) {
        SFX(gemm_kernel_bias_act) kernel = full ? path->kernel_bias_act : path->kernel_half_bias_act;
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
                                  int64_t row, int64_t col, int64_t mr, int64_t nr,
                                  int64_t kc, const real *restrict ap, int64_t lda,
                                  const real *restrict bp, int64_t ldb, real alpha, real beta,
                                  const SFX(gemm_epilogue) *ep, int last, int trans_c) {
    int with_epilogue = last && ep;
    if (mr == path->mr && nr == path->nr && !with_epilogue && !trans_c)
        path->kernel(kc, ap, lda, bp, ldb, c + row * ldc + col, ldc, alpha, beta);
    else
        SFX(gemm_tile_other)(path, c, ldc, row, col, mr, nr, kc, ap, lda, bp, ldb, alpha, beta,
                             ep, with_epilogue, trans_c);
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

static void SFX(gemm_scale_only)(real *restrict c, int64_t m, int64_t n, int64_t ldc,
                                 real beta, const SFX(gemm_epilogue) *ep, int nthreads) {
    SFX(gemm_scale_job) job = {c, n, ldc, beta, ep};
    if (!PYNN_USE_THREADS(m * n, nthreads))
        SFX(gemm_scale_rows)(&job, 0, m, 0);
    else
        pynn_parallel_for(nthreads, m, SFX(rows_per_block)(n), SFX(gemm_scale_rows), &job);
}

/* One GEMM's operands and blocking, and the KC step in progress, for the
 * parallel tasks of gemm_blocks. */
typedef struct {
    const SFX(gemm_path) *path;
    real *c;
    const real *a, *b;
    int64_t m, n, k, lda, ldb, ldc;
    real alpha, beta;
    int trans_a, trans_b, trans_c, direct_a, direct_b, last;
    int64_t in_place_half, mc_even, kc_max, mc_max, jw, n_groups;
    const SFX(gemm_epilogue) *ep;
    real *bp, *ap_all;
    int64_t j0, nc, p0, kc;
    real beta_step;
    /* The row block whose A panels each thread's slice of ap_all holds. */
    int64_t packed_block[PYNN_MAX_THREADS];
} SFX(gemm_job);

/* B panels [lo, hi) of the current KC step. */
static void SFX(gemm_pack_b_panels)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(gemm_job) *g = arg;
    const int64_t NR = g->path->nr;
    (void)slot;
    for (int64_t jp = lo; jp < hi; jp++) {
        int64_t nr = SFX(gemm_min)(NR, g->nc - jp * NR);
        if (!g->direct_b || (nr != NR && nr != g->in_place_half))
            SFX(gemm_pack_b_panel)(g->path, g->bp, g->b, g->ldb, g->trans_b, g->p0, g->kc, g->j0,
                                   g->nc, jp);
    }
}

/* Tasks [lo, hi) of the current KC step: task t is row block t / n_groups and
 * the jw columns of group t % n_groups. A tile of C belongs to one task, so it
 * is summed in the same order whichever thread runs it. */
static void SFX(gemm_tasks)(void *arg, int64_t lo, int64_t hi, int slot) {
    SFX(gemm_job) *g = arg;
    const SFX(gemm_path) *path = g->path;
    const int64_t MR = path->mr, NR = path->nr, JW = g->jw;
    const int64_t nc = g->nc, kc = g->kc, p0 = g->p0, j0 = g->j0;
    real *restrict ap = g->ap_all + (int64_t)slot * g->mc_max * g->kc_max;
    for (int64_t task = lo; task < hi; task++) {
        int64_t ib = task / g->n_groups, grp = task % g->n_groups;
        int64_t i0 = ib * g->mc_even;
        int64_t mc = SFX(gemm_min)(g->mc_even, g->m - i0);
        int64_t mc_full = g->direct_a ? mc / MR * MR : 0; /* rows read in place */
        if (g->packed_block[slot] != ib) {
            if (mc_full < mc)
                SFX(gemm_pack_a)(path, ap, g->a, g->lda, g->trans_a, i0 + mc_full, mc - mc_full,
                                 p0, kc, MR);
            g->packed_block[slot] = ib;
        }
        int64_t jr_end = SFX(gemm_min)((grp + 1) * JW, nc);
        for (int64_t jr = grp * JW; jr < jr_end; jr += NR) {
            int64_t nr = SFX(gemm_min)(NR, nc - jr);
            int in_place = g->direct_b && (nr == NR || nr == g->in_place_half);
            const real *b_panel = in_place ? g->b + p0 * g->ldb + j0 + jr : g->bp + jr * kc;
            int64_t b_panel_ld = in_place ? g->ldb : NR;
            for (int64_t ir = 0; ir < mc; ir += MR) {
                int64_t mr = SFX(gemm_min)(MR, mc - ir);
                int a_in_place = ir < mc_full;
                const real *a_panel = a_in_place ? g->a + (i0 + ir) * g->lda + p0
                                                 : ap + (ir - mc_full) * kc;
                SFX(gemm_tile)(path, g->c, g->ldc, i0 + ir, j0 + jr, mr, nr, kc, a_panel,
                               a_in_place ? g->lda : 0, b_panel, b_panel_ld, g->alpha,
                               g->beta_step, g->ep, g->last, g->trans_c);
            }
        }
    }
}

/* The blocked loops: for each NC block of columns and KC step, pack B's panels,
 * then compute the tiles, each on up to nthreads threads. */
static void SFX(gemm_blocks)(SFX(gemm_job) *g, int nthreads) {
    const SFX(gemm_path) *path = g->path;
    const int64_t m = g->m, n = g->n, k = g->k;
    const int64_t MR = path->mr, NR = path->nr, KC = SFX(gemm_kc)(path, k), MC = path->mc;
    const int64_t NC = path->nc, JW = path->jw;
    /* Row blocks of equal size (at most MC): the threads' shares stay even. */
    int64_t m_blocks = (m + MC - 1) / MC;
    g->mc_even = SFX(gemm_round_up)((m + m_blocks - 1) / m_blocks, MR);
    /* One row tile (dW of a layer with few outputs, dx of a tiny batch): each
     * element of B is used once, so packing it would only copy it. One KC step
     * and one row block (dW and dx of a dense layer at batch 128): each B panel
     * is read by consecutive tiles only, the first bringing it into the caches,
     * so packing would add a copy (written to memory) to the same reads. (With
     * several steps or blocks, a panel read in place comes back from memory; at
     * 1024^3 that cost 10%.) Full-width panels of a plain B are then read in
     * place; only an edge panel is packed (its zero padding). */
    g->direct_b = !g->trans_b && (m <= MR || (KC == k && m <= MC));
    /* The width of the panels read in place: whole, or half when every tile that
     * reads the half panel takes a half kernel (gemm_tile_other): whole row tiles,
     * C not transposed, no epilogue. Any other tile runs the full-width kernel,
     * which would read NR columns of each row: past the end of B on its last. */
    int half_tiles = path->kernel_half && m % MR == 0 && !g->trans_c && !g->ep;
    g->in_place_half = half_tiles ? NR / 2 : -1;
    /* One row block of a plain A (a dense layer's batch, forward or dx): its rows
     * are read in place by every column panel's tiles, from the caches, instead
     * of being copied into panels first; only an edge panel is packed. */
    g->direct_a = !g->trans_a && m <= MC;
    for (int64_t j0 = 0; j0 < n; j0 += NC) {
        g->j0 = j0;
        g->nc = SFX(gemm_min)(NC, n - j0);
        int64_t n_panels = (g->nc + NR - 1) / NR;
        /* Tasks of the path's width, or of one panel when that makes fewer than
         * four a thread: threads take tasks as they come, so small ones even out
         * a late start. */
        g->jw = JW;
        if (nthreads > 1 && m_blocks * ((g->nc + JW - 1) / JW) < 4 * nthreads) g->jw = NR;
        g->n_groups = (g->nc + g->jw - 1) / g->jw;
        for (int64_t p0 = 0; p0 < k; p0 += KC) {
            g->p0 = p0;
            g->kc = SFX(gemm_min)(KC, k - p0);
            g->beta_step = p0 == 0 ? g->beta : (real)1;
            g->last = p0 + g->kc == k;
            for (int t = 0; t < nthreads; t++) g->packed_block[t] = -1;
            if (nthreads > 1) {
                pynn_parallel_for(nthreads, n_panels, 1, SFX(gemm_pack_b_panels), g);
                pynn_parallel_for(nthreads, m_blocks * g->n_groups, 1, SFX(gemm_tasks), g);
            } else {
                SFX(gemm_pack_b_panels)(g, 0, n_panels, 0);
                SFX(gemm_tasks)(g, 0, m_blocks * g->n_groups, 0);
            }
        }
    }
}

/* The whole GEMM on a SIMD path, with an optional epilogue (NULL for a plain
 * GEMM). */
static void SFX(gemm_driver)(real *restrict c, const real *restrict a, const real *restrict b,
                             int64_t m, int64_t n, int64_t k, real alpha, real beta,
                             int trans_a, int trans_b, int64_t lda, int64_t ldb, int64_t ldc,
                             const SFX(gemm_epilogue) *ep, real *restrict work, int simd,
                             int nthreads) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) {
        SFX(gemm_scale_only)(c, m, n, ldc, beta, ep, nthreads);
        return;
    }
    /* One row of C times a plain B (the input gradient of a one-row batch, the weight
     * gradient of a one-output layer): the plain GEMM, which runs along B's rows
     * without packing either operand or padding the row to a tile, measured
     * 1.15-1.8x faster on AVX-512 and 3-7x on the generic path, up to 2^20
     * multiply-adds (benchmarks/README.md, "Plain GEMM"); 2^20 also keeps it below
     * the products that go parallel. Its result is bitwise this one's (the same
     * chain per element), so the route changes no result. */
    if (!ep && m == 1 && !trans_b && n * k <= ((int64_t)1 << 20)) {
        SFX(gemm_plain)(c, a, b, m, n, k, alpha, beta, trans_a, trans_b, lda, ldb, ldc, simd);
        return;
    }
    const SFX(gemm_path) *path = SFX(gemm_path_of)(simd);
    int trans_c = SFX(gemm_swaps)(path, m, n);
    if (trans_c) {
        /* C^T (n, m) = op(B)^T op(A)^T: B's array in A's place and the other way
         * round, each with its transposition flag flipped. */
        const real *t = a;
        a = b;
        b = t;
        int64_t d = m;
        m = n;
        n = d;
        d = lda;
        lda = ldb;
        ldb = d;
        int f = trans_a;
        trans_a = !trans_b;
        trans_b = !f;
    }
    path = SFX(gemm_path_for_rows)(simd, m);
    SFX(gemm_job) job = {
        .path = path, .c = c, .a = a, .b = b, .m = m, .n = n, .k = k,
        .lda = lda, .ldb = ldb, .ldc = ldc, .alpha = alpha, .beta = beta,
        .trans_a = trans_a, .trans_b = trans_b, .trans_c = trans_c, .ep = ep,
        .kc_max = SFX(gemm_kc)(path, k),
        .mc_max = SFX(gemm_min)(SFX(gemm_round_up)(m, path->mr), path->mc),
    };
    int64_t nc_max = SFX(gemm_min)(SFX(gemm_round_up)(n, path->nr), path->nc);
    job.bp = work;
    job.ap_all = work + job.kc_max * nc_max;
    /* Multiply-adds over 64: a product of up to 2^21 multiply-adds stays on one thread
     * (measured: alone, 2^20 run 7% faster on two threads, but within a training
     * step, whose products hand their operands from core to core, slower;
     * benchmarks/README.md, "Grain"). */
    if (!PYNN_USE_THREADS(m * n / 64 * k, nthreads)) nthreads = 1;
    SFX(gemm_blocks)(&job, nthreads < PYNN_MAX_THREADS ? nthreads : PYNN_MAX_THREADS);
}

void SFX(gemm)(real *restrict c, const real *restrict a, const real *restrict b,
               int64_t m, int64_t n, int64_t k, double alpha, double beta,
               int trans_a, int trans_b, int64_t lda, int64_t ldb, int64_t ldc,
               real *restrict work, int simd, int nthreads) {
    SFX(gemm_driver)(c, a, b, m, n, k, (real)alpha, (real)beta, trans_a, trans_b, lda, ldb,
                     ldc, NULL, work, simd, nthreads);
}

#undef PYNN_UNROLL
#undef PYNN_NOINLINE
#undef GENERIC_MR
#undef GENERIC_NR
