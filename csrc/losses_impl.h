/* Losses: dtype-generic bodies, loss and gradient in one pass over each row.
 *
 * Included once per translation unit after activations_impl.h (uses its
 * PYNN_USE_THREADS, SFX(rows_per_block), SFX(row_max), SFX(row_sum_exp), SFX(sign));
 * no include guard.
 *
 * Every kernel: a *_range function does rows [lo, hi), each row wholly, and
 * writes its loss l_i (accumulated in double, rounded once) to sample_loss[i];
 * SFX(loss_run) runs it over all rows, or row by row on the threads. Then the mean
 * sum_i w_i l_i / sum_i w_i is taken serially in row order in double, so the
 * result does not depend on nthreads. grad row i is c_i * dl_i/dz_i with
 * c_i = w_i / sum w (1/n without weights), computed in double then rounded.
 * grad may be NULL (loss only); sample_loss may not. */

/* sum_i w_i serially in double; n when there are no weights, so c_i = 1/n. */
static double SFX(loss_weight_total)(const real *restrict weights, int64_t n) {
    if (!weights) return (double)n;
    double total = 0;
    for (int64_t i = 0; i < n; ++i) total += weights[i];
    return total;
}

static inline real SFX(loss_coef)(const real *restrict weights, int64_t i, double total) {
    return (real)((weights ? (double)weights[i] : 1.0) / total);
}

/* sum_i w_i l_i / sum_i w_i (plain mean without weights), serially in double. */
static double SFX(loss_mean)(const real *restrict sample_loss, const real *restrict weights,
                             int64_t n, double total) {
    double sum = 0;
    if (weights) {
        for (int64_t i = 0; i < n; ++i) sum += (double)weights[i] * (double)sample_loss[i];
    } else {
        for (int64_t i = 0; i < n; ++i) sum += sample_loss[i];
    }
    return sum / total;
}

/* Rows [lo, hi) of one loss: sample_loss[i] and, when grad is not NULL, grad
 * row i. target is the loss's target: int64_t labels or (n, k) reals. */
typedef void (*SFX(loss_rows))(real *restrict grad, real *restrict sample_loss,
                               const real *restrict pred, const void *target,
                               const real *restrict weights, double total, int64_t k, int64_t lo,
                               int64_t hi);

/* Every loss kernel: `rows` over all n rows, serially or row by row on the
 * threads, then the mean. cost: rough work per element, for the threshold. */
typedef struct {
    SFX(loss_rows) rows;
    real *grad, *sample_loss;
    const real *pred, *weights;
    const void *target;
    double total;
    int64_t k;
} SFX(loss_job);

static void SFX(loss_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(loss_job) *j = arg;
    (void)slot;
    j->rows(j->grad, j->sample_loss, j->pred, j->target, j->weights, j->total, j->k, lo, hi);
}

static double SFX(loss_run)(SFX(loss_rows) rows, int64_t cost, real *restrict grad,
                            real *restrict sample_loss, const real *restrict pred,
                            const void *target, const real *restrict weights, int64_t n, int64_t k,
                            int nthreads) {
    const double total = SFX(loss_weight_total)(weights, n);
    if (!PYNN_USE_THREADS(n * k * cost, nthreads)) {
        rows(grad, sample_loss, pred, target, weights, total, k, 0, n);
    } else {
        SFX(loss_job) job = {rows, grad, sample_loss, pred, weights, target, total, k};
        pynn_parallel_for(nthreads, n, SFX(rows_per_block)(k * cost), SFX(loss_task), &job);
    }
    return SFX(loss_mean)(sample_loss, weights, n, total);
}

static void SFX(ce_labels_range)(real *restrict dlogits, real *restrict sample_loss,
                                 const real *restrict logits, const void *target_,
                                 const real *restrict weights, double total, int64_t k, int64_t lo,
                                 int64_t hi) {
    const int64_t *restrict labels = target_;
    for (int64_t i = lo; i < hi; ++i) {
        const real *restrict zi = logits + i * k;
        real *restrict gi = dlogits ? dlogits + i * k : NULL;
        const int64_t y = labels[i];
        const real m = SFX(row_max)(zi, k);
        /* gi, when given, holds exp(z - m) until it is overwritten below. */
        const double s = SFX(row_sum_exp)(gi, zi, k, m);
        /* lse - z_y = (m - z_y) + log(s): two terms >= 0, taken in double. */
        sample_loss[i] = (real)(((double)m - (double)zi[y]) + log(s));
        if (gi) {
            const real c = SFX(loss_coef)(weights, i, total);
            const real p_y = (real)(gi[y] / s);
            for (int64_t j = 0; j < k; ++j) gi[j] = c * (real)(gi[j] / s);
            gi[y] = c * (p_y - (real)1);
        }
    }
}

double SFX(softmax_cross_entropy_labels)(real *restrict dlogits, real *restrict sample_loss,
                                         const real *restrict logits,
                                         const int64_t *restrict labels,
                                         const real *restrict weights, int64_t n, int64_t k,
                                         int nthreads) {
    return SFX(loss_run)(SFX(ce_labels_range), 8, dlogits, sample_loss, logits, labels, weights, n,
                         k, nthreads);
}

static void SFX(ce_probs_range)(real *restrict dlogits, real *restrict sample_loss,
                                const real *restrict logits, const void *target_,
                                const real *restrict weights, double total, int64_t k, int64_t lo,
                                int64_t hi) {
    const real *restrict target = target_;
    for (int64_t i = lo; i < hi; ++i) {
        const real *restrict zi = logits + i * k;
        const real *restrict yi = target + i * k;
        real *restrict gi = dlogits ? dlogits + i * k : NULL;
        const real m = SFX(row_max)(zi, k);
        /* l_i = sum_j y_j (m - z_j) + log(s) sum_j y_j: all terms >= 0.
         * Terms with y_j == 0 are skipped, so m - z_j never meets 0 * inf. */
        double s = 0, y_sum = 0, y_gap = 0;
        for (int64_t j = 0; j < k; ++j) {
            const real e = exp(zi[j] - m);
            s += e;
            if (gi) gi[j] = e;
            if (yi[j] != 0) {
                y_sum += yi[j];
                y_gap += (double)yi[j] * ((double)m - (double)zi[j]);
            }
        }
        /* an all-zero target row has no terms: its loss is 0 even where log(s) is
         * NaN (a NaN or +inf logit, or all -inf), as docs/kernels.md says */
        sample_loss[i] = (real)(y_sum != 0 ? y_gap + y_sum * log(s) : 0.0);
        if (gi) {
            const real c = SFX(loss_coef)(weights, i, total);
            const real ys = (real)y_sum;
            for (int64_t j = 0; j < k; ++j) gi[j] = c * ((real)(gi[j] / s) * ys - yi[j]);
        }
    }
}

double SFX(softmax_cross_entropy_probs)(real *restrict dlogits, real *restrict sample_loss,
                                        const real *restrict logits, const real *restrict target,
                                        const real *restrict weights, int64_t n, int64_t k,
                                        int nthreads) {
    return SFX(loss_run)(SFX(ce_probs_range), 8, dlogits, sample_loss, logits, target, weights, n,
                         k, nthreads);
}

/* ---- element-wise losses -------------------------------------------------- */

/* One element of an element-wise loss: returns its term of l_i (in double) and
 * stores in *g its gradient before the row's coefficient c_i. */
typedef double (*SFX(loss_term))(real p, real y, real *restrict g);

/* The rows [lo, hi) of an element-wise loss: l_i = scale * sum_j term(p_ij, y_ij),
 * summed in double in column order, and grad row i = c_i * g_ij. Inlined into each
 * *_range below with `term` a constant, so the compiler sees the whole loop. */
static inline void SFX(elementwise_loss_rows)(SFX(loss_term) term, double scale,
                                              real *restrict grad, real *restrict sample_loss,
                                              const real *restrict pred, const void *target_,
                                              const real *restrict weights, double total,
                                              int64_t k, int64_t lo, int64_t hi) {
    const real *restrict target = target_;
    for (int64_t i = lo; i < hi; ++i) {
        const real *restrict pi = pred + i * k;
        const real *restrict yi = target + i * k;
        real *restrict gi = grad ? grad + i * k : NULL;
        const real c = SFX(loss_coef)(weights, i, total);
        double l = 0;
        for (int64_t j = 0; j < k; ++j) {
            real g;
            l += term(pi[j], yi[j], &g);
            if (gi) gi[j] = c * g;
        }
        sample_loss[i] = (real)(scale * l);
    }
}

/* Sigmoid BCE of logit z against y: exp(-|z|) serves both the loss and the
 * stable sigmoid (as in SFX(sigmoid)); max(z,0) - z y in double, exact for float. */
static inline double SFX(bce_term)(real z, real y, real *restrict g) {
    const real e = exp(-fabs(z));
    *g = (z >= 0 ? (real)1 : e) / ((real)1 + e) - y;
    return (double)(z > 0 ? z : (real)0) - (double)z * (double)y + (double)log1p(e);
}

static void SFX(bce_range)(real *restrict dlogits, real *restrict sample_loss,
                           const real *restrict logits, const void *target_,
                           const real *restrict weights, double total, int64_t k, int64_t lo,
                           int64_t hi) {
    SFX(elementwise_loss_rows)(SFX(bce_term), 1.0, dlogits, sample_loss, logits, target_, weights,
                               total, k, lo, hi);
}

double SFX(sigmoid_binary_cross_entropy)(real *restrict dlogits, real *restrict sample_loss,
                                         const real *restrict logits, const real *restrict target,
                                         const real *restrict weights, int64_t n, int64_t k,
                                         int nthreads) {
    return SFX(loss_run)(SFX(bce_range), 16, dlogits, sample_loss, logits, target, weights, n, k,
                         nthreads);
}

/* Half the squared difference (the 1/2 is the row's scale). */
static inline double SFX(mse_term)(real p, real y, real *restrict g) {
    const double d = (double)p - (double)y;
    *g = p - y;
    return d * d;
}

static void SFX(mse_range)(real *restrict dpred, real *restrict sample_loss,
                           const real *restrict pred, const void *target_,
                           const real *restrict weights, double total, int64_t k, int64_t lo,
                           int64_t hi) {
    SFX(elementwise_loss_rows)(SFX(mse_term), 0.5, dpred, sample_loss, pred, target_, weights,
                               total, k, lo, hi);
}

double SFX(mse)(real *restrict dpred, real *restrict sample_loss, const real *restrict pred,
                const real *restrict target, const real *restrict weights, int64_t n, int64_t k,
                int nthreads) {
    return SFX(loss_run)(SFX(mse_range), 1, dpred, sample_loss, pred, target, weights, n, k,
                         nthreads);
}

/* p - y rounds to 0 only when p == y: the gradient has the exact difference's sign. */
static inline double SFX(l1_term)(real p, real y, real *restrict g) {
    *g = SFX(sign)(p - y);
    return fabs((double)p - (double)y);
}

static void SFX(l1_range)(real *restrict dpred, real *restrict sample_loss,
                          const real *restrict pred, const void *target_,
                          const real *restrict weights, double total, int64_t k, int64_t lo,
                          int64_t hi) {
    SFX(elementwise_loss_rows)(SFX(l1_term), 1.0, dpred, sample_loss, pred, target_, weights,
                               total, k, lo, hi);
}

double SFX(l1)(real *restrict dpred, real *restrict sample_loss, const real *restrict pred,
               const real *restrict target, const real *restrict weights, int64_t n, int64_t k,
               int nthreads) {
    return SFX(loss_run)(SFX(l1_range), 1, dpred, sample_loss, pred, target, weights, n, k,
                         nthreads);
}

static inline double SFX(hinge_term)(real p, real y, real *restrict g) {
    const real margin = y * p;
    const double h = 1.0 - (double)margin;
    *g = margin < 1 ? -y : (real)0;
    return h < 0 ? 0.0 : h; /* not h > 0 ? h : 0, so NaN propagates */
}

static void SFX(hinge_range)(real *restrict dpred, real *restrict sample_loss,
                             const real *restrict pred, const void *target_,
                             const real *restrict weights, double total, int64_t k, int64_t lo,
                             int64_t hi) {
    SFX(elementwise_loss_rows)(SFX(hinge_term), 1.0, dpred, sample_loss, pred, target_, weights,
                               total, k, lo, hi);
}

double SFX(hinge)(real *restrict dpred, real *restrict sample_loss, const real *restrict pred,
                  const real *restrict target, const real *restrict weights, int64_t n, int64_t k,
                  int nthreads) {
    return SFX(loss_run)(SFX(hinge_range), 1, dpred, sample_loss, pred, target, weights, n, k,
                         nthreads);
}

/* Half the Poisson deviance of the log-rate z against a count y >= 0:
 * exp(z) - y + y (log y - z), written exp(z) + y (log y - 1 - z), in double; the
 * gradient exp(z) - y in double, rounded once. y == 0 gives exp(z) (0 log 0 = 0,
 * so an infinite z does not meet 0 * inf); an exp that overflows (z = +inf, or z
 * beyond the double's range) gives an infinite loss, never inf - inf. */
static inline double SFX(poisson_term)(real z, real y, real *restrict g) {
    const double e = exp((double)z);
    *g = (real)(e - (double)y);
    if (y == 0 || e == INFINITY) return e;
    return e + (double)y * ((log((double)y) - 1.0) - (double)z);
}

static void SFX(poisson_range)(real *restrict dpred, real *restrict sample_loss,
                               const real *restrict pred, const void *target_,
                               const real *restrict weights, double total, int64_t k, int64_t lo,
                               int64_t hi) {
    SFX(elementwise_loss_rows)(SFX(poisson_term), 1.0, dpred, sample_loss, pred, target_, weights,
                               total, k, lo, hi);
}

double SFX(poisson)(real *restrict dpred, real *restrict sample_loss, const real *restrict pred,
                    const real *restrict target, const real *restrict weights, int64_t n,
                    int64_t k, int nthreads) {
    return SFX(loss_run)(SFX(poisson_range), 16, dpred, sample_loss, pred, target, weights, n, k,
                         nthreads);
}
