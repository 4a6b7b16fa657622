/* Dtype-generic dense-layer body: included once per translation unit after
 * activations_impl.h, gemm_impl.h and gemm_driver_impl.h. */

/* Columns summed together by one thread in the bias gradient. */
#define DENSE_DB_BLOCK 64

int64_t SFX(dense_forward_workspace_size)(int64_t n, int64_t in_f, int64_t out_f, int simd,
                                          int nthreads) {
    return SFX(gemm_workspace_size)(n, out_f, in_f, simd, nthreads);
}

void SFX(dense_forward)(real *restrict out, real *restrict z, const real *restrict x,
                        const real *restrict w, const real *restrict b, int64_t n, int64_t in_f,
                        int64_t out_f, pynn_activation act, double param, real *restrict work,
                        int simd, int nthreads) {
    /* Bias and activation are applied as each tile of x w^T is stored. */
    SFX(gemm_epilogue) ep = {b, z, out_f, act, (real)param};
    SFX(gemm_driver)(out, x, w, n, out_f, in_f, 1, 0, 0, 1, in_f, in_f, out_f, &ep, work, simd,
                     nthreads);
}

int64_t SFX(dense_backward_workspace_size)(int64_t n, int64_t in_f, int64_t out_f, int simd,
                                           int nthreads) {
    int64_t for_dw = SFX(gemm_workspace_size)(out_f, in_f, n, simd, nthreads);
    int64_t for_dx = SFX(gemm_workspace_size)(n, in_f, out_f, simd, nthreads);
    return n * out_f + (for_dw > for_dx ? for_dw : for_dx);
}

/* dZ = dout * f' (act != identity: into dz; identity: dZ is dout and dz is
 * unused) and, when db is given, db (+)= dZ's column sums, in one pass over
 * dout. Threads take blocks of DENSE_DB_BLOCK columns and each column is summed
 * in row order, so db does not depend on the thread count. */
typedef struct {
    real *dz, *db;
    const real *dout, *s;
    int64_t n, out_f;
    pynn_activation act;
    real param;
    int dz_done;
} SFX(dense_dz_job);

/* Column blocks [lo, hi). */
static void SFX(dense_dz_blocks)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(dense_dz_job) *jb = arg;
    real *restrict dz = jb->dz, *restrict db = jb->db;
    const real *restrict dout = jb->dout, *restrict s = jb->s;
    const int64_t n = jb->n, out_f = jb->out_f;
    const pynn_activation act = jb->act;
    (void)slot;
    for (int64_t blk = lo; blk < hi; blk++) {
        int64_t j0 = blk * DENSE_DB_BLOCK;
        int64_t width = out_f - j0 < DENSE_DB_BLOCK ? out_f - j0 : DENSE_DB_BLOCK;
        real sum[DENSE_DB_BLOCK] = {0};
        /* A block that spans whole rows (a layer with few outputs) is contiguous:
         * one call for all of it rather than one per short row. */
        int whole_rows = width == out_f;
        if (whole_rows && act != PYNN_IDENTITY && !jb->dz_done)
            SFX(act_slope_range)(dz, dout, s, 0, n * out_f, act, jb->param);
        for (int64_t i = 0; i < n; i++) {
            int64_t at = i * out_f + j0;
            const real *restrict row = dout + at;
            if (act != PYNN_IDENTITY) {
                if (!whole_rows && !jb->dz_done)
                    SFX(act_slope_range)(dz + at, dout + at, s + at, 0, width, act, jb->param);
                row = dz + at;
            }
            if (db)
                for (int64_t j = 0; j < width; j++) sum[j] += row[j];
        }
        if (db)
            for (int64_t j = 0; j < width; j++) db[j0 + j] = sum[j];
    }
}

static void SFX(dense_dz_and_bias_grad)(real *restrict dz, real *restrict db,
                                        const real *restrict dout, const real *restrict s,
                                        int64_t n, int64_t out_f, pynn_activation act, real param,
                                        int nthreads) {
    int64_t blocks = (out_f + DENSE_DB_BLOCK - 1) / DENSE_DB_BLOCK;
    int64_t cost = act == PYNN_IDENTITY ? 1 : 1 + SFX(act_cost)(act, 1);
    SFX(dense_dz_job) job = {dz, db, dout, s, n, out_f, act, param, 0};
    if (!PYNN_USE_THREADS(n * out_f * cost, nthreads)) {
        /* One thread: dZ in one pass over the whole array (a call per block row
         * cost more than the arithmetic at a layer's width), then the sums. */
        if (act != PYNN_IDENTITY) SFX(act_slope_range)(dz, dout, s, 0, n * out_f, act, param);
        job.dz_done = 1;
        SFX(dense_dz_blocks)(&job, 0, blocks, 0);
        return;
    }
    pynn_parallel_for(nthreads, blocks, 1, SFX(dense_dz_blocks), &job);
}

void SFX(dense_backward)(real *restrict dw, real *restrict db, real *restrict dx,
                         const real *restrict dout, const real *restrict x, const real *restrict w,
                         const real *restrict a, const real *restrict z, int64_t n, int64_t in_f,
                         int64_t out_f, pynn_activation act, double param, real *restrict work,
                         int simd, int nthreads) {
    /* dZ: dout itself for the identity, else dout * f' in the workspace; db from
     * the same pass. */
    const real *dz = act == PYNN_IDENTITY ? dout : work;
    real *gemm_work = work + n * out_f;
    if (act != PYNN_IDENTITY || db) {
        const real *s = pynn_activation_saves(act, param) == PYNN_SAVES_OUTPUT ? a : z;
        SFX(dense_dz_and_bias_grad)(work, db, dout, s, n, out_f, act, (real)param, nthreads);
    }
    /* dw (out_f, in_f) = dz^T (out_f, n) x (n, in_f) */
    SFX(gemm_driver)(dw, dz, x, out_f, in_f, n, 1, 0, 1, 0, out_f, in_f, in_f, NULL, gemm_work,
                     simd, nthreads);
    /* dx (n, in_f) = dz (n, out_f) w (out_f, in_f) */
    if (dx)
        SFX(gemm_driver)(dx, dz, w, n, in_f, out_f, 1, 0, 0, 0, out_f, in_f, in_f, NULL, gemm_work,
                         simd, nthreads);
}

#undef DENSE_DB_BLOCK
