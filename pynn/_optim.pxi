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


cdef int64_t _step(object step) except -1:
    cdef int64_t s = _count(step, "step")
    if s < 1:
        raise ValueError(f"step must be at least 1 (the number of this update), got {step}")
    return s


cdef inline void _sgd_update_c(real_t *param, real_t *buf, const real_t *grad, int64_t size,
                               double lr, double momentum, double dampening, bint nesterov,
                               double weight_decay, bint first_step, int nt) noexcept nogil:
    if real_t is float:
        sgd_update_f32(param, buf, grad, size, lr, momentum, dampening, nesterov, weight_decay,
                       first_step, nt)
    else:
        sgd_update_f64(param, buf, grad, size, lr, momentum, dampening, nesterov, weight_decay,
                       first_step, nt)


cdef inline void _adam_update_c(real_t *param, real_t *exp_avg, real_t *exp_avg_sq,
                                const real_t *grad, int64_t size, int64_t step, double lr,
                                double beta1, double beta2, double eps, double weight_decay,
                                bint decoupled, int nt) noexcept nogil:
    if real_t is float:
        adam_update_f32(param, exp_avg, exp_avg_sq, grad, size, step, lr, beta1, beta2, eps,
                        weight_decay, decoupled, nt)
    else:
        adam_update_f64(param, exp_avg, exp_avg_sq, grad, size, step, lr, beta1, beta2, eps,
                        weight_decay, decoupled, nt)


def sgd_update(param, grad, momentum_buffer=None, *, step, lr, momentum=0.0, dampening=0.0,
               nesterov=False, weight_decay=0.0):
    """One torch.optim.SGD step over param, in place."""
    if _is_f32(param):
        _sgd_update(<float *>NULL, param, grad, momentum_buffer, step, lr, momentum, dampening,
                    nesterov, weight_decay)
    else:
        _sgd_update(<double *>NULL, param, grad, momentum_buffer, step, lr, momentum, dampening,
                    nesterov, weight_decay)


cdef int _sgd_update(real_t *dtype, object param, object grad, object momentum_buffer,
                     object step, object lr, object momentum, object dampening,
                     object nesterov, object weight_decay) except -1:
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
    _check_all_disjoint([P, B, G], ["param", "momentum_buffer", "grad"], 2)
    cdef int64_t size = cnp.PyArray_SIZE(P)
    cdef real_t *pp = <real_t *>_ptr(P)
    cdef real_t *pb = <real_t *>_ptr(B)
    cdef real_t *pg = <real_t *>_ptr(G)
    cdef int nt = _nthreads()
    with nogil:
        _sgd_update_c(pp, pb, pg, size, lr_, mu, damp, nest, wd, s == 1, nt)
    return 0


def adam_update(param, grad, exp_avg, exp_avg_sq, *, step, lr=1e-3, beta1=0.9, beta2=0.999,
                eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False):
    """One torch.optim.Adam (or AdamW, with decoupled_weight_decay) step, in place."""
    if _is_f32(param):
        _adam_update(<float *>NULL, param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2,
                     eps, weight_decay, decoupled_weight_decay)
    else:
        _adam_update(<double *>NULL, param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2,
                     eps, weight_decay, decoupled_weight_decay)


cdef int _adam_update(real_t *dtype, object param, object grad, object exp_avg,
                      object exp_avg_sq, object step, object lr, object beta1, object beta2,
                      object eps, object weight_decay, object decoupled_weight_decay) except -1:
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
    _check_all_disjoint([P, M, V, G], ["param", "exp_avg", "exp_avg_sq", "grad"], 3)
    cdef int64_t size = cnp.PyArray_SIZE(P)
    cdef real_t *pp = <real_t *>_ptr(P)
    cdef real_t *pm = <real_t *>_ptr(M)
    cdef real_t *pv = <real_t *>_ptr(V)
    cdef real_t *pg = <real_t *>_ptr(G)
    cdef int nt = _nthreads()
    with nogil:
        _adam_update_c(pp, pm, pv, pg, size, s, lr_, b1, b2, eps_, wd, decoupled, nt)
    return 0
