# Loss kernels (included by _kernels.pyx). Each returns (loss, grad or None).

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


cdef int64_t _first_bad_weight(const real_t *weights, const int64_t *rows, int64_t n,
                               double *total) noexcept nogil:
    """Index (into rows, or into weights when rows is NULL) of the first of the n weights
    weights[rows[i]] (weights[i]) that is not finite and >= 0, or -1; *total = their sum
    in double, in order."""
    cdef int64_t i
    cdef double w, sum = 0
    for i in range(n):
        w = weights[i if rows == NULL else rows[i]]
        if not (w >= 0 and w <= _DOUBLE_MAX):
            return i
        sum += w
    total[0] = sum
    return -1


cdef double _sum(const real_t *values, int64_t size) noexcept nogil:
    cdef double total = 0
    cdef int64_t i
    for i in range(size):
        total += values[i]
    return total


cdef inline double _loss_c(pynn_loss loss, real_t *grad, real_t *sample_loss, const real_t *pred,
                           const real_t *target, const int64_t *labels, const real_t *weights,
                           int64_t n, int64_t k, int nt) noexcept nogil:
    """The C loss kernel `loss` of real_t: the labels loss reads labels, the others target."""
    if real_t is float:
        if loss == PYNN_LOSS_SOFTMAX_CE_LABELS:
            return softmax_cross_entropy_labels_f32(grad, sample_loss, pred, labels, weights, n,
                                                    k, nt)
        if loss == PYNN_LOSS_SOFTMAX_CE_PROBS:
            return softmax_cross_entropy_probs_f32(grad, sample_loss, pred, target, weights, n,
                                                   k, nt)
        if loss == PYNN_LOSS_SIGMOID_BCE:
            return sigmoid_binary_cross_entropy_f32(grad, sample_loss, pred, target, weights, n,
                                                    k, nt)
        if loss == PYNN_LOSS_MSE:
            return mse_f32(grad, sample_loss, pred, target, weights, n, k, nt)
        if loss == PYNN_LOSS_L1:
            return l1_f32(grad, sample_loss, pred, target, weights, n, k, nt)
        if loss == PYNN_LOSS_POISSON:
            return poisson_f32(grad, sample_loss, pred, target, weights, n, k, nt)
        return hinge_f32(grad, sample_loss, pred, target, weights, n, k, nt)
    else:
        if loss == PYNN_LOSS_SOFTMAX_CE_LABELS:
            return softmax_cross_entropy_labels_f64(grad, sample_loss, pred, labels, weights, n,
                                                    k, nt)
        if loss == PYNN_LOSS_SOFTMAX_CE_PROBS:
            return softmax_cross_entropy_probs_f64(grad, sample_loss, pred, target, weights, n,
                                                   k, nt)
        if loss == PYNN_LOSS_SIGMOID_BCE:
            return sigmoid_binary_cross_entropy_f64(grad, sample_loss, pred, target, weights, n,
                                                    k, nt)
        if loss == PYNN_LOSS_MSE:
            return mse_f64(grad, sample_loss, pred, target, weights, n, k, nt)
        if loss == PYNN_LOSS_L1:
            return l1_f64(grad, sample_loss, pred, target, weights, n, k, nt)
        if loss == PYNN_LOSS_POISSON:
            return poisson_f64(grad, sample_loss, pred, target, weights, n, k, nt)
        return hinge_f64(grad, sample_loss, pred, target, weights, n, k, nt)


cdef int _value_error(cnp.ndarray arr, str what, int64_t bad) except -1:
    """Raise ValueError: what, and the value at flat index bad (not fused: an error
    message is no smaller for being typed)."""
    raise ValueError(f"{what}, got {arr.flat[bad]!r} at flat index {bad}")


cdef int _check_values(real_t *dtype, cnp.ndarray arr, str name, double low, double high,
                       str domain) except -1:
    """Every value of arr (of real_t) is in [low, high]."""
    cdef int64_t bad
    cdef int64_t size = cnp.PyArray_SIZE(arr)
    cdef const real_t *p = <real_t *>_ptr(arr)
    with nogil:
        bad = _first_outside(p, size, low, high)
    if bad >= 0:
        _value_error(arr, f"{name} must be {domain}", bad)
    return 0


# sample_weight here is a loss call's own (Loss.__call__, evaluate); a training step's
# weights are gathered with its rows by the network (_network.pxi, Network.step).
cdef cnp.ndarray _sample_weight(real_t *dtype, object sample_weight, int64_t n):
    """None, or a 1-D (n,) array of finite non-negative weights with a positive sum."""
    if sample_weight is None:
        return None
    cdef cnp.ndarray W = _float_array(sample_weight, "sample_weight", _kind_t(dtype))
    _check_shape(W, "sample_weight", (n,), " (one weight per sample)")
    _check_values(dtype, W, "sample_weight", 0.0, _DOUBLE_MAX, "finite and non-negative")
    cdef double total
    cdef const real_t *p = <real_t *>_ptr(W)
    with nogil:
        total = _sum(p, n)
    if not (total > 0 and total <= _DOUBLE_MAX):
        raise ValueError("sample_weight must have a positive, finite sum")
    return W


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



cdef tuple _loss(real_t *dtype, pynn_loss loss, object pred, object target,
                 object sample_weight, object grad, object grad_out, object sample_loss):
    """Check the arguments of the loss `loss` and run it: (loss, grad or None).
    softmax_cross_entropy comes as PYNN_LOSS_SOFTMAX_CE_PROBS and runs the labels
    kernel when its target is 1-D."""
    cdef int kind = _kind_t(dtype)
    cdef bint on_logits = loss in (PYNN_LOSS_SOFTMAX_CE_PROBS, PYNN_LOSS_SIGMOID_BCE)
    cdef str pred_name = "logits" if on_logits else "pred"
    cdef str grad_name = "dlogits" if on_logits else "dpred"
    # the predictions or logits (n, k), the weights, the gradient output (None when grad
    # is false) and the per-sample losses
    cdef cnp.ndarray P = _float_array(pred, pred_name, kind)
    _check_ndim(P, pred_name, 2)
    cdef int64_t n = P.shape[0], k = P.shape[1]
    if n < 1 or k < 1:
        raise ValueError(f"{pred_name} must have at least one sample and one output, got "
                         f"shape {_shape(P)}")
    cdef cnp.ndarray W = _sample_weight(dtype, sample_weight, n)
    cdef cnp.ndarray G = _output(grad_out, grad_name, (n, k), kind) if grad else None
    if not grad and grad_out is not None:
        raise ValueError(f"{grad_name} was given but grad=False")
    cdef cnp.ndarray L = _output(sample_loss, "sample_loss", (n,), kind)

    cdef cnp.ndarray T = _as_array(target, "target")
    cdef real_t *pt = NULL
    cdef int64_t bad, size
    if loss == PYNN_LOSS_SOFTMAX_CE_PROBS and cnp.PyArray_NDIM(T) != 2:
        if cnp.PyArray_NDIM(T) != 1:
            raise ValueError(f"target must be labels (n,) or probabilities (n, k), got shape "
                             f"{_shape(T)}")
        loss = PYNN_LOSS_SOFTMAX_CE_LABELS
        T = _labels(T, n, k)
    else:
        T = _float_array(T, "target", kind)
        _check_shape(T, "target", _shape(P), " (the shape of the predictions)")
        if loss == PYNN_LOSS_SOFTMAX_CE_PROBS or loss == PYNN_LOSS_POISSON:
            _check_values(dtype, T, "target", 0.0, _DOUBLE_MAX, "finite and non-negative")
        elif loss == PYNN_LOSS_SIGMOID_BCE:
            _check_values(dtype, T, "target", 0.0, 1.0, "in [0, 1]")
        elif loss == PYNN_LOSS_HINGE:
            pt = <real_t *>_ptr(T)
            size = cnp.PyArray_SIZE(T)
            with nogil:
                bad = _first_not_sign(pt, size)
            if bad >= 0:
                _value_error(T, "target must contain only -1 and +1 for the hinge loss", bad)
    _check_all_disjoint([G, L, P, T, W], [grad_name, "sample_loss", pred_name, "target",
                                          "sample_weight"], 2)
    cdef bint by_label = loss == PYNN_LOSS_SOFTMAX_CE_LABELS
    cdef real_t *pg = <real_t *>_ptr(G)
    cdef real_t *pl = <real_t *>_ptr(L)
    cdef real_t *pp = <real_t *>_ptr(P)
    pt = NULL if by_label else <real_t *>_ptr(T)
    cdef const int64_t *py = <const int64_t *>_ptr(T) if by_label else NULL
    cdef real_t *pw = <real_t *>_ptr(W)
    cdef int nt = _nthreads()
    cdef double value
    with nogil:
        value = _loss_c(loss, pg, pl, pp, pt, py, pw, n, k, nt)
    return value, G


def softmax_cross_entropy(logits, target, sample_weight=None, *, grad=True, dlogits=None,
                          sample_loss=None):
    """Mean cross-entropy of softmax(logits) against class labels (n,) or
    probability targets (n, k), and its gradient with respect to the logits."""
    if _is_f32(logits):
        return _loss(<float *>NULL, PYNN_LOSS_SOFTMAX_CE_PROBS, logits, target, sample_weight,
                     grad, dlogits, sample_loss)
    return _loss(<double *>NULL, PYNN_LOSS_SOFTMAX_CE_PROBS, logits, target, sample_weight,
                 grad, dlogits, sample_loss)


def sigmoid_binary_cross_entropy(logits, target, sample_weight=None, *, grad=True,
                                 dlogits=None, sample_loss=None):
    """Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1]
    (n, k), summed over the k labels, and its gradient."""
    if _is_f32(logits):
        return _loss(<float *>NULL, PYNN_LOSS_SIGMOID_BCE, logits, target, sample_weight, grad,
                     dlogits, sample_loss)
    return _loss(<double *>NULL, PYNN_LOSS_SIGMOID_BCE, logits, target, sample_weight, grad,
                 dlogits, sample_loss)


def mse(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Mean over samples of 1/2 ||pred - target||^2, and its gradient."""
    if _is_f32(pred):
        return _loss(<float *>NULL, PYNN_LOSS_MSE, pred, target, sample_weight, grad, dpred,
                     sample_loss)
    return _loss(<double *>NULL, PYNN_LOSS_MSE, pred, target, sample_weight, grad, dpred,
                 sample_loss)


def l1(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Mean over samples of ||pred - target||_1, and its subgradient."""
    if _is_f32(pred):
        return _loss(<float *>NULL, PYNN_LOSS_L1, pred, target, sample_weight, grad, dpred,
                     sample_loss)
    return _loss(<double *>NULL, PYNN_LOSS_L1, pred, target, sample_weight, grad, dpred,
                 sample_loss)


def hinge(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Mean over samples of sum_j max(0, 1 - target pred), targets -1 or +1,
    and its subgradient."""
    if _is_f32(pred):
        return _loss(<float *>NULL, PYNN_LOSS_HINGE, pred, target, sample_weight, grad, dpred,
                     sample_loss)
    return _loss(<double *>NULL, PYNN_LOSS_HINGE, pred, target, sample_weight, grad, dpred,
                 sample_loss)


def poisson(pred, target, sample_weight=None, *, grad=True, dpred=None, sample_loss=None):
    """Mean over samples of half the Poisson deviance of the rates exp(pred) (pred the
    log-rate) against counts target >= 0, sum_j exp(pred) - y + y log(y / exp(pred)),
    and its gradient exp(pred) - target (over n)."""
    if _is_f32(pred):
        return _loss(<float *>NULL, PYNN_LOSS_POISSON, pred, target, sample_weight, grad, dpred,
                     sample_loss)
    return _loss(<double *>NULL, PYNN_LOSS_POISSON, pred, target, sample_weight, grad, dpred,
                 sample_loss)
