/* PReLU, softmax and log-softmax: dtype-generic bodies, the activations with a
 * parameter per feature or over a whole row.
 *
 * Included once per translation unit by kernels_f32.c / kernels_f64.c right after
 * activations_impl.h (it uses its rows_per_block, row_max and row_sum_exp), with
 * `real` and SFX(name) defined (no include guard).
 */

/* ---- PReLU -------------------------------------------------------------- */

/* Rows [lo, hi). */
static void SFX(prelu_forward_range)(real *restrict out, const real *restrict x,
                                     const real *restrict slope, int64_t features, int shared,
                                     int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
        const real *restrict xi = x + i * features;
        real *restrict oi = out + i * features;
        if (shared) {
            const real s = slope[0];
            for (int64_t j = 0; j < features; ++j) {
                const real v = xi[j];
                oi[j] = v > 0 ? v : s * v;
            }
        } else {
            for (int64_t j = 0; j < features; ++j) {
                const real v = xi[j], sj = slope[j];
                oi[j] = v > 0 ? v : sj * v;
            }
        }
    }
}

/* A PReLU kernel's loop over rows (or feature blocks), for pynn_parallel_for. */
typedef struct {
    real *out, *dslope;
    const real *x, *dout, *slope;
    int64_t n, features;
    int shared;
} SFX(prelu_job);

static void SFX(prelu_forward_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(prelu_job) *j = arg;
    (void)slot;
    SFX(prelu_forward_range)(j->out, j->x, j->slope, j->features, j->shared, lo, hi);
}

void SFX(prelu_forward)(real *restrict out, const real *restrict x, const real *restrict slope,
                        int64_t n, int64_t features, int shared, int nthreads) {
    if (!PYNN_USE_THREADS(n * features, nthreads)) {
        SFX(prelu_forward_range)(out, x, slope, features, shared, 0, n);
        return;
    }
    SFX(prelu_job) job = {out, NULL, x, NULL, slope, n, features, shared};
    pynn_parallel_for(nthreads, n, SFX(rows_per_block)(features), SFX(prelu_forward_task), &job);
}

/* dx for rows [lo, hi). */
static void SFX(prelu_dx_range)(real *restrict dx, const real *restrict dout,
                                const real *restrict x, const real *restrict slope,
                                int64_t features, int shared, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
        const real *restrict xi = x + i * features;
        const real *restrict gi = dout + i * features;
        real *restrict di = dx + i * features;
        if (shared) {
            const real s = slope[0];
            for (int64_t j = 0; j < features; ++j) {
                const real g = gi[j];
                di[j] = xi[j] > 0 ? g : g * s;
            }
        } else {
            for (int64_t j = 0; j < features; ++j) {
                const real g = gi[j], sj = slope[j];
                di[j] = xi[j] > 0 ? g : g * sj;
            }
        }
    }
}

static void SFX(prelu_dx_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(prelu_job) *j = arg;
    (void)slot;
    SFX(prelu_dx_range)(j->out, j->dout, j->x, j->slope, j->features, j->shared, lo, hi);
}

/* Features per block of the per-feature slope gradient: a block keeps its
 * column sums in double on the stack (no allocation, no split reduction). */
#define PYNN_PRELU_BLOCK 64

/* Per-feature dslope for features [lo, hi): terms dout * (x > 0 ? 0 : x) rounded
 * to real (as the reference forms them), summed in double in row order, rounded
 * once, then stored. */
static void SFX(prelu_dslope_range)(real *restrict dslope, const real *restrict dout,
                                    const real *restrict x, int64_t n, int64_t features,
                                    int64_t lo, int64_t hi) {
    for (int64_t j0 = lo; j0 < hi; j0 += PYNN_PRELU_BLOCK) {
        const int64_t w = hi - j0 < PYNN_PRELU_BLOCK ? hi - j0 : PYNN_PRELU_BLOCK;
        double acc[PYNN_PRELU_BLOCK];
        for (int64_t j = 0; j < w; ++j) acc[j] = 0;
        for (int64_t i = 0; i < n; ++i) {
            const real *restrict xi = x + i * features + j0;
            const real *restrict gi = dout + i * features + j0;
            for (int64_t j = 0; j < w; ++j) {
                const real v = xi[j];
                acc[j] += gi[j] * (v > 0 ? (real)0 : v);
            }
        }
        for (int64_t j = 0; j < w; ++j) dslope[j0 + j] = (real)acc[j];
    }
}

static void SFX(prelu_dslope_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(prelu_job) *j = arg;
    (void)slot;
    SFX(prelu_dslope_range)(j->dslope, j->dout, j->x, j->n, j->features, lo, hi);
}

void SFX(prelu_backward)(real *restrict dx, real *restrict dslope, const real *restrict dout,
                         const real *restrict x, const real *restrict slope, int64_t n,
                         int64_t features, int shared, int nthreads) {
    const int threads = PYNN_USE_THREADS(n * features, nthreads);
    SFX(prelu_job) job = {dx, dslope, x, dout, slope, n, features, shared};
    if (dx && !threads)
        SFX(prelu_dx_range)(dx, dout, x, slope, features, shared, 0, n);
    else if (dx)
        pynn_parallel_for(nthreads, n, SFX(rows_per_block)(features), SFX(prelu_dx_task), &job);

    if (shared) {
        /* One sum: serial and row-major, so its order never depends on nthreads. */
        double acc = 0;
        for (int64_t i = 0; i < n * features; ++i) {
            const real v = x[i];
            acc += dout[i] * (v > 0 ? (real)0 : v);
        }
        dslope[0] = (real)acc;
    } else if (!threads) {
        SFX(prelu_dslope_range)(dslope, dout, x, n, features, 0, features);
    } else {
        /* Threads split the features, never a column's sum. */
        pynn_parallel_for(nthreads, features, PYNN_PRELU_BLOCK, SFX(prelu_dslope_task), &job);
    }
}

#undef PYNN_PRELU_BLOCK

/* ---- softmax, log-softmax ----------------------------------------------- */

/* Rows [lo, hi). */
static void SFX(softmax_range)(real *restrict out, const real *restrict x, int64_t k, int64_t lo,
                               int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
        const real *restrict xi = x + i * k;
        real *restrict oi = out + i * k;
        const real m = SFX(row_max)(xi, k);
        const double s = SFX(row_sum_exp)(oi, xi, k, m);
        for (int64_t j = 0; j < k; ++j) oi[j] = (real)(oi[j] / s);
    }
}

/* softmax or log_softmax over rows, for pynn_parallel_for. */
typedef struct {
    real *out;
    const real *x;
    int64_t k;
} SFX(softmax_job);

static void SFX(softmax_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(softmax_job) *j = arg;
    (void)slot;
    SFX(softmax_range)(j->out, j->x, j->k, lo, hi);
}

void SFX(softmax)(real *restrict out, const real *restrict x, int64_t n, int64_t k, int nthreads) {
    if (!PYNN_USE_THREADS(n * k * 8, nthreads)) {
        SFX(softmax_range)(out, x, k, 0, n);
        return;
    }
    SFX(softmax_job) job = {out, x, k};
    pynn_parallel_for(nthreads, n, SFX(rows_per_block)(k), SFX(softmax_task), &job);
}

static void SFX(log_softmax_range)(real *restrict out, const real *restrict x, int64_t k,
                                   int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
        const real *restrict xi = x + i * k;
        real *restrict oi = out + i * k;
        const real m = SFX(row_max)(xi, k);
        /* log(s) >= 0 and x - m <= 0: no cancellation, no overflow. */
        const real log_s = (real)log(SFX(row_sum_exp)(NULL, xi, k, m));
        for (int64_t j = 0; j < k; ++j) oi[j] = (xi[j] - m) - log_s;
    }
}

static void SFX(log_softmax_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(softmax_job) *j = arg;
    (void)slot;
    SFX(log_softmax_range)(j->out, j->x, j->k, lo, hi);
}

void SFX(log_softmax)(real *restrict out, const real *restrict x, int64_t n, int64_t k,
                      int nthreads) {
    if (!PYNN_USE_THREADS(n * k * 8, nthreads)) {
        SFX(log_softmax_range)(out, x, k, 0, n);
        return;
    }
    SFX(softmax_job) job = {out, x, k};
    pynn_parallel_for(nthreads, n, SFX(rows_per_block)(k), SFX(log_softmax_task), &job);
}
