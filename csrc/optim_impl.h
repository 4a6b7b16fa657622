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
 * thread split gives the same bytes. */

#ifndef PYNN_BLOCK
#error "optim_impl.h needs parallel.h included first"
#endif

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
    real neg_lr, mu, keep;
    int nesterov;
    real wd;
    int decay, use_buf, first_step;
} SFX(sgd_job);

static void SFX(sgd_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(sgd_job) *j = arg;
    (void)slot;
    SFX(sgd_range)(j->param, j->buf, j->grad, lo, hi, j->neg_lr, j->mu, j->keep, j->nesterov,
                   j->wd, j->decay, j->use_buf, j->first_step);
}

void SFX(sgd_update)(real *restrict param, real *restrict buf, const real *restrict grad,
                     int64_t size, double lr, double momentum, double dampening, int nesterov,
                     double weight_decay, int first_step, int nthreads) {
    const int decay = weight_decay != 0;
    const int use_buf = momentum != 0;
    const real wd = (real)weight_decay;
    const real mu = (real)momentum;
    const real keep = (real)(1.0 - dampening);
    const real neg_lr = (real)-lr;
    if (!PYNN_USE_THREADS(size, nthreads)) {
        SFX(sgd_range)(param, buf, grad, 0, size, neg_lr, mu, keep, nesterov, wd, decay, use_buf,
                       first_step);
        return;
    }
    SFX(sgd_job) job = {param,    buf, grad,  neg_lr,  mu,        keep,
                        nesterov, wd,  decay, use_buf, first_step};
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
                            int64_t hi, const SFX(adam_scalars) *sc) {
    const SFX(adam_scalars) c = *sc; /* locals: no aliasing with the buffers */
    for (int64_t i = lo; i < hi; ++i) {
        real p = param[i];
        real g = grad[i];
        if (c.decoupled_decay) p = p * c.shrink;                 /* param.mul_(1 - lr*wd) */
        if (c.coupled_decay) g = g + c.wd * p;                 /* grad.add(param, alpha=wd) */
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
    const SFX(adam_scalars) *scalars;
} SFX(adam_job);

static void SFX(adam_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(adam_job) *j = arg;
    (void)slot;
    SFX(adam_range)(j->param, j->exp_avg, j->exp_avg_sq, j->grad, lo, hi, j->scalars);
}

void SFX(adam_update)(real *restrict param, real *restrict exp_avg, real *restrict exp_avg_sq,
                      const real *restrict grad, int64_t size, int64_t step, double lr,
                      double beta1, double beta2, double eps, double weight_decay, int decoupled,
                      int nthreads) {
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
    if (!PYNN_USE_THREADS(size * 4, nthreads)) {
        SFX(adam_range)(param, exp_avg, exp_avg_sq, grad, 0, size, &c);
        return;
    }
    SFX(adam_job) job = {param, exp_avg, exp_avg_sq, grad, &c};
    pynn_parallel_for(nthreads, size, PYNN_BLOCK, SFX(adam_task), &job);
}
