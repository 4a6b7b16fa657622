/* A whole training step of a stack of Dense layers (see pynn.h): dtype-generic
 * body, included once per translation unit after dense_impl.h, losses_impl.h
 * and metrics_impl.h.
 *
 * For a small network the step's arithmetic takes a few microseconds, and a
 * Python-level step that calls one kernel per stage spends as long again in
 * the calls; this runs the same kernels, in the same order, from one call. */

int64_t SFX(dense_stack_workspace_size)(const SFX(dense_layer) *layers, int64_t n_layers,
                                        int64_t n, int simd, int nthreads) {
    int64_t size = 0;
    for (int64_t i = 0; i < n_layers; i++) {
        const SFX(dense_layer) *l = &layers[i];
        int64_t fwd = SFX(dense_forward_workspace_size)(n, l->in_f, l->out_f, simd, nthreads);
        int64_t bwd = SFX(dense_backward_workspace_size)(n, l->in_f, l->out_f, simd, nthreads);
        if (fwd > size) size = fwd;
        if (bwd > size) size = bwd;
    }
    return size;
}

/* x row i = X row rows[i] for i in [lo, hi). */
typedef struct {
    real *x;
    const real *X;
    const int64_t *rows;
    int64_t width;
} SFX(gather_job);

static void SFX(gather_range)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(gather_job) *j = arg;
    (void)slot;
    for (int64_t i = lo; i < hi; i++)
        memcpy(j->x + i * j->width, j->X + j->rows[i] * j->width, (size_t)j->width * sizeof(real));
}

/* x row i = X row rows[i]; each row is copied whole by one thread. */
static void SFX(gather_rows)(real *restrict x, const real *restrict X,
                             const int64_t *restrict rows, int64_t n, int64_t width,
                             int nthreads) {
    SFX(gather_job) job = {x, X, rows, width};
    if (!PYNN_USE_THREADS(n * width, nthreads))
        SFX(gather_range)(&job, 0, n, 0);
    else
        pynn_parallel_for(nthreads, n, SFX(rows_per_block)(width), SFX(gather_range), &job);
}

static double SFX(stack_loss)(pynn_loss loss, real *restrict dout, real *restrict sample_loss,
                              const real *restrict out, const int64_t *restrict labels,
                              const real *restrict target, int64_t n, int64_t k,
                              int nthreads) {
    switch (loss) {
    case PYNN_LOSS_MSE:
        return SFX(mse)(dout, sample_loss, out, target, NULL, n, k, nthreads);
    case PYNN_LOSS_L1:
        return SFX(l1)(dout, sample_loss, out, target, NULL, n, k, nthreads);
    case PYNN_LOSS_SIGMOID_BCE:
        return SFX(sigmoid_binary_cross_entropy)(dout, sample_loss, out, target, NULL, n, k,
                                                 nthreads);
    case PYNN_LOSS_SOFTMAX_CE_LABELS:
        return SFX(softmax_cross_entropy_labels)(dout, sample_loss, out, labels, NULL, n, k,
                                                 nthreads);
    case PYNN_LOSS_SOFTMAX_CE_PROBS:
        return SFX(softmax_cross_entropy_probs)(dout, sample_loss, out, target, NULL, n, k,
                                                nthreads);
    case PYNN_LOSS_HINGE:
        return SFX(hinge)(dout, sample_loss, out, target, NULL, n, k, nthreads);
    default:
        return NAN; /* unreachable: Cython passes only the codes above */
    }
}

double SFX(dense_stack_step)(const SFX(dense_layer) *layers, int64_t n_layers, int64_t n,
                             const real *restrict X, const int64_t *restrict rows,
                             real *restrict x, pynn_loss loss,
                             const int64_t *restrict labels, const real *restrict target,
                             real *restrict dout, real *restrict sample_loss,
                             int64_t *restrict hits, real *restrict work, int simd,
                             int nthreads) {
    if (X)
        SFX(gather_rows)(x, X, rows, n, layers[0].in_f, nthreads);

    const real *in = x;
    for (int64_t i = 0; i < n_layers; i++) {
        const SFX(dense_layer) *l = &layers[i];
        SFX(dense_forward)(l->out, l->z, in, l->w, l->b, n, l->in_f, l->out_f, l->act,
                           l->param, work, simd, nthreads);
        in = l->out;
    }

    const SFX(dense_layer) *last = &layers[n_layers - 1];
    int64_t k = last->out_f;
    double value = SFX(stack_loss)(loss, dout, sample_loss, last->out, labels, target, n, k,
                                   nthreads);
    if (hits)
        *hits = SFX(count_argmax_hits)(last->out, labels, n, k);
    if (!isfinite(value))
        return value; /* the caller stops training: no gradient is written */

    const real *grad = dout;
    for (int64_t i = n_layers - 1; i >= 0; i--) {
        const SFX(dense_layer) *l = &layers[i];
        const real *layer_in = i == 0 ? x : layers[i - 1].out;
        SFX(dense_backward)(l->dw, l->db, l->dx, grad, layer_in, l->w, l->out, l->z, n,
                            l->in_f, l->out_f, l->act, l->param, 0, work, simd, nthreads);
        grad = l->dx;
    }
    return value;
}
