/* Hessian- and Gauss-Newton-vector products of a network's training loss (issue 18):
 * dtype-generic body, included once per translation unit after network_impl.h.
 *
 * Pearlmutter's R-operator: beside the forward pass, an R-forward pass carries each
 * layer's derivative along the direction v (Rout); beside the backward pass, an
 * R-backward pass carries R(dL/dout) down and gives the product. The Gauss-Newton
 * product J^T H_out J v drops every second derivative of the layers (the R-backward is
 * then a plain backward pass of H_out J v). pynn/reference_hvp.py is the NumPy twin and
 * documents the maths (l1 and hinge: H_out = 0; Dropout's mask and Maxout's argmax held).
 *
 * The elementwise loops and the column sums run on one thread in row order and the
 * products run on gemm, whose result does not depend on the thread count: so neither
 * does the product. */

/* f''(.) of a differentiable activation from a = f(z) or z, as act_slope reads them
 * (pynn_activation_saves): 0 for the piecewise linear ones (either side of a kink). */
static inline real SFX(act_curvature)(real a, real z, pynn_activation act, real param) {
    switch (act) {
    case PYNN_SIGMOID:
        return a * ((real)1 - a) * ((real)1 - 2 * a);
    case PYNN_TANH:
        return -2 * a * ((real)1 - a * a);
    case PYNN_SOFTPLUS: {
        const real s = SFX(sigmoid)(z);
        return s * ((real)1 - s);
    }
    case PYNN_ELU:
        return z > 0 ? (real)0 : param * exp(z);
    default:
        return (real)0;
    }
}

/* One layer's scratch in the product's workspace (NULL where its kind has none). */
typedef struct {
    real *rout; /* (n, out_f): R of out; NULL while no layer below has parameters */
    real *d1, *d2;       /* (n, out_f): f' and f'' (DENSE, ACTIVATION) */
    real *rz, *dz, *rdz; /* (n, rows): R of z, dL/dz, R(dL/dz) (dz: DENSE only) */
    real *rdx;           /* (n, in_f): R of dx, when the record has a dx */
} SFX(hvp_scratch);

/* Reals the scratch of record l takes (hvp_carve's layout). */
static int64_t SFX(hvp_layer_size)(const SFX(net_layer) *l, int64_t n) {
    int64_t size = n * l->out_f + (l->dx ? n * l->in_f : 0);
    if (l->kind == PYNN_LAYER_DENSE) size += 5 * n * l->out_f;
    if (l->kind == PYNN_LAYER_MAXOUT) size += 2 * n * SFX(affine_rows)(l);
    if (l->kind == PYNN_LAYER_ACTIVATION) size += 2 * n * l->out_f;
    return size;
}

/* The parameters of record l: its weight's and bias's sizes. */
static int64_t SFX(hvp_weight_size)(const SFX(net_layer) *l) {
    if (l->kind == PYNN_LAYER_DENSE || l->kind == PYNN_LAYER_MAXOUT)
        return SFX(affine_rows)(l) * l->in_f;
    return l->kind == PYNN_LAYER_PRELU ? (l->shared ? 1 : l->out_f) : 0;
}

static int64_t SFX(hvp_bias_size)(const SFX(net_layer) *l) {
    const int affine = l->kind == PYNN_LAYER_DENSE || l->kind == PYNN_LAYER_MAXOUT;
    return affine && l->b ? SFX(affine_rows)(l) : 0;
}

/* The gemm workspace at the front of the product's workspace (a multiple of 16 reals,
 * so the scratch after it keeps the workspace's alignment). */
static int64_t SFX(hvp_gemm_size)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                                  int simd, int nthreads) {
    int64_t size = SFX(network_workspace_size)(layers, n_layers, n, 1, simd, nthreads);
    for (int64_t i = 0; i < n_layers; i++) {
        const SFX(net_layer) *l = &layers[i];
        if (l->kind != PYNN_LAYER_DENSE && l->kind != PYNN_LAYER_MAXOUT) continue;
        const int64_t rows = SFX(affine_rows)(l), in_f = l->in_f;
        const int64_t sizes[3] = {SFX(gemm_workspace_size)(n, rows, in_f, simd, nthreads),
                                  SFX(gemm_workspace_size)(rows, in_f, n, simd, nthreads),
                                  SFX(gemm_workspace_size)(n, in_f, rows, simd, nthreads)};
        for (int s = 0; s < 3; s++)
            if (sizes[s] > size) size = sizes[s];
    }
    return (size + 15) / 16 * 16;
}

int64_t SFX(network_hvp_workspace_size)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                                        int simd, int nthreads) {
    int64_t size = SFX(hvp_gemm_size)(layers, n_layers, n, simd, nthreads);
    for (int64_t i = 0; i < n_layers; i++) size += SFX(hvp_layer_size)(&layers[i], n);
    return size + n * layers[n_layers - 1].out_f; /* R(dout) */
}

/* Record i's scratch: the records before it take theirs first. */
static SFX(hvp_scratch)
    SFX(hvp_carve)(const SFX(net_layer) *layers, int64_t i, int64_t n, real *scratch, int has_r) {
    for (int64_t j = 0; j < i; j++) scratch += SFX(hvp_layer_size)(&layers[j], n);
    const SFX(net_layer) *l = &layers[i];
    const int64_t outs = n * l->out_f, rows = n * SFX(affine_rows)(l);
    SFX(hvp_scratch) s = {has_r ? scratch : NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    scratch += outs;
    if (l->kind == PYNN_LAYER_DENSE) {
        s.d1 = scratch, s.d2 = scratch + outs, s.rz = scratch + 2 * outs;
        s.dz = scratch + 3 * outs, s.rdz = scratch + 4 * outs;
        scratch += 5 * outs;
    } else if (l->kind == PYNN_LAYER_MAXOUT) {
        s.rz = scratch, s.rdz = scratch + rows;
        scratch += 2 * rows;
    } else if (l->kind == PYNN_LAYER_ACTIVATION) {
        s.d1 = scratch, s.d2 = scratch + outs;
        scratch += 2 * outs;
    }
    s.rdx = l->dx ? scratch : NULL;
    return s;
}

/* c (m, cols) = beta c + op(a) op(b) over contiguous matrices. */
static void SFX(hvp_gemm)(real *restrict c, const real *restrict a, const real *restrict b,
                          int64_t m, int64_t cols, int64_t k, double beta, int trans_a,
                          int trans_b, real *restrict work, int simd, int nthreads) {
    SFX(gemm)(c, a, b, m, cols, k, 1.0, beta, trans_a, trans_b, trans_a ? m : k,
              trans_b ? k : cols, cols, work, simd, nthreads);
}

/* out[j] = sum over the n rows of m[i, j], in double and row order. */
static void SFX(hvp_column_sums)(real *restrict out, const real *restrict m, int64_t n,
                                 int64_t cols) {
    for (int64_t j = 0; j < cols; j++) {
        double acc = 0;
        for (int64_t i = 0; i < n; i++) acc += m[i * cols + j];
        out[j] = (real)acc;
    }
}

/* Rz = Rin w^T + in Vw^T + Vb of an affine record (Rin NULL: zero). */
static void SFX(hvp_affine_r)(const SFX(net_layer) *l, real *restrict rz, const real *in,
                              const real *rin, const real *restrict vw, const real *restrict vb,
                              int64_t n, real *restrict work, int simd, int nthreads) {
    const int64_t rows = SFX(affine_rows)(l);
    if (rin) SFX(hvp_gemm)(rz, rin, l->w, n, rows, l->in_f, 0.0, 0, 1, work, simd, nthreads);
    SFX(hvp_gemm)(rz, in, vw, n, rows, l->in_f, rin ? 1.0 : 0.0, 0, 1, work, simd, nthreads);
    if (vb)
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < rows; j++) rz[i * rows + j] += vb[j];
}

/* Record i's forward and R-forward passes (s its scratch, v its direction). */
static void SFX(hvp_layer_forward)(const SFX(net_layer) *l, int64_t i, SFX(hvp_scratch) s,
                                   const real *in, const real *rin, const real *restrict v,
                                   int64_t n, real *restrict work, int simd, int nthreads) {
    SFX(layer_forward)(l, i, n, in, work, simd, nthreads);
    const int64_t size = n * l->out_f, width = l->out_f;
    const real param = (real)l->param;
    const real *vb = v && l->b ? v + SFX(hvp_weight_size)(l) : NULL;
    switch (l->kind) {
    case PYNN_LAYER_DENSE:
        SFX(hvp_affine_r)(l, s.rz, in, rin, v, vb, n, work, simd, nthreads);
        for (int64_t e = 0; e < size; e++) {
            const real a = l->out[e], z = l->z ? l->z[e] : (real)0;
            s.d1[e] = SFX(act_slope)(a, z, l->act, param);
            s.d2[e] = SFX(act_curvature)(a, z, l->act, param);
            s.rout[e] = s.d1[e] * s.rz[e];
        }
        break;
    case PYNN_LAYER_MAXOUT:
        SFX(hvp_affine_r)(l, s.rz, in, rin, v, vb, n, work, simd, nthreads);
        for (int64_t e = 0; e < size; e++) s.rout[e] = s.rz[e * l->pieces + l->argmax[e]];
        break;
    case PYNN_LAYER_ACTIVATION:
        for (int64_t e = 0; e < size; e++) {
            s.d1[e] = SFX(act_slope)(l->out[e], in[e], l->act, param);
            s.d2[e] = SFX(act_curvature)(l->out[e], in[e], l->act, param);
            if (s.rout) s.rout[e] = s.d1[e] * rin[e];
        }
        break;
    case PYNN_LAYER_PRELU:
        for (int64_t e = 0; e < size; e++) {
            const real slope = l->w[l->shared ? 0 : e % width];
            const real dslope = v[l->shared ? 0 : e % width];
            const real r = rin ? rin[e] : (real)0;
            s.rout[e] = in[e] > 0 ? r : slope * r + dslope * in[e];
        }
        break;
    case PYNN_LAYER_STANDARDIZE:
        if (s.rout)
            for (int64_t e = 0; e < size; e++) s.rout[e] = rin[e] / l->b[e % width];
        break;
    case PYNN_LAYER_DROPOUT:
        if (s.rout)
            for (int64_t e = 0; e < size; e++) s.rout[e] = l->mask ? rin[e] * l->mask[e] : rin[e];
        break;
    default:
        break;
    }
}

/* rdout = H_out rout: row i of the loss's Hessian with respect to the output, times
 * c_i = w_i / sum w (1/n without weights); l1 and hinge have none (0). */
static void SFX(hvp_loss_hessian)(real *restrict rdout, const real *restrict out,
                                  const real *restrict rout, pynn_loss loss,
                                  const real *restrict target, const real *restrict weights,
                                  int64_t n, int64_t k) {
    double total = n;
    if (weights) {
        total = 0;
        for (int64_t i = 0; i < n; i++) total += weights[i];
    }
    for (int64_t i = 0; i < n; i++) {
        const double c = (weights ? (double)weights[i] : 1.0) / total;
        const real *restrict z = out + i * k, *restrict u = rout + i * k;
        real *restrict r = rdout + i * k;
        if (loss == PYNN_LOSS_SOFTMAX_CE_LABELS || loss == PYNN_LOSS_SOFTMAX_CE_PROBS) {
            /* S (diag(p) - p p^T) u, S the row's target sum (1 for a label) */
            const double m = SFX(row_max)(z, k);
            double sum = 0, pu = 0, mass = 1;
            for (int64_t j = 0; j < k; j++) sum += exp((double)z[j] - m);
            for (int64_t j = 0; j < k; j++) pu += exp((double)z[j] - m) / sum * u[j];
            if (loss == PYNN_LOSS_SOFTMAX_CE_PROBS) {
                mass = 0;
                for (int64_t j = 0; j < k; j++) mass += target[i * k + j];
            }
            for (int64_t j = 0; j < k; j++) {
                const double p = exp((double)z[j] - m) / sum;
                r[j] = (real)(c * mass * p * (u[j] - pu));
            }
            continue;
        }
        for (int64_t j = 0; j < k; j++) {
            double curvature = 0; /* l1, hinge */
            if (loss == PYNN_LOSS_MSE) curvature = 1;
            if (loss == PYNN_LOSS_SIGMOID_BCE) {
                const double s = SFX(sigmoid)(z[j]);
                curvature = s * (1 - s);
            }
            if (loss == PYNN_LOSS_POISSON) curvature = exp((double)z[j]);
            r[j] = (real)(c * curvature * u[j]);
        }
    }
}

/* Record l's backward and R-backward from delta = dL/dout and rdelta = its R: the
 * gradients into l's dw, db (dx), the product into hw (its slice of the product), R of
 * dx into s.rdx. in and rin are its input and that input's R (NULL: zero). exact = 0
 * drops the layer's second derivatives (the Gauss-Newton product). */
static void SFX(hvp_layer_backward)(const SFX(net_layer) *l, SFX(hvp_scratch) s, const real *in,
                                    const real *rin, const real *restrict delta,
                                    const real *restrict rdelta, const real *restrict v,
                                    real *restrict hw, int exact, int64_t n, real *restrict work,
                                    int simd, int nthreads) {
    const int64_t size = n * l->out_f, width = l->out_f, in_f = l->in_f;
    const int64_t rows = SFX(affine_rows)(l);
    real *dz = s.dz;
    switch (l->kind) {
    case PYNN_LAYER_DENSE:
    case PYNN_LAYER_MAXOUT:
        if (l->kind == PYNN_LAYER_DENSE) {
            for (int64_t e = 0; e < size; e++) {
                dz[e] = delta[e] * s.d1[e];
                s.rdz[e] = rdelta[e] * s.d1[e];
                if (exact) s.rdz[e] += delta[e] * s.d2[e] * s.rz[e];
            }
        } else { /* the output's gradient goes to the piece that was largest */
            SFX(net_rows_job) job = {l->dz, NULL, delta, NULL, NULL, l->argmax, width, l->pieces};
            SFX(maxout_route_rows)(&job, 0, n, 0);
            job.out = s.rdz, job.in = rdelta;
            SFX(maxout_route_rows)(&job, 0, n, 0);
            dz = l->dz;
        }
        SFX(hvp_gemm)(l->dw, dz, in, rows, in_f, n, 0.0, 1, 0, work, simd, nthreads);
        SFX(hvp_gemm)(hw, s.rdz, in, rows, in_f, n, 0.0, 1, 0, work, simd, nthreads);
        if (exact && rin)
            SFX(hvp_gemm)(hw, dz, rin, rows, in_f, n, 1.0, 1, 0, work, simd, nthreads);
        if (l->b) {
            SFX(hvp_column_sums)(l->db, dz, n, rows);
            SFX(hvp_column_sums)(hw + rows * in_f, s.rdz, n, rows);
        }
        if (l->dx) {
            SFX(hvp_gemm)(l->dx, dz, l->w, n, in_f, rows, 0.0, 0, 0, work, simd, nthreads);
            SFX(hvp_gemm)(s.rdx, s.rdz, l->w, n, in_f, rows, 0.0, 0, 0, work, simd, nthreads);
            if (exact) SFX(hvp_gemm)(s.rdx, dz, v, n, in_f, rows, 1.0, 0, 0, work, simd, nthreads);
        }
        break;
    case PYNN_LAYER_ACTIVATION:
        if (!l->dx) break;
        for (int64_t e = 0; e < size; e++) {
            l->dx[e] = delta[e] * s.d1[e];
            s.rdx[e] = rdelta[e] * s.d1[e];
            if (exact && rin) s.rdx[e] += delta[e] * s.d2[e] * rin[e];
        }
        break;
    case PYNN_LAYER_PRELU: {
        SFX(prelu_backward)(l->dx, l->dw, delta, in, l->w, n, width, l->shared, nthreads);
        /* d out / d slope is in where in <= 0; its R is rin there */
        const int64_t slopes = l->shared ? 1 : width;
        for (int64_t f = 0; f < slopes; f++) {
            double acc = 0;
            for (int64_t e = f; e < size; e += l->shared ? 1 : width) {
                if (in[e] > 0) continue;
                acc += rdelta[e] * in[e];
                if (exact && rin) acc += delta[e] * rin[e];
            }
            hw[f] = (real)acc;
        }
        if (l->dx)
            for (int64_t e = 0; e < size; e++) {
                const int64_t f = l->shared ? 0 : e % width;
                s.rdx[e] = in[e] > 0 ? rdelta[e] : rdelta[e] * l->w[f];
                if (exact && in[e] <= 0) s.rdx[e] += delta[e] * v[f];
            }
        break;
    }
    case PYNN_LAYER_STANDARDIZE:
        if (!l->dx) break;
        for (int64_t e = 0; e < size; e++) {
            l->dx[e] = delta[e] / l->b[e % width];
            s.rdx[e] = rdelta[e] / l->b[e % width];
        }
        break;
    case PYNN_LAYER_DROPOUT:
        if (!l->dx) break;
        for (int64_t e = 0; e < size; e++) {
            l->dx[e] = l->mask ? delta[e] * l->mask[e] : delta[e];
            s.rdx[e] = l->mask ? rdelta[e] * l->mask[e] : rdelta[e];
        }
        break;
    default:
        break;
    }
}

double SFX(network_hvp)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                        real *restrict product, real *restrict dout, real *restrict sample_loss,
                        const real *restrict x, const real *restrict weights, pynn_loss loss,
                        const int64_t *restrict labels, const real *restrict target,
                        const real *restrict v, int gauss_newton, real *restrict work, int simd,
                        int nthreads) {
    real *scratch = work + SFX(hvp_gemm_size)(layers, n_layers, n, simd, nthreads);
    int64_t first = n_layers; /* the first record with parameters */
    for (int64_t i = n_layers - 1; i >= 0; i--)
        if (SFX(hvp_weight_size)(&layers[i]) > 0) first = i;

    const real *in = x, *rin = NULL;
    int64_t offset = 0; /* of a record's parameters in v and product */
    for (int64_t i = 0; i < n_layers; i++) {
        const SFX(net_layer) *l = &layers[i];
        const int64_t params = SFX(hvp_weight_size)(l) + SFX(hvp_bias_size)(l);
        const SFX(hvp_scratch) s = SFX(hvp_carve)(layers, i, n, scratch, i >= first);
        SFX(hvp_layer_forward)(l, i, s, in, rin, params ? v + offset : NULL, n, work, simd,
                               nthreads);
        offset += params;
        in = l->out, rin = s.rout;
    }

    const SFX(net_layer) *last = &layers[n_layers - 1];
    const int64_t k = last->out_f;
    const double value = SFX(network_loss)(loss, dout, sample_loss, last->out, labels, target,
                                           weights, n, k, nthreads);
    if (!isfinite(value)) return value; /* no gradient and no product are written */
    real *rdout =
        work + SFX(network_hvp_workspace_size)(layers, n_layers, n, simd, nthreads) - n * k;
    if (rin)
        SFX(hvp_loss_hessian)(rdout, last->out, rin, loss, target, weights, n, k);
    else
        memset(rdout, 0, (size_t)(n * k) * sizeof(real));

    const real *delta = dout, *rdelta = rdout;
    for (int64_t i = n_layers - 1; i >= first; i--) {
        const SFX(net_layer) *l = &layers[i];
        const int64_t params = SFX(hvp_weight_size)(l) + SFX(hvp_bias_size)(l);
        offset -= params;
        const SFX(hvp_scratch) s = SFX(hvp_carve)(layers, i, n, scratch, i >= first);
        const real *below = i == 0 ? x : layers[i - 1].out;
        const real *rbelow =
            i == 0 || i <= first ? NULL : SFX(hvp_carve)(layers, i - 1, n, scratch, 1).rout;
        SFX(hvp_layer_backward)(l, s, below, rbelow, delta, rdelta, params ? v + offset : NULL,
                                product + offset, !gauss_newton, n, work, simd, nthreads);
        delta = l->dx, rdelta = s.rdx;
    }
    return value;
}
