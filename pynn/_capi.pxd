# Cython declarations of csrc/pynn.h (the C API). Shapes are documented there.
from libc.stdint cimport int64_t, uint64_t

cdef extern from "pynn.h" nogil:
    ctypedef enum pynn_activation:
        PYNN_IDENTITY
        PYNN_SIGMOID
        PYNN_TANH
        PYNN_RELU
        PYNN_LEAKY_RELU
        PYNN_SOFTPLUS
        PYNN_ELU
        PYNN_STEP
        PYNN_SIGN
        PYNN_N_ACTIVATIONS

    ctypedef enum pynn_saved:
        PYNN_SAVES_NOTHING
        PYNN_SAVES_OUTPUT
        PYNN_SAVES_INPUT
        PYNN_NOT_DIFFERENTIABLE

    pynn_saved pynn_activation_saves(pynn_activation act, double param)

    ctypedef enum pynn_loss:
        PYNN_LOSS_MSE
        PYNN_LOSS_L1
        PYNN_LOSS_SIGMOID_BCE
        PYNN_LOSS_SOFTMAX_CE_LABELS
        PYNN_LOSS_SOFTMAX_CE_PROBS
        PYNN_LOSS_HINGE
        PYNN_LOSS_POISSON
        PYNN_N_LOSSES
    int pynn_threads_start(int nthreads) nogil
    int pynn_usable_cpus()
    int pynn_threads_enabled()
    ctypedef enum pynn_simd:
        PYNN_SIMD_GENERIC
        PYNN_SIMD_AVX2
        PYNN_SIMD_AVX512
        PYNN_N_SIMD

    int pynn_simd_supported(int simd)
    int pynn_simd_best()
    const char *pynn_simd_describe(int simd)

    int64_t gemm_workspace_size_f32(int64_t m, int64_t n, int64_t k, int simd,
        int nthreads)
    int64_t gemm_workspace_size_f64(int64_t m, int64_t n, int64_t k, int simd,
        int nthreads)
    void gemm_f32(float *c, const float *a, const float *b, int64_t m, int64_t n,
                  int64_t k, double alpha, double beta, int trans_a, int trans_b,
                  int64_t lda, int64_t ldb, int64_t ldc, float *work, int simd, int nthreads)
    void gemm_f64(double *c, const double *a, const double *b, int64_t m, int64_t n,
                  int64_t k, double alpha, double beta, int trans_a, int trans_b,
                  int64_t lda, int64_t ldb, int64_t ldc, double *work, int simd, int nthreads)
    void gemm_plain_f32(float *c, const float *a, const float *b, int64_t m, int64_t n,
                        int64_t k, double alpha, double beta, int trans_a, int trans_b,
                        int64_t lda, int64_t ldb, int64_t ldc, int simd)
    void gemm_plain_f64(double *c, const double *a, const double *b, int64_t m, int64_t n,
                        int64_t k, double alpha, double beta, int trans_a, int trans_b,
                        int64_t lda, int64_t ldb, int64_t ldc, int simd)

    int64_t dense_forward_workspace_size_f32(int64_t n, int64_t in_f, int64_t out_f, int simd,
        int nthreads)
    int64_t dense_forward_workspace_size_f64(int64_t n, int64_t in_f, int64_t out_f, int simd,
        int nthreads)
    void dense_forward_f32(float *out, float *z, const float *x, const float *w,
                           const float *b, int64_t n, int64_t in_f, int64_t out_f,
                           pynn_activation act, double param, float *work, int simd, int nthreads)
    void dense_forward_f64(double *out, double *z, const double *x, const double *w,
                           const double *b, int64_t n, int64_t in_f, int64_t out_f,
                           pynn_activation act, double param, double *work, int simd, int nthreads)

    int64_t dense_backward_workspace_size_f32(int64_t n, int64_t in_f, int64_t out_f, int simd,
        int nthreads)
    int64_t dense_backward_workspace_size_f64(int64_t n, int64_t in_f, int64_t out_f, int simd,
        int nthreads)
    void dense_backward_f32(float *dw, float *db, float *dx, const float *dout,
                            const float *x, const float *w, const float *a, const float *z,
                            int64_t n, int64_t in_f, int64_t out_f, pynn_activation act,
                            double param, float *work, int simd, int nthreads)
    void dense_backward_f64(double *dw, double *db, double *dx, const double *dout,
                            const double *x, const double *w, const double *a, const double *z,
                            int64_t n, int64_t in_f, int64_t out_f, pynn_activation act,
                            double param, double *work, int simd, int nthreads)

    void activation_forward_f32(float *out, const float *x, int64_t size,
                                pynn_activation act, double param, int nthreads)
    void activation_forward_f64(double *out, const double *x, int64_t size,
                                pynn_activation act, double param, int nthreads)
    void activation_derivative_f32(float *out, const float *a, const float *z, int64_t size,
                                   pynn_activation act, double param, int nthreads)
    void activation_derivative_f64(double *out, const double *a, const double *z, int64_t size,
                                   pynn_activation act, double param, int nthreads)
    void activation_backward_f32(float *dz, const float *dout, const float *a, const float *z,
                                 int64_t size, pynn_activation act, double param, int nthreads)
    void activation_backward_f64(double *dz, const double *dout, const double *a, const double *z,
                                 int64_t size, pynn_activation act, double param, int nthreads)

    void prelu_forward_f32(float *out, const float *x, const float *slope, int64_t n,
                           int64_t features, int shared, int nthreads)
    void prelu_forward_f64(double *out, const double *x, const double *slope, int64_t n,
                           int64_t features, int shared, int nthreads)
    void prelu_backward_f32(float *dx, float *dslope, const float *dout, const float *x,
                            const float *slope, int64_t n, int64_t features, int shared,
                            int nthreads)
    void prelu_backward_f64(double *dx, double *dslope, const double *dout, const double *x,
                            const double *slope, int64_t n, int64_t features, int shared,
                            int nthreads)

    void softmax_f32(float *out, const float *x, int64_t n, int64_t k, int nthreads)
    void softmax_f64(double *out, const double *x, int64_t n, int64_t k, int nthreads)
    void log_softmax_f32(float *out, const float *x, int64_t n, int64_t k, int nthreads)
    void log_softmax_f64(double *out, const double *x, int64_t n, int64_t k, int nthreads)

    double softmax_cross_entropy_labels_f32(float *dlogits, float *sample_loss,
                                            const float *logits, const int64_t *labels,
                                            const float *weights, int64_t n, int64_t k,
                                            int nthreads)
    double softmax_cross_entropy_labels_f64(double *dlogits, double *sample_loss,
                                            const double *logits, const int64_t *labels,
                                            const double *weights, int64_t n, int64_t k,
                                            int nthreads)
    double softmax_cross_entropy_probs_f32(float *dlogits, float *sample_loss,
                                           const float *logits, const float *target,
                                           const float *weights, int64_t n, int64_t k,
                                           int nthreads)
    double softmax_cross_entropy_probs_f64(double *dlogits, double *sample_loss,
                                           const double *logits, const double *target,
                                           const double *weights, int64_t n, int64_t k,
                                           int nthreads)
    double sigmoid_binary_cross_entropy_f32(float *dlogits, float *sample_loss,
                                            const float *logits, const float *target,
                                            const float *weights, int64_t n, int64_t k,
                                            int nthreads)
    double sigmoid_binary_cross_entropy_f64(double *dlogits, double *sample_loss,
                                            const double *logits, const double *target,
                                            const double *weights, int64_t n, int64_t k,
                                            int nthreads)
    double mse_f32(float *dpred, float *sample_loss, const float *pred, const float *target,
                   const float *weights, int64_t n, int64_t k, int nthreads)
    double mse_f64(double *dpred, double *sample_loss, const double *pred, const double *target,
                   const double *weights, int64_t n, int64_t k, int nthreads)
    double l1_f32(float *dpred, float *sample_loss, const float *pred, const float *target,
                  const float *weights, int64_t n, int64_t k, int nthreads)
    double l1_f64(double *dpred, double *sample_loss, const double *pred, const double *target,
                  const double *weights, int64_t n, int64_t k, int nthreads)
    double hinge_f32(float *dpred, float *sample_loss, const float *pred, const float *target,
                     const float *weights, int64_t n, int64_t k, int nthreads)
    double hinge_f64(double *dpred, double *sample_loss, const double *pred, const double *target,
                     const double *weights, int64_t n, int64_t k, int nthreads)
    double poisson_f32(float *dpred, float *sample_loss, const float *pred, const float *target,
                       const float *weights, int64_t n, int64_t k, int nthreads)
    double poisson_f64(double *dpred, double *sample_loss, const double *pred,
                       const double *target, const double *weights, int64_t n, int64_t k,
                       int nthreads)

    void sgd_update_f32(float *param, float *buf, const float *grad, const int64_t *decay_ranges,
                        int64_t size, int64_t n_decay_ranges, double lr, double momentum,
                        double dampening, int nesterov, double weight_decay, int first_step,
                        int nthreads)
    void sgd_update_f64(double *param, double *buf, const double *grad,
                        const int64_t *decay_ranges, int64_t size, int64_t n_decay_ranges,
                        double lr, double momentum, double dampening, int nesterov,
                        double weight_decay, int first_step, int nthreads)
    void adam_update_f32(float *param, float *exp_avg, float *exp_avg_sq, const float *grad,
                         const int64_t *decay_ranges, int64_t size, int64_t n_decay_ranges,
                         int64_t step, double lr, double beta1, double beta2, double eps,
                         double weight_decay, int decoupled, int nthreads)
    void adam_update_f64(double *param, double *exp_avg, double *exp_avg_sq, const double *grad,
                         const int64_t *decay_ranges, int64_t size, int64_t n_decay_ranges,
                         int64_t step, double lr, double beta1, double beta2, double eps,
                         double weight_decay, int decoupled, int nthreads)
    double grad_norm_f32(const float *grad, int64_t size, int nthreads)
    double grad_norm_f64(const double *grad, int64_t size, int nthreads)
    double clip_grad_norm_f32(float *grad, int64_t size, double max_norm, int nthreads)
    double clip_grad_norm_f64(double *grad, int64_t size, double max_norm, int nthreads)
    void clip_grad_value_f32(float *grad, int64_t size, double clip_value, int nthreads)
    void clip_grad_value_f64(double *grad, int64_t size, double clip_value, int nthreads)

    int64_t count_argmax_hits_f32(const float *out, const int64_t *labels, int64_t n, int64_t k)
    int64_t count_argmax_hits_f64(const double *out, const int64_t *labels, int64_t n,
                                  int64_t k)

    ctypedef enum pynn_layer_kind:
        PYNN_LAYER_DENSE
        PYNN_LAYER_ACTIVATION
        PYNN_LAYER_PRELU
        PYNN_LAYER_MAXOUT
        PYNN_LAYER_STANDARDIZE
        PYNN_LAYER_DROPOUT
        PYNN_N_LAYER_KINDS

    # The network's records and functions: their real pointers are declared void * here
    # (C converts them implicitly), so that one Cython body fills and runs both dtypes'
    # (pynn/_network.pxi); pynn.h has the typed declarations.
    ctypedef struct net_layer_f32:
        pynn_layer_kind kind
        int64_t in_f
        int64_t out_f
        const void *w
        const void *b
        void *dw
        void *db
        pynn_activation act
        double param
        int64_t pieces
        int shared
        void *out
        void *z
        void *dz
        int64_t *argmax
        void *dx
        void *mask
        const uint64_t *stream
    ctypedef struct net_layer_f64:
        pynn_layer_kind kind
        int64_t in_f
        int64_t out_f
        const void *w
        const void *b
        void *dw
        void *db
        pynn_activation act
        double param
        int64_t pieces
        int shared
        void *out
        void *z
        void *dz
        int64_t *argmax
        void *dx
        void *mask
        const uint64_t *stream
    int64_t network_workspace_size_f32(const net_layer_f32 *layers, int64_t n_layers,
                                       int64_t n, int training, int simd, int nthreads)
    int64_t network_workspace_size_f64(const net_layer_f64 *layers, int64_t n_layers,
                                       int64_t n, int training, int simd, int nthreads)
    void network_forward_f32(const net_layer_f32 *layers, int64_t n_layers, int64_t n,
                             const void *x, void *work, int simd, int nthreads)
    void network_forward_f64(const net_layer_f64 *layers, int64_t n_layers, int64_t n,
                             const void *x, void *work, int simd, int nthreads)
    void network_backward_f32(const net_layer_f32 *layers, int64_t n_layers, int64_t n,
                              const void *x, const void *dout, void *work, int simd,
                              int nthreads)
    void network_backward_f64(const net_layer_f64 *layers, int64_t n_layers, int64_t n,
                              const void *x, const void *dout, void *work, int simd,
                              int nthreads)
    int64_t network_hvp_workspace_size_f32(const net_layer_f32 *layers, int64_t n_layers,
                                           int64_t n, int simd, int nthreads)
    int64_t network_hvp_workspace_size_f64(const net_layer_f64 *layers, int64_t n_layers,
                                           int64_t n, int simd, int nthreads)
    double network_hvp_f32(const net_layer_f32 *layers, int64_t n_layers, int64_t n,
                           void *product, void *dout, void *sample_loss, const void *x,
                           const void *weights, pynn_loss loss, const int64_t *labels,
                           const void *target, const void *v, int gauss_newton, void *work,
                           int simd, int nthreads)
    double network_hvp_f64(const net_layer_f64 *layers, int64_t n_layers, int64_t n,
                           void *product, void *dout, void *sample_loss, const void *x,
                           const void *weights, pynn_loss loss, const int64_t *labels,
                           const void *target, const void *v, int gauss_newton, void *work,
                           int simd, int nthreads)
    double network_step_f32(const net_layer_f32 *layers, int64_t n_layers, int64_t n,
                            const void *X, const int64_t *rows, void *x, const void *W,
                            void *w, pynn_loss loss,
                            const int64_t *labels, const void *target, void *dout,
                            void *sample_loss, int64_t *hits, void *work, int simd,
                            int nthreads)
    double network_step_f64(const net_layer_f64 *layers, int64_t n_layers, int64_t n,
                            const void *X, const int64_t *rows, void *x, const void *W,
                            void *w, pynn_loss loss,
                            const int64_t *labels, const void *target, void *dout,
                            void *sample_loss, int64_t *hits, void *work, int simd,
                            int nthreads)
