/* Dtype-generic GEMM, second part: the blocked loops and their parallel tasks,
 * gemm_driver (the whole GEMM with an optional epilogue, which dense_impl.h calls)
 * and the entry point gemm. Included once per translation unit right after
 * gemm_impl.h (its paths, packing, tiles and gemm_min / gemm_round_up), with `real`
 * and SFX(name) defined (see kernels_f32.c).
 */

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
                const real *a_panel =
                    a_in_place ? g->a + (i0 + ir) * g->lda + p0 : ap + (ir - mc_full) * kc;
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

/* C^T (n, m) = op(B)^T op(A)^T: B's array in A's place and the other way round,
 * each with its transposition flag flipped. */
static void SFX(gemm_job_transpose)(SFX(gemm_job) *job) {
    const real *t = job->a;
    job->a = job->b;
    job->b = t;
    int64_t d = job->m;
    job->m = job->n;
    job->n = d;
    d = job->lda;
    job->lda = job->ldb;
    job->ldb = d;
    int f = job->trans_a;
    job->trans_a = !job->trans_b;
    job->trans_b = !f;
}

/* The whole GEMM on a SIMD path, with an optional epilogue (NULL for a plain
 * GEMM). */
static void SFX(gemm_driver)(real *restrict c, const real *restrict a, const real *restrict b,
                             int64_t m, int64_t n, int64_t k, real alpha, real beta, int trans_a,
                             int trans_b, int64_t lda, int64_t ldb, int64_t ldc,
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
    SFX(gemm_job) job = {.c = c,
                         .a = a,
                         .b = b,
                         .m = m,
                         .n = n,
                         .k = k,
                         .lda = lda,
                         .ldb = ldb,
                         .ldc = ldc,
                         .alpha = alpha,
                         .beta = beta,
                         .trans_a = trans_a,
                         .trans_b = trans_b,
                         .ep = ep};
    job.trans_c = SFX(gemm_swaps)(SFX(gemm_path_of)(simd), m, n);
    if (job.trans_c) SFX(gemm_job_transpose)(&job);
    const SFX(gemm_path) *path = job.path = SFX(gemm_path_for_rows)(simd, job.m);
    job.kc_max = SFX(gemm_kc)(path, k);
    job.mc_max = SFX(gemm_min)(SFX(gemm_round_up)(job.m, path->mr), path->mc);
    int64_t nc_max = SFX(gemm_min)(SFX(gemm_round_up)(job.n, path->nr), path->nc);
    job.bp = work;
    job.ap_all = work + job.kc_max * nc_max;
    /* Multiply-adds over 64: a product of up to 2^21 multiply-adds stays on one thread
     * (measured: alone, 2^20 run 7% faster on two threads, but within a training
     * step, whose products hand their operands from core to core, slower;
     * benchmarks/README.md, "Grain"). */
    if (!PYNN_USE_THREADS(m * n / 64 * k, nthreads)) nthreads = 1;
    SFX(gemm_blocks)(&job, nthreads < PYNN_MAX_THREADS ? nthreads : PYNN_MAX_THREADS);
}

void SFX(gemm)(real *restrict c, const real *restrict a, const real *restrict b, int64_t m,
               int64_t n, int64_t k, double alpha, double beta, int trans_a, int trans_b,
               int64_t lda, int64_t ldb, int64_t ldc, real *restrict work, int simd,
               int nthreads) {
    SFX(gemm_driver)(c, a, b, m, n, k, (real)alpha, (real)beta, trans_a, trans_b, lda, ldb, ldc,
                     NULL, work, simd, nthreads);
}
