# Optimizer kernels, updating flat buffers in place (included by _kernels.pyx).


cdef cnp.ndarray _state(object obj, str name, cnp.ndarray param, int kind):
    """A buffer updated in place: same shape and dtype as param, writeable."""
    cdef cnp.ndarray arr = _float_array(obj, name, kind)
    _check_shape(arr, name, _shape(param), " (the shape of param)")
    if not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name} must be writeable")
    return arr


cdef tuple _param_and_grad(object param, object grad, int *kind):
    cdef cnp.ndarray P = _as_array(param, "param")
    kind[0] = _kind_of(P, "param")
    P = _state(P, "param", P, kind[0])
    cdef cnp.ndarray G = _float_array(grad, "grad", kind[0])
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


def sgd_update(param, grad, momentum_buffer=None, *, step, lr, momentum=0.0, dampening=0.0,
               nesterov=False, weight_decay=0.0):
    """One torch.optim.SGD step over param, in place."""
    cdef int kind
    P, G = _param_and_grad(param, grad, &kind)
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
    cdef void *pp = _ptr(P)
    cdef void *pb = _ptr(B)
    cdef void *pg = _ptr(G)
    cdef int nt = _nthreads()
    with nogil:
        if kind == F32:
            sgd_update_f32(<float *>pp, <float *>pb, <float *>pg, size, lr_, mu, damp, nest, wd,
                           s == 1, nt)
        else:
            sgd_update_f64(<double *>pp, <double *>pb, <double *>pg, size, lr_, mu, damp, nest,
                           wd, s == 1, nt)


def adam_update(param, grad, exp_avg, exp_avg_sq, *, step, lr=1e-3, beta1=0.9, beta2=0.999,
                eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False):
    """One torch.optim.Adam (or AdamW, with decoupled_weight_decay) step, in place."""
    cdef int kind
    P, G = _param_and_grad(param, grad, &kind)
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
    cdef void *pp = _ptr(P)
    cdef void *pm = _ptr(M)
    cdef void *pv = _ptr(V)
    cdef void *pg = _ptr(G)
    cdef int nt = _nthreads()
    with nogil:
        if kind == F32:
            adam_update_f32(<float *>pp, <float *>pm, <float *>pv, <float *>pg, size, s, lr_, b1,
                            b2, eps_, wd, decoupled, nt)
        else:
            adam_update_f64(<double *>pp, <double *>pm, <double *>pv, <double *>pg, size, s,
                            lr_, b1, b2, eps_, wd, decoupled, nt)
