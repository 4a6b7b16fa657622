/* Optimizers over flat buffers: dtype-generic bodies of torch.optim.SGD and
 * torch.optim.Adam / AdamW (single-tensor implementation), one step.
 *
 * Included once per translation unit with `real` and SFX(name) defined, after
 * <tgmath.h> and parallel.h; no include guard.
 *
 * Rounding follows torch: a Python scalar handed to a tensor op is rounded to
 * the tensor's dtype as is (lr, momentum, beta2, eps, weight_decay); scalars
 * Python computes first (1 - dampening, 1 - beta1, lr / (1 - beta1^step), ...)
 * are computed in double, then rounded. Each tensor op rounds its result, in
 * torch's operand order. (torch's CPU kernels fuse some multiply-adds, so the
 * two agree to about an ulp per step, not bit for bit.) Element-wise, so any
 * thread split gives the same bytes.
 *
 * Weight decay applies to every element, or only to the elements of the
 * decay ranges when the caller passes them (the weights, not the biases): the
 * updates walk each block of elements in spans cut at the ranges' edges, with
 * the decay on inside a range and off outside, so a decayed element gets the
 * very operations of a decay-everything step and an undecayed one those of a
 * step without decay.
 *
 * Gradient clipping (torch.nn.utils.clip_grad_norm_ and clip_grad_value_) over
 * the flat gradient: the global L2 norm is summed in double in a fixed order
 * (NORM_PARTS parts whose bounds depend on the size only, each summed in
 * element order, then the parts in order), so it does not depend on the
 * thread count. */

#ifndef PYNN_BLOCK
#error "optim_impl.h needs parallel.h included first"
#endif

/* A range function of an update: elements [lo, hi), with the decay on or off. */
typedef void (*SFX(span_fn))(const void *job, int64_t lo, int64_t hi, int decay);

/* fn over [lo, hi) cut at the edges of the decay ranges (n_ranges pairs
 * [start, stop), sorted and disjoint): decay = 1 inside a range, 0 outside.
 * ranges == NULL: every element is decayed, one call. */
static void SFX(decay_spans)(const int64_t *ranges, int64_t n_ranges, int64_t lo, int64_t hi,
                             SFX(span_fn) fn, const void *job) {
    if (!ranges) {
        fn(job, lo, hi, 1);
        return;
    }
    int64_t at = lo;
    for (int64_t r = 0; r < n_ranges && at < hi; ++r) {
        if (ranges[2 * r] >= hi) break;
        const int64_t start = ranges[2 * r] > at ? ranges[2 * r] : at;
        const int64_t stop = ranges[2 * r + 1] < hi ? ranges[2 * r + 1] : hi;
        if (stop <= start) continue; /* before `at`, or empty */
        if (start > at) fn(job, at, start, 0);
        fn(job, start, stop, 1);
        at = stop;
    }
    if (at < hi) fn(job, at, hi, 0);
}

/* Elements [lo, hi). The flags are loop-invariant: the compiler unswitches
 * the loop on them. */
static void SFX(sgd_range)(real *restrict param, real *restrict buf, const real *restrict grad,
                           int64_t lo, int64_t hi, real neg_lr, real mu, real keep, int nesterov,
                           real wd, int decay, int use_buf, int first_step) {
    for (int64_t i = lo; i < hi; ++i) {
        real d = grad[i];
        if (decay) d = d + wd * param[i];            /* grad.add(param, alpha=wd) */
        if (use_buf) {
            /* buf = clone(grad) on the first step, else
             * buf.mul_(mu).add_(grad, alpha=1-dampening) */
            const real b = first_step ? d : buf[i] * mu + keep * d;
            buf[i] = b;
            d = nesterov ? d + mu * b : b;    /* grad.add(buf, alpha=mu) or buf */
        }
        param[i] = param[i] + neg_lr * d;     /* param.add_(grad, alpha=-lr) */
    }
}

typedef struct {
    real *param, *buf;
    const real *grad;
    const int64_t *ranges;
    int64_t n_ranges;
    real neg_lr, mu, keep;
    int nesterov;
    real wd;
    int decay, use_buf, first_step;
} SFX(sgd_job);

static void SFX(sgd_span)(const void *arg, int64_t lo, int64_t hi, int decay) {
    const SFX(sgd_job) *j = arg;
    SFX(sgd_range)(j->param, j->buf, j->grad, lo, hi, j->neg_lr, j->mu, j->keep, j->nesterov,
                   j->wd, j->decay && decay, j->use_buf, j->first_step);
}

static void SFX(sgd_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(sgd_job) *j = arg;
    (void)slot;
    SFX(decay_spans)(j->decay ? j->ranges : NULL, j->n_ranges, lo, hi, SFX(sgd_span), j);
}

void SFX(sgd_update)(real *restrict param, real *restrict buf, const real *restrict grad,
                     const int64_t *restrict decay_ranges, int64_t size, int64_t n_decay_ranges,
                     double lr, double momentum, double dampening, int nesterov,
                     double weight_decay, int first_step, int nthreads) {
    SFX(sgd_job) job = {param,
                        buf,
                        grad,
                        decay_ranges,
                        n_decay_ranges,
                        (real)-lr,
                        (real)momentum,
                        (real)(1.0 - dampening),
                        nesterov,
                        (real)weight_decay,
                        weight_decay != 0,
                        momentum != 0,
                        first_step};
    if (!PYNN_USE_THREADS(size, nthreads)) {
        SFX(sgd_task)(&job, 0, size, 0);
        return;
    }
    pynn_parallel_for(nthreads, size, PYNN_BLOCK, SFX(sgd_task), &job);
}

/* Scalars of one Adam step, rounded to real as torch rounds them. */
typedef struct {
    real wd, shrink, w1, w1_rest, b2, w2, neg_step_size, bias2_sqrt, eps;
    int w1_small, coupled_decay, decoupled_decay;
} SFX(adam_scalars);

/* Elements [lo, hi). */
static void SFX(adam_range)(real *restrict param, real *restrict exp_avg,
                            real *restrict exp_avg_sq, const real *restrict grad, int64_t lo,
                            int64_t hi, const SFX(adam_scalars) *sc, int decay) {
    const SFX(adam_scalars) c = *sc; /* locals: no aliasing with the buffers */
    const int decoupled_decay = decay && c.decoupled_decay;
    const int coupled_decay = decay && c.coupled_decay;
    for (int64_t i = lo; i < hi; ++i) {
        real p = param[i];
        real g = grad[i];
        if (decoupled_decay) p = p * c.shrink;                 /* param.mul_(1 - lr*wd) */
        if (coupled_decay) g = g + c.wd * p;                 /* grad.add(param, alpha=wd) */
        /* exp_avg.lerp_(grad, 1-beta1), torch's two-sided formula */
        const real m0 = exp_avg[i];
        const real m = c.w1_small ? m0 + c.w1 * (g - m0) : g - (g - m0) * c.w1_rest;
        exp_avg[i] = m;
        /* exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2) */
        const real v = exp_avg_sq[i] * c.b2 + c.w2 * g * g;
        exp_avg_sq[i] = v;
        /* denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
         * param.addcdiv_(exp_avg, denom, value=-step_size) */
        const real denom = sqrt(v) / c.bias2_sqrt + c.eps;
        param[i] = p + c.neg_step_size * m / denom;
    }
}

typedef struct {
    real *param, *exp_avg, *exp_avg_sq;
    const real *grad;
    const int64_t *ranges;
    int64_t n_ranges;
    const SFX(adam_scalars) *scalars;
} SFX(adam_job);

static void SFX(adam_span)(const void *arg, int64_t lo, int64_t hi, int decay) {
    const SFX(adam_job) *j = arg;
    SFX(adam_range)(j->param, j->exp_avg, j->exp_avg_sq, j->grad, lo, hi, j->scalars, decay);
}

static void SFX(adam_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(adam_job) *j = arg;
    const int decay = j->scalars->coupled_decay || j->scalars->decoupled_decay;
    (void)slot;
    SFX(decay_spans)(decay ? j->ranges : NULL, j->n_ranges, lo, hi, SFX(adam_span), j);
}

void SFX(adam_update)(real *restrict param, real *restrict exp_avg, real *restrict exp_avg_sq,
                      const real *restrict grad, const int64_t *restrict decay_ranges,
                      int64_t size, int64_t n_decay_ranges, int64_t step, double lr, double beta1,
                      double beta2, double eps, double weight_decay, int decoupled, int nthreads) {
    SFX(adam_scalars) c;
    c.coupled_decay = weight_decay != 0 && !decoupled;
    c.decoupled_decay = weight_decay != 0 && decoupled;
    c.wd = (real)weight_decay;
    c.shrink = (real)(1.0 - lr * weight_decay);
    c.w1 = (real)(1.0 - beta1);
    c.w1_rest = (real)1 - c.w1;               /* torch: opmath_t(1) - weight */
    c.w1_small = fabs(c.w1) < (real)0.5;
    c.b2 = (real)beta2;
    c.w2 = (real)(1.0 - beta2);
    c.neg_step_size = (real) - (lr / (1.0 - pow(beta1, (double)step)));
    /* Python's bias_correction2 ** 0.5 is pow(x, 0.5), not always sqrt(x). */
    c.bias2_sqrt = (real)pow(1.0 - pow(beta2, (double)step), 0.5);
    c.eps = (real)eps;
    SFX(adam_job) job = {param, exp_avg, exp_avg_sq, grad, decay_ranges, n_decay_ranges, &c};
    if (!PYNN_USE_THREADS(size * 4, nthreads)) {
        SFX(adam_task)(&job, 0, size, 0);
        return;
    }
    pynn_parallel_for(nthreads, size, PYNN_BLOCK, SFX(adam_task), &job);
}

/* ---- gradient clipping -------------------------------------------------- */
#define NORM_PARTS 64

typedef struct {
    real *grad;
    int64_t size, part;
    double factor;     /* clip_grad_norm's scale */
    real low, high;    /* clip_grad_value's bounds */
    double *partial;   /* NORM_PARTS sums of squares */
} SFX(clip_job);

/* Parts [lo, hi): each part's sum of squares, in element order, in double (a
 * float squared is exact in double). */
static void SFX(norm_parts)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(clip_job) *j = arg;
    const real *restrict g = j->grad;
    (void)slot;
    for (int64_t p = lo; p < hi; ++p) {
        const int64_t end = (p + 1) * j->part < j->size ? (p + 1) * j->part : j->size;
        double sum = 0;
        for (int64_t i = p * j->part; i < end; ++i) sum += (double)g[i] * (double)g[i];
        j->partial[p] = sum;
    }
}

static void SFX(scale_range)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(clip_job) *j = arg;
    real *restrict g = j->grad;
    const real factor = (real)j->factor;
    (void)slot;
    for (int64_t i = lo; i < hi; ++i) g[i] = g[i] * factor;
}

static void SFX(clamp_range)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(clip_job) *j = arg;
    real *restrict g = j->grad;
    const real low = j->low, high = j->high;
    (void)slot;
    /* torch.clamp: NaN stays NaN (both comparisons are false) */
    for (int64_t i = lo; i < hi; ++i) g[i] = g[i] < low ? low : (g[i] > high ? high : g[i]);
}

/* The L2 norm of grad[0, size): NORM_PARTS parts (the last ones may be
 * empty), each summed in element order, then the parts in order. */
double SFX(grad_norm)(const real *restrict grad, int64_t size, int nthreads) {
    double partial[NORM_PARTS];
    const int64_t part = size > NORM_PARTS ? (size + NORM_PARTS - 1) / NORM_PARTS : 1;
    const int64_t parts = (size + part - 1) / part;
    SFX(clip_job) job = {(real *)grad, size, part, 1.0, 0, 0, partial};
    if (!PYNN_USE_THREADS(size, nthreads))
        SFX(norm_parts)(&job, 0, parts, 0);
    else
        pynn_parallel_for(nthreads, parts, 1, SFX(norm_parts), &job);
    double total = 0;
    for (int64_t p = 0; p < parts; ++p) total += partial[p];
    return sqrt(total);
}

double SFX(clip_grad_norm)(real *restrict grad, int64_t size, double max_norm, int nthreads) {
    const double norm = SFX(grad_norm)(grad, size, nthreads);
    /* torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1; a NaN
     * coefficient (a NaN gradient) is applied as torch applies it */
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0 || coef != coef) {
        SFX(clip_job) job = {grad, size, 0, coef, 0, 0, NULL};
        if (!PYNN_USE_THREADS(size, nthreads))
            SFX(scale_range)(&job, 0, size, 0);
        else
            pynn_parallel_for(nthreads, size, PYNN_BLOCK, SFX(scale_range), &job);
    }
    return norm;
}

void SFX(clip_grad_value)(real *restrict grad, int64_t size, double clip_value, int nthreads) {
    SFX(clip_job) job = {grad, size, 0, 1.0, (real)-clip_value, (real)clip_value, NULL};
    if (!PYNN_USE_THREADS(size, nthreads)) {
        SFX(clamp_range)(&job, 0, size, 0);
        return;
    }
    pynn_parallel_for(nthreads, size, PYNN_BLOCK, SFX(clamp_range), &job);
}

#undef NORM_PARTS
