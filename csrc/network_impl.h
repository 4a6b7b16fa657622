/* A network's forward pass, backward pass and training step over an array of
 * layer records (see pynn.h): dtype-generic body, included once per
 * translation unit after activations_impl.h, dense_impl.h, losses_impl.h,
 * metrics_impl.h and dropout_impl.h.
 *
 * Each layer kind runs the kernel its Python layer ran one call at a time
 * (dense_forward/backward, activation_forward/backward, prelu_forward/backward)
 * with the same arguments, so the results are bitwise those of the per-stage
 * path; Maxout and Standardize, whose per-stage path was NumPy, have the small
 * kernels below, which give NumPy's results bit for bit. For a small network
 * the arithmetic of a step takes a few microseconds, and one Python-level call
 * per stage as long again: the whole step is one call. */

/* ---- Maxout and Standardize ------------------------------------------------ */

/* A row-wise kernel of this file, for pynn_parallel_for. */
typedef struct {
    real *out;
    int64_t *argmax;
    const real *in, *mean, *scale;
    const int64_t *index;
    int64_t width, pieces;
} SFX(net_rows_job);

/* out[i, j] = max over p of z[i, j*pieces + p] (NaN when any is, as np.max);
 * argmax (when not NULL) = the first largest p, or the first NaN's (np.argmax). */
static void SFX(maxout_rows)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(net_rows_job) *j = arg;
    const int64_t pieces = j->pieces;
    (void)slot;
    for (int64_t c = lo * j->width; c < hi * j->width; c++) {
        const real *restrict z = j->in + c * pieces;
        int64_t best = 0;
        real m = z[0];
        if (m == m)
            for (int64_t p = 1; p < pieces; p++) {
                const real v = z[p];
                if (v != v) {
                    best = p;
                    m = v;
                    break;
                }
                if (v > m) {
                    best = p;
                    m = v;
                }
            }
        j->out[c] = m;
        if (j->argmax) j->argmax[c] = best;
    }
}

/* dz = 0 but dz[i, j*pieces + argmax[i, j]] = dout[i, j]. */
static void SFX(maxout_route_rows)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(net_rows_job) *j = arg;
    const int64_t pieces = j->pieces;
    (void)slot;
    /* one memset for the rows, not one per output (a call per pieces values) */
    memset(j->out + lo * j->width * pieces, 0,
           (size_t)((hi - lo) * j->width * pieces) * sizeof(real));
    for (int64_t c = lo * j->width; c < hi * j->width; c++)
        j->out[c * pieces + j->index[c]] = j->in[c];
}

/* out = (x - mean) / scale per feature (forward: mean given), or
 * dx = dout / scale (backward: mean NULL); each operation rounded to real, as
 * NumPy's subtract and divide in the model's dtype. */
static void SFX(standardize_rows)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(net_rows_job) *j = arg;
    const int64_t width = j->width;
    const real *restrict mean = j->mean, *restrict scale = j->scale;
    (void)slot;
    for (int64_t i = lo; i < hi; i++) {
        const real *restrict x = j->in + i * width;
        real *restrict out = j->out + i * width;
        if (mean)
            for (int64_t k = 0; k < width; k++) out[k] = (x[k] - mean[k]) / scale[k];
        else
            for (int64_t k = 0; k < width; k++) out[k] = x[k] / scale[k];
    }
}

/* fn over rows [0, n) of `width` items of `cost` each, on threads when it pays. */
static void SFX(net_rows)(pynn_range_fn fn, SFX(net_rows_job) *job, int64_t n, int64_t cost,
                          int nthreads) {
    if (!PYNN_USE_THREADS(n * cost, nthreads))
        fn(job, 0, n, 0);
    else
        pynn_parallel_for(nthreads, n, SFX(rows_per_block)(cost), fn, job);
}

/* ---- gather, loss ----------------------------------------------------------- */

/* x row i = X row rows[i] for i in [lo, hi) (rows of `width` values). */
static void SFX(gather_range)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(net_rows_job) *j = arg;
    const int64_t width = j->width;
    (void)slot;
    for (int64_t i = lo; i < hi; i++)
        memcpy(j->out + i * width, j->in + j->index[i] * width, (size_t)width * sizeof(real));
}

/* The loss `loss` of out against labels or target, weighted by weights (n) or
 * unweighted (NULL). */
static double SFX(network_loss)(pynn_loss loss, real *restrict dout, real *restrict sample_loss,
                                const real *restrict out, const int64_t *restrict labels,
                                const real *restrict target, const real *restrict weights,
                                int64_t n, int64_t k, int nthreads) {
    switch (loss) {
    case PYNN_LOSS_MSE:
        return SFX(mse)(dout, sample_loss, out, target, weights, n, k, nthreads);
    case PYNN_LOSS_L1:
        return SFX(l1)(dout, sample_loss, out, target, weights, n, k, nthreads);
    case PYNN_LOSS_SIGMOID_BCE:
        return SFX(sigmoid_binary_cross_entropy)(dout, sample_loss, out, target, weights, n, k,
                                                 nthreads);
    case PYNN_LOSS_SOFTMAX_CE_LABELS:
        return SFX(softmax_cross_entropy_labels)(dout, sample_loss, out, labels, weights, n, k,
                                                 nthreads);
    case PYNN_LOSS_SOFTMAX_CE_PROBS:
        return SFX(softmax_cross_entropy_probs)(dout, sample_loss, out, target, weights, n, k,
                                                nthreads);
    case PYNN_LOSS_HINGE:
        return SFX(hinge)(dout, sample_loss, out, target, weights, n, k, nthreads);
    case PYNN_LOSS_POISSON:
        return SFX(poisson)(dout, sample_loss, out, target, weights, n, k, nthreads);
    default:
        return NAN; /* unreachable: Cython passes only the codes above */
    }
}

/* ---- the network -------------------------------------------------------------- */

/* Rows of a DENSE or MAXOUT layer's weight. */
static inline int64_t SFX(affine_rows)(const SFX(net_layer) *l) {
    return l->kind == PYNN_LAYER_MAXOUT ? l->out_f * l->pieces : l->out_f;
}

int64_t SFX(network_workspace_size)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                                    int training, int simd, int nthreads) {
    int64_t size = 0;
    for (int64_t i = 0; i < n_layers; i++) {
        const SFX(net_layer) *l = &layers[i];
        if (l->kind != PYNN_LAYER_DENSE && l->kind != PYNN_LAYER_MAXOUT) continue;
        int64_t rows = SFX(affine_rows)(l);
        int64_t fwd = SFX(dense_forward_workspace_size)(n, l->in_f, rows, simd, nthreads);
        int64_t bwd =
            training ? SFX(dense_backward_workspace_size)(n, l->in_f, rows, simd, nthreads) : 0;
        if (fwd > size) size = fwd;
        if (bwd > size) size = bwd;
    }
    return size;
}

/* Record `index` of the array: l. */
static void SFX(layer_forward)(const SFX(net_layer) *l, int64_t index, int64_t n,
                               const real *restrict in, real *restrict work, int simd,
                               int nthreads) {
    SFX(net_rows_job) job = {l->out, l->argmax, l->z, l->w, l->b, NULL, l->out_f, l->pieces};
    switch (l->kind) {
    case PYNN_LAYER_DENSE:
        SFX(dense_forward)(l->out, l->z, in, l->w, l->b, n, l->in_f, l->out_f, l->act, l->param,
                           work, simd, nthreads);
        break;
    case PYNN_LAYER_ACTIVATION:
        SFX(activation_forward)(l->out, in, n * l->out_f, l->act, l->param, nthreads);
        break;
    case PYNN_LAYER_PRELU:
        SFX(prelu_forward)(l->out, in, l->w, n, l->out_f, l->shared, nthreads);
        break;
    case PYNN_LAYER_MAXOUT:
        SFX(dense_forward)(l->z, NULL, in, l->w, l->b, n, l->in_f, SFX(affine_rows)(l),
                           PYNN_IDENTITY, 0, work, simd, nthreads);
        SFX(net_rows)(SFX(maxout_rows), &job, n, l->out_f * l->pieces, nthreads);
        break;
    case PYNN_LAYER_STANDARDIZE:
        job.in = in;
        SFX(net_rows)(SFX(standardize_rows), &job, n, l->out_f, nthreads);
        break;
    case PYNN_LAYER_DROPOUT:
        SFX(dropout_forward)(l->out, l->mask, in, n, l->out_f, l->param, l->stream, index,
                             nthreads);
        break;
    default:
        break; /* unreachable: Cython passes only the kinds above */
    }
}

void SFX(network_forward)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                          const real *restrict x, real *restrict work, int simd, int nthreads) {
    const real *in = x;
    for (int64_t i = 0; i < n_layers; i++) {
        SFX(layer_forward)(&layers[i], i, n, in, work, simd, nthreads);
        in = layers[i].out;
    }
}

/* Layer l's backward pass from dout, its input `in`: its gradients and dx. */
static void SFX(layer_backward)(const SFX(net_layer) *l, int64_t n, const real *restrict in,
                                const real *restrict dout, real *restrict work, int simd,
                                int nthreads) {
    SFX(net_rows_job) job = {l->dz, NULL, dout, NULL, l->b, l->argmax, l->out_f, l->pieces};
    switch (l->kind) {
    case PYNN_LAYER_DENSE:
        SFX(dense_backward)(l->dw, l->db, l->dx, dout, in, l->w, l->out, l->z, n, l->in_f,
                            l->out_f, l->act, l->param, work, simd, nthreads);
        break;
    case PYNN_LAYER_ACTIVATION:
        if (l->dx)
            SFX(activation_backward)(l->dx, dout, l->out, in, n * l->out_f, l->act, l->param,
                                     nthreads);
        break;
    case PYNN_LAYER_PRELU:
        SFX(prelu_backward)(l->dx, l->dw, dout, in, l->w, n, l->out_f, l->shared, nthreads);
        break;
    case PYNN_LAYER_MAXOUT:
        SFX(net_rows)(SFX(maxout_route_rows), &job, n, l->out_f * l->pieces, nthreads);
        SFX(dense_backward)(l->dw, l->db, l->dx, l->dz, in, l->w, NULL, NULL, n, l->in_f,
                            SFX(affine_rows)(l), PYNN_IDENTITY, 0, work, simd, nthreads);
        break;
    case PYNN_LAYER_STANDARDIZE:
        job.out = l->dx;
        if (l->dx) SFX(net_rows)(SFX(standardize_rows), &job, n, l->out_f, nthreads);
        break;
    case PYNN_LAYER_DROPOUT:
        if (l->dx) SFX(dropout_backward)(l->dx, dout, l->mask, n, l->out_f, nthreads);
        break;
    default:
        break;
    }
}

void SFX(network_backward)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                           const real *restrict x, const real *restrict dout, real *restrict work,
                           int simd, int nthreads) {
    const real *grad = dout;
    for (int64_t i = n_layers - 1; i >= 0 && grad; i--) {
        const real *in = i == 0 ? x : layers[i - 1].out;
        SFX(layer_backward)(&layers[i], n, in, grad, work, simd, nthreads);
        grad = layers[i].dx;
    }
}

double SFX(network_step)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                         const real *restrict X, const int64_t *restrict rows, real *restrict x,
                         const real *restrict W, real *restrict w, pynn_loss loss,
                         const int64_t *restrict labels, const real *restrict target,
                         real *restrict dout, real *restrict sample_loss, int64_t *restrict hits,
                         real *restrict work, int simd, int nthreads) {
    if (X) {
        /* each row copied whole by one thread */
        SFX(net_rows_job) job = {x, NULL, X, NULL, NULL, rows, layers[0].in_f, 0};
        SFX(net_rows)(SFX(gather_range), &job, n, layers[0].in_f, nthreads);
        if (W)
            for (int64_t i = 0; i < n; i++) w[i] = W[rows[i]];
    }
    /* the batch's weights: gathered from W, or already in w; NULL: unweighted */
    const real *weights = X ? (W ? w : NULL) : w;
    SFX(network_forward)(layers, n_layers, n, x, work, simd, nthreads);

    const SFX(net_layer) *last = &layers[n_layers - 1];
    int64_t k = last->out_f;
    double value = SFX(network_loss)(loss, dout, sample_loss, last->out, labels, target, weights,
                                     n, k, nthreads);
    if (hits) *hits = SFX(count_argmax_hits)(last->out, labels, n, k);
    if (!isfinite(value)) return value; /* the caller stops training: no gradient is written */
    SFX(network_backward)(layers, n_layers, n, x, dout, work, simd, nthreads);
    return value;
}
