/* Activations, PReLU, softmax and log-softmax: dtype-generic bodies.
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
static inline real SFX(sigmoid)(real z)
{
    const real e = exp(-fabs(z));
    return (z >= 0 ? (real)1 : e) / ((real)1 + e);
}

/* log(1+exp(z)) = max(z,0) + log1p(exp(-|z|)), finite for every finite z. */
static inline real SFX(softplus)(real z)
{
    return (z > 0 ? z : (real)0) + log1p(exp(-fabs(z)));
}

/* np.sign: -1, 0 or 1 (+0 for -0), NaN for NaN. */
static inline real SFX(sign)(real z)
{
    return z > 0 ? (real)1 : z < 0 ? (real)-1 : z == 0 ? (real)0 : z;
}

/* f(z) for activation `act`; param is leaky_relu's slope or elu's alpha,
 * already rounded to real. */
static inline real SFX(act_value)(real z, pynn_activation act, real param)
{
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
static inline real SFX(act_slope)(real a, real z, pynn_activation act, real param)
{
    switch (act) {
    case PYNN_SIGMOID:
        return a * ((real)1 - a);
    case PYNN_TANH:
        return (real)1 - a * a;
    case PYNN_RELU:
        return a > 0 ? (real)1 : (real)0;
    case PYNN_LEAKY_RELU:
        /* Same test as pynn_activation_saves (param keeps its sign when rounded). */
        if (param >= 0)
            return a > 0 ? (real)1 : param;
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
static inline int64_t SFX(act_cost)(pynn_activation act, int derivative)
{
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
static inline real SFX(row_max)(const real *restrict x, int64_t k)
{
    real m = x[0];
    for (int64_t j = 1; j < k; ++j)
        m = x[j] > m ? x[j] : m;
    return m;
}

/* sum_j exp(x_j - m) with m = row_max(x): each term is in [0, 1] and one is 1,
 * so the sum is in [1, k] (no overflow, log of it is >= 0). Summed in double,
 * in order. e, when not NULL, receives the terms exp(x_j - m). */
static inline double SFX(row_sum_exp)(real *restrict e, const real *restrict x,
                                      int64_t k, real m)
{
    double s = 0;
    if (e) {
        for (int64_t j = 0; j < k; ++j) {
            e[j] = exp(x[j] - m);
            s += e[j];
        }
    } else {
        for (int64_t j = 0; j < k; ++j)
            s += exp(x[j] - m);
    }
    return s;
}

/* ---- element-wise kernels ----------------------------------------------- */

/* Each *_range function does elements (or rows) [lo, hi); the kernel runs it
 * once over everything, or per block / row on the threads. */

/* The switch on `act` runs once per range, so each inner loop is one formula
 * (act is a constant after inlining) and can vectorise. */
static void SFX(act_forward_range)(real *restrict out, const real *restrict x,
                                   int64_t lo, int64_t hi, pynn_activation act,
                                   real param)
{
#define PYNN_ACT_LOOP(ACT)                                                        \
    for (int64_t i = lo; i < hi; ++i)                                             \
        out[i] = SFX(act_value)(x[i], ACT, param)
    switch (act) {
    case PYNN_IDENTITY: PYNN_ACT_LOOP(PYNN_IDENTITY); break;
    case PYNN_SIGMOID: PYNN_ACT_LOOP(PYNN_SIGMOID); break;
    case PYNN_TANH: PYNN_ACT_LOOP(PYNN_TANH); break;
    case PYNN_RELU: PYNN_ACT_LOOP(PYNN_RELU); break;
    case PYNN_LEAKY_RELU: PYNN_ACT_LOOP(PYNN_LEAKY_RELU); break;
    case PYNN_SOFTPLUS: PYNN_ACT_LOOP(PYNN_SOFTPLUS); break;
    case PYNN_ELU: PYNN_ACT_LOOP(PYNN_ELU); break;
    case PYNN_STEP: PYNN_ACT_LOOP(PYNN_STEP); break;
    case PYNN_SIGN: PYNN_ACT_LOOP(PYNN_SIGN); break;
    default: break;
    }
#undef PYNN_ACT_LOOP
}

/* s holds the saved values (a or z, whichever act_slope reads), so it is passed
 * as both; it may be NULL for identity, which reads nothing. */
static void SFX(act_derivative_range)(real *restrict out, const real *restrict s,
                                      int64_t lo, int64_t hi, pynn_activation act,
                                      real param)
{
#define PYNN_ACT_LOOP(ACT)                                                        \
    for (int64_t i = lo; i < hi; ++i)                                             \
        out[i] = SFX(act_slope)(s[i], s[i], ACT, param)
    switch (act) {
    case PYNN_SIGMOID: PYNN_ACT_LOOP(PYNN_SIGMOID); break;
    case PYNN_TANH: PYNN_ACT_LOOP(PYNN_TANH); break;
    case PYNN_RELU: PYNN_ACT_LOOP(PYNN_RELU); break;
    case PYNN_LEAKY_RELU: PYNN_ACT_LOOP(PYNN_LEAKY_RELU); break;
    case PYNN_SOFTPLUS: PYNN_ACT_LOOP(PYNN_SOFTPLUS); break;
    case PYNN_ELU: PYNN_ACT_LOOP(PYNN_ELU); break;
    default: /* identity */
        for (int64_t i = lo; i < hi; ++i)
            out[i] = (real)1;
        break;
    }
#undef PYNN_ACT_LOOP
}

static void SFX(act_backward_range)(real *restrict dz, const real *restrict dout,
                                    const real *restrict s, int64_t lo, int64_t hi,
                                    pynn_activation act, real param)
{
#define PYNN_ACT_LOOP(ACT)                                                        \
    for (int64_t i = lo; i < hi; ++i)                                             \
        dz[i] = dout[i] * SFX(act_slope)(s[i], s[i], ACT, param)
    switch (act) {
    case PYNN_SIGMOID: PYNN_ACT_LOOP(PYNN_SIGMOID); break;
    case PYNN_TANH: PYNN_ACT_LOOP(PYNN_TANH); break;
    case PYNN_RELU: PYNN_ACT_LOOP(PYNN_RELU); break;
    case PYNN_LEAKY_RELU: PYNN_ACT_LOOP(PYNN_LEAKY_RELU); break;
    case PYNN_SOFTPLUS: PYNN_ACT_LOOP(PYNN_SOFTPLUS); break;
    case PYNN_ELU: PYNN_ACT_LOOP(PYNN_ELU); break;
    default: /* identity: dout * 1 */
        for (int64_t i = lo; i < hi; ++i)
            dz[i] = dout[i];
        break;
    }
#undef PYNN_ACT_LOOP
}

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

static void SFX(act_derivative_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(act_job) *j = arg;
    (void)slot;
    SFX(act_derivative_range)(j->out, j->x, lo, hi, j->act, j->param);
}

static void SFX(act_backward_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(act_job) *j = arg;
    (void)slot;
    SFX(act_backward_range)(j->out, j->dout, j->x, lo, hi, j->act, j->param);
}

void SFX(activation_forward)(real *restrict out, const real *restrict x,
                             int64_t size, pynn_activation act, double param,
                             int nthreads)
{
    const real p = (real)param;
    if (!PYNN_USE_THREADS(size * SFX(act_cost)(act, 0), nthreads)) {
        SFX(act_forward_range)(out, x, 0, size, act, p);
        return;
    }
    SFX(act_job) job = {out, x, NULL, size, act, p};
    pynn_parallel_for(nthreads, size, PYNN_BLOCK, SFX(act_forward_task), &job);
}

void SFX(activation_derivative)(real *restrict out, const real *restrict a,
                                const real *restrict z, int64_t size,
                                pynn_activation act, double param, int nthreads)
{
    const real p = (real)param;
    const real *restrict s =
        pynn_activation_saves(act, param) == PYNN_SAVES_OUTPUT ? a : z;
    if (!PYNN_USE_THREADS(size * SFX(act_cost)(act, 1), nthreads)) {
        SFX(act_derivative_range)(out, s, 0, size, act, p);
        return;
    }
    SFX(act_job) job = {out, s, NULL, size, act, p};
    pynn_parallel_for(nthreads, size, PYNN_BLOCK, SFX(act_derivative_task), &job);
}

void SFX(activation_backward)(real *restrict dz, const real *restrict dout,
                              const real *restrict a, const real *restrict z,
                              int64_t size, pynn_activation act, double param,
                              int nthreads)
{
    const real p = (real)param;
    const real *restrict s =
        pynn_activation_saves(act, param) == PYNN_SAVES_OUTPUT ? a : z;
    if (!PYNN_USE_THREADS(size * SFX(act_cost)(act, 1), nthreads)) {
        SFX(act_backward_range)(dz, dout, s, 0, size, act, p);
        return;
    }
    SFX(act_job) job = {dz, s, dout, size, act, p};
    pynn_parallel_for(nthreads, size, PYNN_BLOCK, SFX(act_backward_task), &job);
}

/* ---- PReLU -------------------------------------------------------------- */

/* Rows [lo, hi). */
static void SFX(prelu_forward_range)(real *restrict out, const real *restrict x,
                                     const real *restrict slope, int64_t features,
                                     int shared, int64_t lo, int64_t hi)
{
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

void SFX(prelu_forward)(real *restrict out, const real *restrict x,
                        const real *restrict slope, int64_t n, int64_t features,
                        int shared, int nthreads)
{
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
                                int64_t features, int shared, int64_t lo, int64_t hi)
{
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
                                    const real *restrict x, int64_t n,
                                    int64_t features, int64_t lo, int64_t hi)
{
    for (int64_t j0 = lo; j0 < hi; j0 += PYNN_PRELU_BLOCK) {
        const int64_t w = hi - j0 < PYNN_PRELU_BLOCK ? hi - j0 : PYNN_PRELU_BLOCK;
        double acc[PYNN_PRELU_BLOCK];
        for (int64_t j = 0; j < w; ++j)
            acc[j] = 0;
        for (int64_t i = 0; i < n; ++i) {
            const real *restrict xi = x + i * features + j0;
            const real *restrict gi = dout + i * features + j0;
            for (int64_t j = 0; j < w; ++j) {
                const real v = xi[j];
                acc[j] += gi[j] * (v > 0 ? (real)0 : v);
            }
        }
        for (int64_t j = 0; j < w; ++j)
            dslope[j0 + j] = (real)acc[j];
    }
}

static void SFX(prelu_dslope_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(prelu_job) *j = arg;
    (void)slot;
    SFX(prelu_dslope_range)(j->dslope, j->dout, j->x, j->n, j->features, lo, hi);
}

void SFX(prelu_backward)(real *restrict dx, real *restrict dslope,
                         const real *restrict dout, const real *restrict x,
                         const real *restrict slope, int64_t n, int64_t features,
                         int shared, int nthreads)
{
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
static void SFX(softmax_range)(real *restrict out, const real *restrict x,
                               int64_t k, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; ++i) {
        const real *restrict xi = x + i * k;
        real *restrict oi = out + i * k;
        const real m = SFX(row_max)(xi, k);
        const double s = SFX(row_sum_exp)(oi, xi, k, m);
        for (int64_t j = 0; j < k; ++j)
            oi[j] = (real)(oi[j] / s);
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

void SFX(softmax)(real *restrict out, const real *restrict x, int64_t n,
                  int64_t k, int nthreads)
{
    if (!PYNN_USE_THREADS(n * k * 8, nthreads)) {
        SFX(softmax_range)(out, x, k, 0, n);
        return;
    }
    SFX(softmax_job) job = {out, x, k};
    pynn_parallel_for(nthreads, n, SFX(rows_per_block)(k), SFX(softmax_task), &job);
}

static void SFX(log_softmax_range)(real *restrict out, const real *restrict x,
                                   int64_t k, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; ++i) {
        const real *restrict xi = x + i * k;
        real *restrict oi = out + i * k;
        const real m = SFX(row_max)(xi, k);
        /* log(s) >= 0 and x - m <= 0: no cancellation, no overflow. */
        const real log_s = (real)log(SFX(row_sum_exp)(NULL, xi, k, m));
        for (int64_t j = 0; j < k; ++j)
            oi[j] = (xi[j] - m) - log_s;
    }
}

static void SFX(log_softmax_task)(void *arg, int64_t lo, int64_t hi, int slot) {
    const SFX(softmax_job) *j = arg;
    (void)slot;
    SFX(log_softmax_range)(j->out, j->x, j->k, lo, hi);
}

void SFX(log_softmax)(real *restrict out, const real *restrict x, int64_t n,
                      int64_t k, int nthreads)
{
    if (!PYNN_USE_THREADS(n * k * 8, nthreads)) {
        SFX(log_softmax_range)(out, x, k, 0, n);
        return;
    }
    SFX(softmax_job) job = {out, x, k};
    pynn_parallel_for(nthreads, n, SFX(rows_per_block)(k), SFX(log_softmax_task), &job);
}
