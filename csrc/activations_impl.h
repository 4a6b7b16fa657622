/* Activations: dtype-generic bodies (PReLU, softmax and log-softmax are in
 * prelu_softmax_impl.h, included right after this file).
 *
 * Included once per translation unit by kernels_f32.c / kernels_f64.c, after
 * pynn.h and <tgmath.h>, with `real` and SFX(name) defined (no include guard).
 * <tgmath.h> makes exp, log1p, tanh, ... pick the float or double version.
 *
 * Also defines, for dense_impl.h and losses_impl.h (included after this file):
 *   SFX(act_value)(z, act, param)     f(z)
 *   SFX(act_slope)(a, z, act, param)  f'(.), from a or z as pynn_activation_saves says
 *   SFX(sigmoid)(z), SFX(softplus)(z), SFX(sign)(z)
 *   SFX(row_max)(x, k), SFX(row_sum_exp)(e, x, k, m)
 */

/* ---- per-element helpers ------------------------------------------------ */

/* 1/(1+exp(-z)) without overflow: exp only ever sees -|z| <= 0.
 * z >= 0: 1/(1+exp(-z)); z < 0: exp(z)/(1+exp(z)). NaN gives NaN. */
static inline real SFX(sigmoid)(real z) {
    const real e = exp(-fabs(z));
    return (z >= 0 ? (real)1 : e) / ((real)1 + e);
}

/* log(1+exp(z)) = max(z,0) + log1p(exp(-|z|)), finite for every finite z. */
static inline real SFX(softplus)(real z) { return (z > 0 ? z : (real)0) + log1p(exp(-fabs(z))); }

/* np.sign: -1, 0 or 1 (+0 for -0), NaN for NaN. */
static inline real SFX(sign)(real z) {
    return z > 0 ? (real)1 : z < 0 ? (real)-1 : z == 0 ? (real)0 : z;
}

/* f(z) for activation `act`; param is leaky_relu's slope or elu's alpha,
 * already rounded to real. */
static inline real SFX(act_value)(real z, pynn_activation act, real param) {
    switch (act) {
    case PYNN_IDENTITY:
        return z;
    case PYNN_SIGMOID:
        return SFX(sigmoid)(z);
    case PYNN_TANH:
        return tanh(z);
    case PYNN_RELU:
        return z < 0 ? (real)0 : z; /* not z > 0 ? z : 0, so NaN stays NaN */
    case PYNN_LEAKY_RELU:
        return z < 0 ? param * z : z;
    case PYNN_SOFTPLUS:
        return SFX(softplus)(z);
    case PYNN_ELU:
        return z > 0 ? z : param * expm1(z);
    case PYNN_STEP: /* np.heaviside(z, 0): NaN stays NaN */
        return z > 0 ? (real)1 : z <= 0 ? (real)0 : z;
    case PYNN_SIGN:
        return SFX(sign)(z);
    default:
        return z;
    }
}

/* f'(.) for activation `act`, reading only the value pynn_activation_saves
 * names: a = f(z) for sigmoid, tanh, relu and leaky_relu with param >= 0; z for
 * softplus, elu and leaky_relu with param < 0; neither for identity. The other
 * argument is ignored (pass anything, e.g. 0 or the same value).
 * Never called for step or sign. */
static inline real SFX(act_slope)(real a, real z, pynn_activation act, real param) {
    switch (act) {
    case PYNN_SIGMOID:
        return a * ((real)1 - a);
    case PYNN_TANH:
        return (real)1 - a * a;
    case PYNN_RELU:
        return a > 0 ? (real)1 : (real)0;
    case PYNN_LEAKY_RELU:
        /* Same test as pynn_activation_saves (param keeps its sign when rounded). */
        if (param >= 0) return a > 0 ? (real)1 : param;
        return z > 0 ? (real)1 : param;
    case PYNN_SOFTPLUS:
        return SFX(sigmoid)(z);
    case PYNN_ELU:
        return z > 0 ? (real)1 : param * exp(z);
    default: /* identity */
        return (real)1;
    }
}

/* Rough cost of one element of f (derivative = 0) or f' (derivative = 1),
 * relative to a copy, for the parallel threshold. */
static inline int64_t SFX(act_cost)(pynn_activation act, int derivative) {
    switch (act) {
    case PYNN_SIGMOID:
    case PYNN_TANH:
        return derivative ? 1 : 8;
    case PYNN_SOFTPLUS:
    case PYNN_ELU:
        return 8;
    default:
        return 1;
    }
}

/* ---- row helpers for softmax and the losses ----------------------------- */

/* max_j x_j, k >= 1. A NaN in the row is caught later: exp(NaN - m) is NaN. */
static inline real SFX(row_max)(const real *restrict x, int64_t k) {
    real m = x[0];
    for (int64_t j = 1; j < k; ++j) m = x[j] > m ? x[j] : m;
    return m;
}

/* sum_j exp(x_j - m) with m = row_max(x): each term is in [0, 1] and one is 1,
 * so the sum is in [1, k] (no overflow, log of it is >= 0). Summed in double,
 * in order. e, when not NULL, receives the terms exp(x_j - m). */
static inline double SFX(row_sum_exp)(real *restrict e, const real *restrict x, int64_t k,
                                      real m) {
    double s = 0;
    if (e) {
        for (int64_t j = 0; j < k; ++j) {
            e[j] = exp(x[j] - m);
            s += e[j];
        }
    } else {
        for (int64_t j = 0; j < k; ++j) s += exp(x[j] - m);
    }
    return s;
}

/* ---- element-wise kernels ----------------------------------------------- */

/* Each *_range function does elements (or rows) [lo, hi); the kernel runs it
 * once over everything, or per block / row on the threads. */

/* The switch on `act` runs once per range, so each inner loop is one formula
 * (act is a constant after inlining) and can vectorise. PYNN_ACT_CASES(LOOP): the
 * cases of the six activations with a derivative other than 1, each running
 * LOOP(ACT) with ACT a constant; the value and slope loops share them. */
#define PYNN_ACT_CASES(LOOP)   \
    case PYNN_SIGMOID:         \
        LOOP(PYNN_SIGMOID);    \
        break;                 \
    case PYNN_TANH:            \
        LOOP(PYNN_TANH);       \
        break;                 \
    case PYNN_RELU:            \
        LOOP(PYNN_RELU);       \
        break;                 \
    case PYNN_LEAKY_RELU:      \
        LOOP(PYNN_LEAKY_RELU); \
        break;                 \
    case PYNN_SOFTPLUS:        \
        LOOP(PYNN_SOFTPLUS);   \
        break;                 \
    case PYNN_ELU:             \
        LOOP(PYNN_ELU);        \
        break;

static void SFX(act_forward_range)(real *restrict out, const real *restrict x, int64_t lo,
                                   int64_t hi, pynn_activation act, real param) {
#define PYNN_ACT_LOOP(ACT) \
    for (int64_t i = lo; i < hi; ++i) out[i] = SFX(act_value)(x[i], ACT, param)
    switch (act) {
        PYNN_ACT_CASES(PYNN_ACT_LOOP) /* sigmoid to elu */
    case PYNN_IDENTITY:
        PYNN_ACT_LOOP(PYNN_IDENTITY);
        break;
    case PYNN_STEP:
        PYNN_ACT_LOOP(PYNN_STEP);
        break;
    case PYNN_SIGN:
        PYNN_ACT_LOOP(PYNN_SIGN);
        break;
    default:
        break;
    }
#undef PYNN_ACT_LOOP
}

/* out = f'(s), or dout * f'(s) when dout is not NULL (the backward pass): one
 * function for both, as they share the dispatch; dout is tested once per range,
 * outside the loops. s holds the saved values (a or z, whichever act_slope reads),
 * so it is passed as both; it may be NULL for identity, which reads nothing. */
static void SFX(act_slope_range)(real *restrict out, const real *restrict dout,
                                 const real *restrict s, int64_t lo, int64_t hi,
                                 pynn_activation act, real param) {
#define PYNN_ACT_LOOP(ACT)                                             \
    if (dout)                                                          \
        for (int64_t i = lo; i < hi; ++i)                              \
            out[i] = dout[i] * SFX(act_slope)(s[i], s[i], ACT, param); \
    else                                                               \
        for (int64_t i = lo; i < hi; ++i) out[i] = SFX(act_slope)(s[i], s[i], ACT, param)
    switch (act) {
        PYNN_ACT_CASES(PYNN_ACT_LOOP) /* sigmoid to elu */
    default: /* identity: f' = 1, dout * 1 = dout */
        if (dout)
            for (int64_t i = lo; i < hi; ++i) out[i] = dout[i];
        else
            for (int64_t i = lo; i < hi; ++i) out[i] = (real)1;
        break;
    }
#undef PYNN_ACT_LOOP
}

#undef PYNN_ACT_CASES

/* Rows of `width` elements that make about PYNN_BLOCK elements: the rows one
 * range of a row-wise kernel hands a thread. */
static inline int64_t SFX(rows_per_block)(int64_t width) {
    return width >= PYNN_BLOCK ? 1 : PYNN_BLOCK / (width > 0 ? width : 1);
}

/* An element-wise activation kernel's loop, for pynn_parallel_for. */
typedef struct {
    real *out;
    const real *x, *dout;
    int64_t size;
    pynn_activation act;
    real param;
} SFX(act_job);

static void SFX(act_forward_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(act_job) *j = arg;
    (void)slot;
    SFX(act_forward_range)(j->out, j->x, lo, hi, j->act, j->param);
}

static void SFX(act_slope_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(act_job) *j = arg;
    (void)slot;
    SFX(act_slope_range)(j->out, j->dout, j->x, lo, hi, j->act, j->param);
}

void SFX(activation_forward)(real *restrict out, const real *restrict x, int64_t size,
                             pynn_activation act, double param, int nthreads) {
    const real p = (real)param;
    if (!PYNN_USE_THREADS(size * SFX(act_cost)(act, 0), nthreads)) {
        SFX(act_forward_range)(out, x, 0, size, act, p);
        return;
    }
    SFX(act_job) job = {out, x, NULL, size, act, p};
    pynn_parallel_for(nthreads, size, PYNN_BLOCK, SFX(act_forward_task), &job);
}

/* activation_derivative (dout NULL) and activation_backward. */
static void SFX(act_slope_run)(real *restrict out, const real *restrict dout,
                               const real *restrict a, const real *restrict z, int64_t size,
                               pynn_activation act, double param, int nthreads) {
    const real p = (real)param;
    const real *restrict s = pynn_activation_saves(act, param) == PYNN_SAVES_OUTPUT ? a : z;
    if (!PYNN_USE_THREADS(size * SFX(act_cost)(act, 1), nthreads)) {
        SFX(act_slope_range)(out, dout, s, 0, size, act, p);
        return;
    }
    SFX(act_job) job = {out, s, dout, size, act, p};
    pynn_parallel_for(nthreads, size, PYNN_BLOCK, SFX(act_slope_task), &job);
}

void SFX(activation_derivative)(real *restrict out, const real *restrict a, const real *restrict z,
                                int64_t size, pynn_activation act, double param, int nthreads) {
    SFX(act_slope_run)(out, NULL, a, z, size, act, param, nthreads);
}

void SFX(activation_backward)(real *restrict dz, const real *restrict dout, const real *restrict a,
                              const real *restrict z, int64_t size, pynn_activation act,
                              double param, int nthreads) {
    SFX(act_slope_run)(dz, dout, a, z, size, act, param, nthreads);
}
