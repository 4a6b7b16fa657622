/* pynn's C API: every kernel, for float (_f32) and double (_f64).
 *
 * Conventions (shared/DESIGN.md):
 * - Row-major, batch first. Sizes are int64_t; a (rows, cols) matrix argument
 *   is contiguous unless a leading dimension (ld*) is passed with it.
 * - Arguments: outputs first, then const inputs, then sizes and scalars, then
 *   the caller's workspace, then the thread count.
 * - Scalars (learning rates, alpha, ...) come as double and are rounded to the
 *   kernel's type where torch's tensor ops would round them.
 * - Outputs never overlap inputs (except the optimizer state updated in place);
 *   the Cython layer checks this, so pointers are restrict.
 * - Results do not depend on nthreads: work is split over rows or columns,
 *   never over a reduction.
 * - The C code trusts its inputs: pynn/_kernels.pyx validates them.
 *
 * This header declares the API twice: it includes itself once for float and
 * once for double, with `real` and `SFX(name)` defined for each pass.
 */
#ifndef PYNN_API_PASS
#ifndef PYNN_H
#define PYNN_H

#include <stddef.h>
#include <stdint.h>

/* Element-wise activations. The numbering is part of the API (Cython uses it). */
typedef enum {
    PYNN_IDENTITY = 0,
    PYNN_SIGMOID = 1,    /* derivative from the output: a(1-a) */
    PYNN_TANH = 2,       /* derivative from the output: 1-a^2 */
    PYNN_RELU = 3,       /* derivative from the output: a > 0 */
    PYNN_LEAKY_RELU = 4, /* param = negative slope; from the output if slope >= 0 */
    PYNN_SOFTPLUS = 5,   /* derivative from the input: sigmoid(z) */
    PYNN_ELU = 6,        /* param = alpha; derivative from the input */
    PYNN_STEP = 7,       /* inference only: 1 for z > 0, 0 for z <= 0 */
    PYNN_SIGN = 8,       /* inference only: -1, 0, 1 */
    PYNN_N_ACTIVATIONS = 9
} pynn_activation;

/* What an activation's derivative reads, so callers keep only that. */
typedef enum {
    PYNN_SAVES_NOTHING = 0, /* identity: f' = 1 */
    PYNN_SAVES_OUTPUT = 1,  /* a = f(z) */
    PYNN_SAVES_INPUT = 2,   /* z */
    PYNN_NOT_DIFFERENTIABLE = 3 /* step, sign */
} pynn_saved;

pynn_saved pynn_activation_saves(pynn_activation act, double param);

/* Losses of the whole training step (network_step). The numbering is part
 * of the API (Cython uses it). */
typedef enum {
    PYNN_LOSS_MSE = 0,
    PYNN_LOSS_L1 = 1,
    PYNN_LOSS_SIGMOID_BCE = 2,       /* sigmoid_binary_cross_entropy */
    PYNN_LOSS_SOFTMAX_CE_LABELS = 3, /* softmax_cross_entropy_labels */
    PYNN_LOSS_SOFTMAX_CE_PROBS = 4,  /* softmax_cross_entropy_probs */
    PYNN_LOSS_HINGE = 5,
    PYNN_LOSS_POISSON = 6, /* poisson: the model's output is the log-rate */
    PYNN_N_LOSSES = 7
} pynn_loss;

/* Layer kinds of a network record (network_forward, network_step). The
 * numbering is part of the API (Cython uses it). */
typedef enum {
    PYNN_LAYER_DENSE = 0,       /* out = f(x w^T + b) */
    PYNN_LAYER_ACTIVATION = 1,  /* out = f(x) */
    PYNN_LAYER_PRELU = 2,       /* out = x > 0 ? x : slope x */
    PYNN_LAYER_MAXOUT = 3,      /* out_j = max over p of (x w^T + b)_{j pieces + p} */
    PYNN_LAYER_STANDARDIZE = 4, /* out = (x - mean) / scale */
    PYNN_LAYER_DROPOUT = 5,     /* training: out = x * mask; else out = x */
    PYNN_N_LAYER_KINDS = 6
} pynn_layer_kind;

/* Threads (csrc/threadpool.c): every kernel runs on at most its nthreads
 * argument's threads, the caller and workers of pynn's pool.
 * pynn_threads_start makes sure a call can use nthreads threads, starting the
 * workers it lacks; it returns how many it can use (fewer when the system
 * refused to start a thread). pynn_usable_cpus: the CPUs this process may run
 * on. pynn_threads_enabled: 0 when the build has no threads (one each call). */
int pynn_threads_start(int nthreads);
int pynn_usable_cpus(void);
int pynn_threads_enabled(void);

/* Vector code paths of the matrix kernels. The numbering is part of the API:
 * every matrix kernel takes one as its `simd` argument (the Cython layer
 * holds the chosen path, so C keeps no global state). A path the CPU lacks
 * must not be passed; an unknown number runs the generic path. */
typedef enum {
    PYNN_SIMD_GENERIC = 0, /* portable C, any CPU (also the aarch64 path) */
    PYNN_SIMD_AVX2 = 1,    /* x86-64 AVX2 + FMA */
    PYNN_SIMD_AVX512 = 2,  /* x86-64 AVX-512F */
    PYNN_N_SIMD = 3
} pynn_simd;

/* Whether this build and this CPU can run a path; the best one they can;
 * a short description of a path, for pynn.show_config(). */
int pynn_simd_supported(int simd);
int pynn_simd_best(void);
const char *pynn_simd_describe(int simd);

#define PYNN_API_PASS 1
#define real float
#define SFX(name) name##_f32
#include "pynn.h"
#undef real
#undef SFX
#define real double
#define SFX(name) name##_f64
#include "pynn.h"
#undef real
#undef SFX
#undef PYNN_API_PASS

#endif /* PYNN_H */
#else /* PYNN_API_PASS: the per-dtype declarations */

/* ---- gemm ------------------------------------------------------------- */
/* C = alpha * op(A) * op(B) + beta * C; beta == 0 overwrites C without reading it,
 * alpha == 0 (or k == 0) reads neither A nor B, as in BLAS.
 * c is (m, n) with row stride ldc >= n.
 * a is (m, k) with lda >= k, or (k, m) with lda >= m when trans_a.
 * b is (k, n) with ldb >= n, or (n, k) with ldb >= k when trans_b.
 * work holds gemm_workspace_size(m, n, k, simd, nthreads) reals, for the same
 * simd path (the packing buffers' size depends on the path's tile sizes). */
int64_t SFX(gemm_workspace_size)(int64_t m, int64_t n, int64_t k, int simd, int nthreads);
void SFX(gemm)(real *restrict c, const real *restrict a, const real *restrict b, int64_t m,
               int64_t n, int64_t k, double alpha, double beta, int trans_a, int trans_b,
               int64_t lda, int64_t ldb, int64_t ldc, real *restrict work, int simd, int nthreads);

/* The same product by the plain GEMM (csrc/gemm_plain_impl.h): a few loops, one
 * thread, no workspace; bitwise gemm's result on the same simd path. The C-level
 * reference of the tests. */
void SFX(gemm_plain)(real *restrict c, const real *restrict a, const real *restrict b, int64_t m,
                     int64_t n, int64_t k, double alpha, double beta, int trans_a, int trans_b,
                     int64_t lda, int64_t ldb, int64_t ldc, int simd);

/* ---- dense layer ------------------------------------------------------ */
/* out = f(x w^T + b).
 * out is (n, out_f); z is (n, out_f) or NULL: if given, it receives x w^T + b.
 * x is (n, in_f); w is (out_f, in_f); b is (out_f) or NULL.
 * work holds dense_forward_workspace_size(n, in_f, out_f, simd, nthreads) reals. */
int64_t SFX(dense_forward_workspace_size)(int64_t n, int64_t in_f, int64_t out_f, int simd,
                                          int nthreads);
void SFX(dense_forward)(real *restrict out, real *restrict z, const real *restrict x,
                        const real *restrict w, const real *restrict b, int64_t n, int64_t in_f,
                        int64_t out_f, pynn_activation act, double param, real *restrict work,
                        int simd, int nthreads);

/* dZ = dout * f'(a or z); dw = dZ^T x; db = column sums of dZ; dx = dZ w, each
 * overwritten.
 * dw is (out_f, in_f); db is (out_f) or NULL (no bias); dx is (n, in_f) or NULL.
 * dout is (n, out_f); x is (n, in_f); w is (out_f, in_f).
 * a (the forward's output) and z (its pre-activation) are (n, out_f); only the
 * one pynn_activation_saves names is read, the other may be NULL.
 * work holds dense_backward_workspace_size(...) reals. */
int64_t SFX(dense_backward_workspace_size)(int64_t n, int64_t in_f, int64_t out_f, int simd,
                                           int nthreads);
void SFX(dense_backward)(real *restrict dw, real *restrict db, real *restrict dx,
                         const real *restrict dout, const real *restrict x, const real *restrict w,
                         const real *restrict a, const real *restrict z, int64_t n, int64_t in_f,
                         int64_t out_f, pynn_activation act, double param, real *restrict work,
                         int simd, int nthreads);

/* ---- activations (element-wise over `size` contiguous values) ---------- */
/* out = f(x). */
void SFX(activation_forward)(real *restrict out, const real *restrict x, int64_t size,
                             pynn_activation act, double param, int nthreads);
/* out = f'(.), read from a (output) or z (input) as pynn_activation_saves says.
 * Not for PYNN_STEP or PYNN_SIGN. */
void SFX(activation_derivative)(real *restrict out, const real *restrict a, const real *restrict z,
                                int64_t size, pynn_activation act, double param, int nthreads);
/* dz = dout * f'(.). */
void SFX(activation_backward)(real *restrict dz, const real *restrict dout, const real *restrict a,
                              const real *restrict z, int64_t size, pynn_activation act,
                              double param, int nthreads);

/* PReLU: out = x > 0 ? x : slope * x.
 * out, x are (n, features); slope is (features), or (1) when shared. */
void SFX(prelu_forward)(real *restrict out, const real *restrict x, const real *restrict slope,
                        int64_t n, int64_t features, int shared, int nthreads);
/* dx = dout * (x > 0 ? 1 : slope)  (dx may be NULL);
 * dslope = sum over rows (and over features when shared) of dout * (x > 0 ? 0 : x).
 * dslope is (features), or (1) when shared. */
void SFX(prelu_backward)(real *restrict dx, real *restrict dslope, const real *restrict dout,
                         const real *restrict x, const real *restrict slope, int64_t n,
                         int64_t features, int shared, int nthreads);

/* Row-wise softmax and log-softmax: out, x are (n, k), k >= 1. */
void SFX(softmax)(real *restrict out, const real *restrict x, int64_t n, int64_t k, int nthreads);
void SFX(log_softmax)(real *restrict out, const real *restrict x, int64_t n, int64_t k,
                      int nthreads);

/* ---- losses ----------------------------------------------------------- */
/* Each returns the (weighted) mean over samples of the per-sample loss
 * (summed over outputs): sum_i w_i l_i / sum_i w_i, or the plain mean when
 * weights is NULL. Sums are taken in double, in row order.
 * grad (dlogits / dpred) is (n, k) or NULL: c_i * (dl_i / dlogits_i) with
 * c_i = w_i / sum w (1/n without weights).
 * sample_loss is (n), never NULL: receives the unweighted per-sample losses l_i.
 * logits / pred / target are (n, k); weights is (n) or NULL. n >= 1. */

/* l_i = logsumexp(z_i) - z_i[labels_i]; grad = c_i (softmax(z_i) - onehot). */
double SFX(softmax_cross_entropy_labels)(real *restrict dlogits, real *restrict sample_loss,
                                         const real *restrict logits,
                                         const int64_t *restrict labels,
                                         const real *restrict weights, int64_t n, int64_t k,
                                         int nthreads);
/* l_i = sum_j y_ij (logsumexp(z_i) - z_ij); grad = c_i (softmax(z_i) sum_j y_ij - y_i). */
double SFX(softmax_cross_entropy_probs)(real *restrict dlogits, real *restrict sample_loss,
                                        const real *restrict logits, const real *restrict target,
                                        const real *restrict weights, int64_t n, int64_t k,
                                        int nthreads);
/* l_i = sum_j max(z,0) - z y + log1p(exp(-|z|)); grad = c_i (sigmoid(z) - y). */
double SFX(sigmoid_binary_cross_entropy)(real *restrict dlogits, real *restrict sample_loss,
                                         const real *restrict logits, const real *restrict target,
                                         const real *restrict weights, int64_t n, int64_t k,
                                         int nthreads);
/* l_i = 1/2 sum_j (pred - y)^2; grad = c_i (pred - y). */
double SFX(mse)(real *restrict dpred, real *restrict sample_loss, const real *restrict pred,
                const real *restrict target, const real *restrict weights, int64_t n, int64_t k,
                int nthreads);
/* l_i = sum_j |pred - y|; grad = c_i sign(pred - y). */
double SFX(l1)(real *restrict dpred, real *restrict sample_loss, const real *restrict pred,
               const real *restrict target, const real *restrict weights, int64_t n, int64_t k,
               int nthreads);
/* y in {-1, +1}: l_i = sum_j max(0, 1 - y pred); grad = c_i (y pred < 1 ? -y : 0). */
double SFX(hinge)(real *restrict dpred, real *restrict sample_loss, const real *restrict pred,
                  const real *restrict target, const real *restrict weights, int64_t n, int64_t k,
                  int nthreads);
/* pred the log-rate z, y >= 0: l_i = sum_j exp(z) - y + y log(y / exp(z)) (half the
 * Poisson deviance, 0 log 0 = 0); grad = c_i (exp(z) - y). */
double SFX(poisson)(real *restrict dpred, real *restrict sample_loss, const real *restrict pred,
                    const real *restrict target, const real *restrict weights, int64_t n,
                    int64_t k, int nthreads);

/* ---- optimizers (flat buffers of `size` values, updated in place) ------ */
/* decay_ranges: NULL (weight decay on every element) or n_decay_ranges pairs
 * [start, stop) within [0, size], sorted and disjoint: weight decay on their
 * elements only (the weights, not the biases). */
/* torch.optim.SGD, one step. buf may be NULL when momentum == 0.
 * first_step: the momentum buffer is set to the gradient instead of updated. */
void SFX(sgd_update)(real *restrict param, real *restrict buf, const real *restrict grad,
                     const int64_t *restrict decay_ranges, int64_t size, int64_t n_decay_ranges,
                     double lr, double momentum, double dampening, int nesterov,
                     double weight_decay, int first_step, int nthreads);
/* torch.optim.Adam (decoupled = 0) or AdamW (decoupled = 1), step >= 1. */
void SFX(adam_update)(real *restrict param, real *restrict exp_avg, real *restrict exp_avg_sq,
                      const real *restrict grad, const int64_t *restrict decay_ranges,
                      int64_t size, int64_t n_decay_ranges, int64_t step, double lr, double beta1,
                      double beta2, double eps, double weight_decay, int decoupled, int nthreads);
/* The L2 norm of grad, summed in double in an order that depends on size only. */
double SFX(grad_norm)(const real *restrict grad, int64_t size, int nthreads);
/* torch.nn.utils.clip_grad_norm_: grad *= max_norm / (norm + 1e-6) when that
 * is below 1 (max_norm > 0); returns the norm before clipping. */
double SFX(clip_grad_norm)(real *restrict grad, int64_t size, double max_norm, int nthreads);
/* torch.nn.utils.clip_grad_value_: grad clamped to [-clip_value, clip_value]. */
void SFX(clip_grad_value)(real *restrict grad, int64_t size, double clip_value, int nthreads);

/* ---- metrics ------------------------------------------------------------ */
/* out is (n, k), labels is (n,): the number of rows whose argmax (the first
 * largest value, or the first NaN, as np.argmax) equals labels[i]. */
int64_t SFX(count_argmax_hits)(const real *restrict out, const int64_t *restrict labels, int64_t n,
                               int64_t k);

/* ---- a network: forward pass and training step over layer records ----- */
/* One layer of a network on a batch of n rows: in_f input and out_f output
 * features; its input is the previous record's out (the first one's: x).
 * Per kind (rows = out_f for DENSE, out_f * pieces for MAXOUT):
 *  DENSE       w (rows, in_f), b (rows) or NULL, act and param, z (n, out_f)
 *              receives x w^T + b when the activation's derivative reads its
 *              input (pynn_activation_saves) and the pass trains, else NULL;
 *  MAXOUT      w, b as DENSE (rows = out_f * pieces: output j's pieces are rows
 *              j*pieces ...), z (n, rows) the affine outputs; argmax (n, out_f)
 *              receives each output's winning piece (the first largest, or the
 *              first NaN, as np.argmax) and dz (n, rows) is the backward's
 *              scratch: both NULL for a forward pass that does not train;
 *  ACTIVATION  act and param, in_f == out_f;
 *  PRELU       w the slopes (out_f), or (1) when shared; in_f == out_f;
 *  STANDARDIZE w the means, b the scales (in_f), in_f == out_f;
 *  DROPOUT     param the drop probability p in [0, 1), stream the two words
 *              (seed, step) of its random stream, in_f == out_f; mask (n, out_f)
 *              receives the multipliers of a pass that trains (0 for a dropped
 *              element, (real)(1 / (1 - p)) for a kept one: csrc/dropout_impl.h)
 *              and out = x * mask; NULL for a forward pass that does not train,
 *              which copies x (the identity). The mask depends only on (seed,
 *              step, the record's index in the array, the element's index).
 * dw and db receive the gradients of w and b (NULL for the kinds without
 * them, and for a forward pass); dx (n, in_f) the input gradient, NULL when
 * no layer before this one has parameters (the backward pass stops there).
 * out is (n, out_f) always. */
typedef struct {
    pynn_layer_kind kind;
    int64_t in_f;
    int64_t out_f;
    const real *w;
    const real *b;
    real *dw;
    real *db;
    pynn_activation act;
    double param;
    int64_t pieces;
    int shared;
    real *out;
    real *z;
    real *dz;
    int64_t *argmax;
    real *dx;
    real *mask;
    const uint64_t *stream;
} SFX(net_layer);

/* The workspace network_forward (training = 0) or network_step and
 * network_backward (training = 1) need: the largest of their dense kernels'. */
int64_t SFX(network_workspace_size)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                                    int training, int simd, int nthreads);

/* Every layer's forward pass over x (n, in_f of layer 0), layer i reading
 * layer i-1's out. A layer's out, z and argmax must not overlap its input
 * and parameters, but may be another layer's (inference ping-pongs two
 * output buffers). The result is the last layer's out. */
void SFX(network_forward)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                          const real *restrict x, real *restrict work, int simd, int nthreads);

/* The backward pass after network_forward on x with training buffers: from
 * dout (n, out_f of the last layer), overwrites every dw, db and dx down to
 * the first layer with a dx of NULL (or the first layer). */
void SFX(network_backward)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                           const real *restrict x, const real *restrict dout, real *restrict work,
                           int simd, int nthreads);

/* One training step without the update, in one call:
 *  - when X is not NULL, x (n, in_f of layer 0) = rows `rows` of X (in_f
 *    columns, rows in range) and, when W (the weights of X's rows) is not
 *    NULL, w (n) = W[rows]; when X is NULL, x already holds the batch and w
 *    its weights (W is not read);
 *  - the batch's weights are w, or none (the plain mean) when W is NULL (X
 *    given) or w is NULL (X NULL): the loss is sum_i w_i l_i / sum_i w_i and
 *    its gradient's row i is scaled by w_i / sum_i w_i (see the losses);
 *  - network_forward;
 *  - the loss against `labels` (n) for PYNN_LOSS_SOFTMAX_CE_LABELS, else
 *    `target` (n, k), k the last layer's out_f; its gradient into dout (n, k)
 *    and the per-sample losses into sample_loss (n);
 *  - when the loss is finite, network_backward; when it is not, no gradient
 *    is written;
 *  - when hits is not NULL (labels only), *hits = count_argmax_hits(out, labels).
 * Returns the mean loss. Every buffer is distinct; the result does not depend
 * on nthreads. */
double SFX(network_step)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                         const real *restrict X, const int64_t *restrict rows, real *restrict x,
                         const real *restrict W, real *restrict w, pynn_loss loss,
                         const int64_t *restrict labels, const real *restrict target,
                         real *restrict dout, real *restrict sample_loss, int64_t *restrict hits,
                         real *restrict work, int simd, int nthreads);

/* Hessian- (gauss_newton = 0) or Gauss-Newton-vector (gauss_newton = 1) product of
 * the training loss over the parameters of every record, flattened in record order
 * (each record's w, then its b when it has one; PRELU: its slopes; see
 * pynn/reference_hvp.py for the maths): product = H v (or J^T H_out J v, H_out the
 * loss's Hessian with respect to the output; 0 for l1 and hinge), both vectors holding
 * every parameter. x (n, in_f of layer 0) holds the batch, weights (n) its weights or
 * NULL (the plain mean), labels or target as for network_step. Runs the forward pass,
 * the loss (into dout and sample_loss), the backward pass (overwriting dw, db and dx as
 * network_backward) and, beside them, the R-forward and R-backward passes; Dropout's
 * mask and Maxout's argmax are those of this forward pass, held fixed. Returns the
 * mean loss; when it is not finite, no gradient and no product are written. work holds
 * network_hvp_workspace_size(...) reals (records of a training network). The result
 * does not depend on nthreads. */
int64_t SFX(network_hvp_workspace_size)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                                        int simd, int nthreads);
double SFX(network_hvp)(const SFX(net_layer) *layers, int64_t n_layers, int64_t n,
                        real *restrict product, real *restrict dout, real *restrict sample_loss,
                        const real *restrict x, const real *restrict weights, pynn_loss loss,
                        const int64_t *restrict labels, const real *restrict target,
                        const real *restrict v, int gauss_newton, real *restrict work, int simd,
                        int nthreads);

#endif /* PYNN_API_PASS */
