# Loss kernels (included by _kernels.pyx). Each returns (loss, grad or None).

ctypedef fused real_t:
    float
    double

ctypedef double (*loss_f32_t)(float *, float *, const float *, const float *, const float *,
                              int64_t, int64_t, int) noexcept nogil
ctypedef double (*loss_f64_t)(double *, double *, const double *, const double *,
                              const double *, int64_t, int64_t, int) noexcept nogil

cdef double _DOUBLE_MAX = 1.7976931348623157e308


cdef int64_t _first_outside(const real_t *values, int64_t size, double low,
                            double high) noexcept nogil:
    """Index of the first value not in [low, high] (NaN is never in it), or -1."""
    cdef int64_t i
    for i in range(size):
        if not (values[i] >= low and values[i] <= high):
            return i
    return -1


cdef int64_t _first_not_sign(const real_t *values, int64_t size) noexcept nogil:
    """Index of the first value that is neither -1 nor +1, or -1."""
    cdef int64_t i
    for i in range(size):
        if values[i] != 1 and values[i] != -1:
            return i
    return -1


cdef int64_t _first_bad_label(const int64_t *labels, int64_t n, int64_t k) noexcept nogil:
    cdef int64_t i
    for i in range(n):
        if labels[i] < 0 or labels[i] >= k:
            return i
    return -1


cdef double _sum(const real_t *values, int64_t size) noexcept nogil:
    cdef double total = 0
    cdef int64_t i
    for i in range(size):
        total += values[i]
    return total


cdef int _check_values(cnp.ndarray arr, str name, double low, double high,
                       str domain) except -1:
    """Every value of arr is in [low, high]."""
    cdef int64_t bad
    cdef int64_t size = cnp.PyArray_SIZE(arr)
    cdef void *p = _ptr(arr)
    with nogil:
        if cnp.PyArray_TYPE(arr) == cnp.NPY_FLOAT32:
            bad = _first_outside(<float *>p, size, low, high)
        else:
            bad = _first_outside(<double *>p, size, low, high)
    if bad >= 0:
        raise ValueError(f"{name} must be {domain}, got {arr.flat[bad]!r} at flat index {bad}")
    return 0


cdef cnp.ndarray _sample_weight(object sample_weight, int64_t n, int kind):
    """None, or a 1-D (n,) array of finite non-negative weights with a positive sum."""
    if sample_weight is None:
        return None
    cdef cnp.ndarray W = _float_array(sample_weight, "sample_weight", kind)
    _check_shape(W, "sample_weight", (n,), " (one weight per sample)")
    _check_values(W, "sample_weight", 0.0, _DOUBLE_MAX, "finite and non-negative")
    cdef double total
    cdef void *p = _ptr(W)
    with nogil:
        total = _sum(<float *>p, n) if kind == F32 else _sum(<double *>p, n)
    if not (total > 0 and total <= _DOUBLE_MAX):
        raise ValueError("sample_weight must have a positive, finite sum")
    return W


cdef tuple _loss_args(object pred, str pred_name, object sample_weight, object grad,
                      object grad_out, str grad_name, object sample_loss):
    """Checked (P, W, G, L, kind): the predictions or logits (n, k), the weights,
    the gradient output (None when grad is false) and the per-sample losses."""
    cdef cnp.ndarray P = _as_array(pred, pred_name)
    cdef int kind = _kind_of(P, pred_name)
    P = _float_array(P, pred_name, kind)
    _check_ndim(P, pred_name, 2)
    cdef int64_t n = P.shape[0], k = P.shape[1]
    if n < 1 or k < 1:
        raise ValueError(f"{pred_name} must have at least one sample and one output, got "
                         f"shape {_shape(P)}")
    W = _sample_weight(sample_weight, n, kind)
    G = _output(grad_out, grad_name, (n, k), kind) if grad else None
    if not grad and grad_out is not None:
        raise ValueError(f"{grad_name} was given but grad=False")
    L = _output(sample_loss, "sample_loss", (n,), kind)
    return P, W, G, L, kind


cdef cnp.ndarray _same_shape_target(object target, cnp.ndarray P, int kind):
    cdef cnp.ndarray T = _float_array(target, "target", kind)
    _check_shape(T, "target", _shape(P), " (the shape of the predictions)")
    return T


cdef tuple _run_loss(loss_f32_t f32, loss_f64_t f64, cnp.ndarray P, cnp.ndarray T, object W,
                     object G, cnp.ndarray L, int kind, str pred_name, str grad_name):
    _check_all_disjoint([G, L, P, T, W], [grad_name, "sample_loss", pred_name, "target",
                                          "sample_weight"], 2)
    cdef int64_t n = P.shape[0], k = P.shape[1]
    cdef void *pg = _ptr(G)
    cdef void *pl = _ptr(L)
    cdef void *pp = _ptr(P)
    cdef void *pt = _ptr(T)
    cdef void *pw = _ptr(W)
    cdef int nt = _nthreads()
    cdef double loss
    with nogil:
        if kind == F32:
            loss = f32(<float *>pg, <float *>pl, <float *>pp, <float *>pt, <float *>pw, n, k, nt)
        else:
            loss = f64(<double *>pg, <double *>pl, <double *>pp, <double *>pt, <double *>pw,
                       n, k, nt)
    return loss, G


cdef cnp.ndarray _labels(object target, int64_t n, int64_t k):
    """Integer class labels as a contiguous int64 array, each in [0, k)."""
    cdef cnp.ndarray Y = <cnp.ndarray>target
    if Y.dtype.kind not in "iu":
        raise TypeError(f"target must be integer class labels (n,) or an (n, k) float array, "
                        f"got dtype {Y.dtype}")
    _check_shape(Y, "target", (n,), " (one label per sample)")
    if (cnp.PyArray_TYPE(Y) != cnp.NPY_INT64 or not cnp.PyArray_IS_C_CONTIGUOUS(Y)
            or not cnp.PyArray_ISNOTSWAPPED(Y)):
        if Y.dtype == np.uint64 and Y.size and Y.max() > np.iinfo(np.int64).max:
            raise ValueError(f"target labels must be in [0, {k}), got {Y.max()}")
        Y = np.ascontiguousarray(Y, dtype=np.int64)
    cdef int64_t bad
    cdef const int64_t *py = <const int64_t *>cnp.PyArray_DATA(Y)
    with nogil:
        bad = _first_bad_label(py, n, k)
    if bad >= 0:
        raise ValueError(f"target labels must be in [0, {k}) for {k} classes, got "
                         f"{Y[bad]} at index {bad}")
    return Y


def softmax_cross_entropy(logits, target, sample_weight=None, *, grad=True, dlogits=None,
                          sample_loss=None):
    """Mean cross-entropy of softmax(logits) against class labels (n,) or
    probability targets (n, k), and its gradient with respect to the logits."""
    cdef int kind
    P, W, G, L, kind = _loss_args(logits, "logits", sample_weight, grad, dlogits, "dlogits",
                                  sample_loss)
    cdef cnp.ndarray T = _as_array(target, "target")
    if cnp.PyArray_NDIM(T) == 2:
        T = _same_shape_target(T, P, kind)
        _check_values(T, "target", 0.0, _DOUBLE_MAX, "finite and non-negative")
        return _run_loss(softmax_cross_entropy_probs_f32, softmax_cross_entropy_probs_f64,
                         P, T, W, G, L, kind, "logits", "dlogits")
    if cnp.PyArray_NDIM(T) != 1:
        raise ValueError(f"target must be labels (n,) or probabilities (n, k), got shape "
                         f"{_shape(T)}")
    cdef int64_t n = P.shape[0], k = P.shape[1]
    cdef cnp.ndarray Y = _labels(T, n, k)
    _check_all_disjoint([G, L, P, Y, W], ["dlogits", "sample_loss", "logits", "target",
                                          "sample_weight"], 2)
    cdef void *pg = _ptr(G)
    cdef void *pl = _ptr(L)
    cdef void *pp = _ptr(P)
    cdef const int64_t *py = <const int64_t *>cnp.PyArray_DATA(Y)
    cdef void *pw = _ptr(W)
    cdef int nt = _nthreads()
    cdef double loss
    with nogil:
        if kind == F32:
            loss = softmax_cross_entropy_labels_f32(<float *>pg, <float *>pl, <float *>pp, py,
                                                    <float *>pw, n, k, nt)
        else:
            loss = softmax_cross_entropy_labels_f64(<double *>pg, <double *>pl, <double *>pp,
                                                    py, <double *>pw, n, k, nt)
    return loss, G


def sigmoid_binary_cross_entropy(logits, target, sample_weight=None, *, grad=True,
                                 dlogits=None, sample_loss=None):
    """Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1]
    (n, k), summed over the k labels, and its gradient."""
    P, W, G, L, kind = _loss_args(logits, "logits", sample_weight, grad, dlogits, "dlogits",
                                  sample_loss)
    T = _same_shape_target(target, P, kind)
    _check_values(T, "target", 0.0, 1.0, "in [0, 1]")
    return _run_loss(sigmoid_binary_cross_entropy_f32, sigmoid_binary_cross_entropy_f64,
                     P, T, W, G, L, kind, "logits", "dlogits")


def mse(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Mean over samples of 1/2 ||pred - target||^2, and its gradient."""
    P, W, G, L, kind = _loss_args(pred, "pred", sample_weight, grad, dpred, "dpred",
                                  sample_loss)
    T = _same_shape_target(target, P, kind)
    return _run_loss(mse_f32, mse_f64, P, T, W, G, L, kind, "pred", "dpred")


def l1(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Mean over samples of ||pred - target||_1, and its subgradient."""
    P, W, G, L, kind = _loss_args(pred, "pred", sample_weight, grad, dpred, "dpred",
                                  sample_loss)
    T = _same_shape_target(target, P, kind)
    return _run_loss(l1_f32, l1_f64, P, T, W, G, L, kind, "pred", "dpred")


def hinge(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Mean over samples of sum_j max(0, 1 - target pred), targets -1 or +1,
    and its subgradient."""
    cdef int kind
    P, W, G, L, kind = _loss_args(pred, "pred", sample_weight, grad, dpred, "dpred",
                                  sample_loss)
    cdef cnp.ndarray T = _same_shape_target(target, P, kind)
    cdef int64_t bad
    cdef int64_t size = cnp.PyArray_SIZE(T)
    cdef void *pt = _ptr(T)
    with nogil:
        bad = _first_not_sign(<float *>pt, size) if kind == F32 else _first_not_sign(<double *>pt, size)
    if bad >= 0:
        raise ValueError(f"target must contain only -1 and +1 for the hinge loss, got "
                         f"{T.flat[bad]!r} at flat index {bad}")
    return _run_loss(hinge_f32, hinge_f64, P, T, W, G, L, kind, "pred", "dpred")
