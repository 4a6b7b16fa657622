# Optimizer kernels, updating flat buffers in place (included by _kernels.pyx).


cdef cnp.ndarray _state(object obj, str name, cnp.ndarray param, int kind):
    """A buffer updated in place: same shape and dtype as param, writeable."""
    cdef cnp.ndarray arr = _float_array(obj, name, kind)
    _check_shape(arr, name, _shape(param), " (the shape of param)")
    if not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name} must be writeable")
    return arr


cdef tuple _param_and_grad(object param, object grad, int kind):
    cdef cnp.ndarray P = _as_array(param, "param")
    P = _state(P, "param", P, kind)
    cdef cnp.ndarray G = _float_array(grad, "grad", kind)
    _check_shape(G, "grad", _shape(P), " (the shape of param)")
    return P, G


cdef double _hyper(object value, str name, double low, double high, bint high_open=False) except? -1.0:
    """A hyperparameter in [low, high] (or [low, high) when high_open)."""
    cdef double v = _real(value, name)
    if not (v >= low and (v < high if high_open else v <= high)):
        raise ValueError(f"{name} must be in [{low}, {high}{')' if high_open else ']'}, got {value!r}")
    return v


cdef cnp.ndarray _decay_ranges(object ranges, int64_t size):
    """None (decay every element) or an int64 (k, 2) array of [start, stop) pairs within
    [0, size], sorted and disjoint (the elements weight decay applies to)."""
    if ranges is None:
        return None
    cdef cnp.ndarray arr = _as_array(ranges, "decay_ranges")
    _check_native(arr, "decay_ranges")
    if cnp.PyArray_TYPE(arr) != cnp.NPY_INT64:
        raise TypeError(f"decay_ranges must have dtype int64, got {arr.dtype}")
    if cnp.PyArray_NDIM(arr) != 2 or cnp.PyArray_DIM(arr, 1) != 2:
        raise ValueError(f"decay_ranges must have shape (k, 2), got {_shape(arr)}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError("decay_ranges must be C-contiguous (use numpy.ascontiguousarray)")
    cdef const int64_t *r = <const int64_t *>cnp.PyArray_DATA(arr)
    cdef int64_t i, k = cnp.PyArray_DIM(arr, 0), previous = 0
    for i in range(k):
        if not previous <= r[2 * i] <= r[2 * i + 1] <= size:
            raise ValueError(
                f"decay_ranges must be sorted, disjoint [start, stop) pairs within [0, {size}] "
                f"(the parameters' size), got row {i}: [{r[2 * i]}, {r[2 * i + 1]})")
        previous = r[2 * i + 1]
    return arr


cdef int64_t _n_ranges(cnp.ndarray ranges):
    return 0 if ranges is None else cnp.PyArray_DIM(ranges, 0)


cdef int64_t _step(object step) except -1:
    cdef int64_t s = _count(step, "step")
    if s < 1:
        raise ValueError(f"step must be at least 1 (the number of this update), got {step}")
    return s


cdef inline void _sgd_update_c(real_t *param, real_t *buf, const real_t *grad,
                               const int64_t *ranges, int64_t size, int64_t n_ranges,
                               double lr, double momentum, double dampening, bint nesterov,
                               double weight_decay, bint first_step, int nt) noexcept nogil:
    if real_t is float:
        sgd_update_f32(param, buf, grad, ranges, size, n_ranges, lr, momentum, dampening,
                       nesterov, weight_decay, first_step, nt)
    else:
        sgd_update_f64(param, buf, grad, ranges, size, n_ranges, lr, momentum, dampening,
                       nesterov, weight_decay, first_step, nt)


cdef inline void _adam_update_c(real_t *param, real_t *exp_avg, real_t *exp_avg_sq,
                                const real_t *grad, const int64_t *ranges, int64_t size,
                                int64_t n_ranges, int64_t step, double lr, double beta1,
                                double beta2, double eps, double weight_decay, bint decoupled,
                                int nt) noexcept nogil:
    if real_t is float:
        adam_update_f32(param, exp_avg, exp_avg_sq, grad, ranges, size, n_ranges, step, lr,
                        beta1, beta2, eps, weight_decay, decoupled, nt)
    else:
        adam_update_f64(param, exp_avg, exp_avg_sq, grad, ranges, size, n_ranges, step, lr,
                        beta1, beta2, eps, weight_decay, decoupled, nt)


def sgd_update(param, grad, momentum_buffer=None, *, step, lr, momentum=0.0, dampening=0.0,
               nesterov=False, weight_decay=0.0, decay_ranges=None):
    """One torch.optim.SGD step over param, in place; weight decay on the elements of
    decay_ranges only, when given."""
    if _is_f32(param):
        _sgd_update(<float *>NULL, param, grad, momentum_buffer, step, lr, momentum, dampening,
                    nesterov, weight_decay, decay_ranges)
    else:
        _sgd_update(<double *>NULL, param, grad, momentum_buffer, step, lr, momentum, dampening,
                    nesterov, weight_decay, decay_ranges)


cdef int _sgd_update(real_t *dtype, object param, object grad, object momentum_buffer,
                     object step, object lr, object momentum, object dampening,
                     object nesterov, object weight_decay, object decay_ranges) except -1:
    cdef int kind = _kind_t(dtype)
    P, G = _param_and_grad(param, grad, kind)
    cdef int64_t s = _step(step)
    cdef double inf = float("inf")
    cdef double lr_ = _hyper(lr, "lr", 0.0, inf, True)
    cdef double mu = _hyper(momentum, "momentum", 0.0, inf, True)
    cdef double damp = _hyper(dampening, "dampening", 0.0, inf, True)
    cdef double wd = _hyper(weight_decay, "weight_decay", 0.0, inf, True)
    cdef bint nest = bool(nesterov)
    if nest and (mu <= 0 or damp != 0):
        raise ValueError("nesterov needs momentum > 0 and dampening == 0")
    cdef cnp.ndarray B = None
    if mu != 0:
        if momentum_buffer is None:
            raise ValueError("momentum_buffer must be given when momentum != 0")
        B = _state(momentum_buffer, "momentum_buffer", P, kind)
    cdef int64_t size = cnp.PyArray_SIZE(P)
    cdef cnp.ndarray R = _decay_ranges(decay_ranges, size)
    _check_all_disjoint([P, B, G, R], ["param", "momentum_buffer", "grad", "decay_ranges"], 2)
    cdef int64_t n_ranges = _n_ranges(R)
    cdef const int64_t *pr = <const int64_t *>_ptr(R)
    cdef real_t *pp = <real_t *>_ptr(P)
    cdef real_t *pb = <real_t *>_ptr(B)
    cdef real_t *pg = <real_t *>_ptr(G)
    cdef int nt = _nthreads()
    with nogil:
        _sgd_update_c(pp, pb, pg, pr, size, n_ranges, lr_, mu, damp, nest, wd, s == 1, nt)
    return 0


def adam_update(param, grad, exp_avg, exp_avg_sq, *, step, lr=1e-3, beta1=0.9, beta2=0.999,
                eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, decay_ranges=None):
    """One torch.optim.Adam (or AdamW, with decoupled_weight_decay) step, in place; weight
    decay on the elements of decay_ranges only, when given."""
    if _is_f32(param):
        _adam_update(<float *>NULL, param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2,
                     eps, weight_decay, decoupled_weight_decay, decay_ranges)
    else:
        _adam_update(<double *>NULL, param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2,
                     eps, weight_decay, decoupled_weight_decay, decay_ranges)


cdef int _adam_update(real_t *dtype, object param, object grad, object exp_avg,
                      object exp_avg_sq, object step, object lr, object beta1, object beta2,
                      object eps, object weight_decay, object decoupled_weight_decay,
                      object decay_ranges) except -1:
    cdef int kind = _kind_t(dtype)
    P, G = _param_and_grad(param, grad, kind)
    cdef int64_t s = _step(step)
    cdef double inf = float("inf")
    cdef double lr_ = _hyper(lr, "lr", 0.0, inf, True)
    cdef double b1 = _hyper(beta1, "beta1", 0.0, 1.0, True)
    cdef double b2 = _hyper(beta2, "beta2", 0.0, 1.0, True)
    cdef double eps_ = _hyper(eps, "eps", 0.0, inf, True)
    cdef double wd = _hyper(weight_decay, "weight_decay", 0.0, inf, True)
    cdef bint decoupled = bool(decoupled_weight_decay)
    M = _state(exp_avg, "exp_avg", P, kind)
    V = _state(exp_avg_sq, "exp_avg_sq", P, kind)
    cdef int64_t size = cnp.PyArray_SIZE(P)
    cdef cnp.ndarray R = _decay_ranges(decay_ranges, size)
    _check_all_disjoint([P, M, V, G, R], ["param", "exp_avg", "exp_avg_sq", "grad", "decay_ranges"],
                        3)
    cdef int64_t n_ranges = _n_ranges(R)
    cdef const int64_t *pr = <const int64_t *>_ptr(R)
    cdef real_t *pp = <real_t *>_ptr(P)
    cdef real_t *pm = <real_t *>_ptr(M)
    cdef real_t *pv = <real_t *>_ptr(V)
    cdef real_t *pg = <real_t *>_ptr(G)
    cdef int nt = _nthreads()
    with nogil:
        _adam_update_c(pp, pm, pv, pg, pr, size, n_ranges, s, lr_, b1, b2, eps_, wd, decoupled,
                       nt)
    return 0


# ---- gradient clipping ---------------------------------------------------------------------
cdef double _clip_bound(object value, str name) except? -1.0:
    """A clipping threshold: a finite number > 0."""
    cdef double v = _real(value, name)
    if not (isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


cdef cnp.ndarray _grad_buffer(object grad, int kind, bint writeable):
    cdef cnp.ndarray G = _float_array(grad, "grad", kind)
    if writeable and not cnp.PyArray_ISWRITEABLE(G):
        raise ValueError("grad must be writeable")
    return G


cdef inline double _grad_norm_c(const real_t *grad, int64_t size, int nt) noexcept nogil:
    if real_t is float:
        return grad_norm_f32(grad, size, nt)
    else:
        return grad_norm_f64(grad, size, nt)


cdef inline double _clip_grad_norm_c(real_t *grad, int64_t size, double max_norm,
                                     int nt) noexcept nogil:
    if real_t is float:
        return clip_grad_norm_f32(grad, size, max_norm, nt)
    else:
        return clip_grad_norm_f64(grad, size, max_norm, nt)


cdef inline void _clip_grad_value_c(real_t *grad, int64_t size, double clip_value,
                                    int nt) noexcept nogil:
    if real_t is float:
        clip_grad_value_f32(grad, size, clip_value, nt)
    else:
        clip_grad_value_f64(grad, size, clip_value, nt)


def grad_norm(grad):
    """The L2 norm of grad (any shape, C-contiguous), summed in double in an order that
    does not depend on the thread count."""
    if _is_f32(grad):
        return _grad_norm(<float *>NULL, grad)
    return _grad_norm(<double *>NULL, grad)


cdef double _grad_norm(real_t *dtype, object grad) except? -1.0:
    cdef cnp.ndarray G = _grad_buffer(grad, _kind_t(dtype), False)
    cdef int64_t size = cnp.PyArray_SIZE(G)
    cdef const real_t *pg = <const real_t *>_ptr(G)
    cdef int nt = _nthreads()
    cdef double norm
    with nogil:
        norm = _grad_norm_c(pg, size, nt)
    return norm


def clip_grad_norm(grad, max_norm):
    """torch.nn.utils.clip_grad_norm_ over one flat gradient, in place: grad *= max_norm /
    (norm + 1e-6) when that is below 1. Returns the norm before clipping (float)."""
    if _is_f32(grad):
        return _clip_grad_norm(<float *>NULL, grad, max_norm)
    return _clip_grad_norm(<double *>NULL, grad, max_norm)


cdef double _clip_grad_norm(real_t *dtype, object grad, object max_norm) except? -1.0:
    cdef cnp.ndarray G = _grad_buffer(grad, _kind_t(dtype), True)
    cdef double bound = _clip_bound(max_norm, "max_norm")
    cdef int64_t size = cnp.PyArray_SIZE(G)
    cdef real_t *pg = <real_t *>_ptr(G)
    cdef int nt = _nthreads()
    cdef double norm
    with nogil:
        norm = _clip_grad_norm_c(pg, size, bound, nt)
    return norm


def clip_grad_value(grad, clip_value):
    """torch.nn.utils.clip_grad_value_, in place: grad clamped to [-clip_value, clip_value]
    (NaN stays NaN)."""
    if _is_f32(grad):
        _clip_grad_value(<float *>NULL, grad, clip_value)
    else:
        _clip_grad_value(<double *>NULL, grad, clip_value)


cdef int _clip_grad_value(real_t *dtype, object grad, object clip_value) except -1:
    cdef cnp.ndarray G = _grad_buffer(grad, _kind_t(dtype), True)
    cdef double bound = _clip_bound(clip_value, "clip_value")
    cdef int64_t size = cnp.PyArray_SIZE(G)
    cdef real_t *pg = <real_t *>_ptr(G)
    cdef int nt = _nthreads()
    with nogil:
        _clip_grad_value_c(pg, size, bound, nt)
    return 0
