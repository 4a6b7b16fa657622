# Element-wise and row-wise kernels: activations, PReLU, softmax
# (included by _kernels.pyx).


def activation_forward(x, activation, param=None, *, out=None):
    """out = f(x), element-wise, for an array of any shape."""
    cdef double p
    cdef pynn_activation act = _activation(activation, param, &p)
    cdef cnp.ndarray X = _as_array(x, "x")
    cdef int kind = _kind_of(X, "x")
    X = _float_array(X, "x", kind)
    cdef cnp.ndarray O = _output(out, "out", _shape(X), kind)
    _check_disjoint(O, "out", X, "x")
    cdef int64_t size = cnp.PyArray_SIZE(X)
    cdef void *po = _ptr(O)
    cdef void *px = _ptr(X)
    cdef int nt = _nthreads()
    with nogil:
        if kind == F32:
            activation_forward_f32(<float *>po, <float *>px, size, act, p, nt)
        else:
            activation_forward_f64(<double *>po, <double *>px, size, act, p, nt)
    return O


cdef cnp.ndarray _derivative_kernel(object activation, object param, object a, object z,
                                    object dout, object out):
    """out = dout * f' (or f' alone when dout is None), f' read from a or z."""
    cdef double p
    cdef pynn_activation act = _activation(activation, param, &p)
    saves = _saves_name(act, p, activation)
    _check_saved(saves, activation, a, z)
    source_name = "a" if saves == "output" else "z"
    source = a if saves == "output" else z if saves == "input" else None
    # The array that fixes the dtype and shape: dout, else what f' reads, else
    # (for the identity) whichever of a and z is given.
    if dout is not None:
        ref, ref_name = dout, "dout"
    elif source is not None:
        ref, ref_name = source, source_name
    elif a is not None or z is not None:
        ref, ref_name = (a, "a") if a is not None else (z, "z")
    else:
        raise ValueError("activation_derivative needs a or z to know the shape of its result")
    cdef cnp.ndarray R = _as_array(ref, ref_name)
    cdef int kind = _kind_of(R, ref_name)
    R = _float_array(R, ref_name, kind)
    cdef cnp.ndarray S = None
    if source is not None:
        S = _float_array(source, source_name, kind)
        _check_shape(S, source_name, _shape(R), f" (the shape of {ref_name})")
    cdef cnp.ndarray D = R if dout is not None else None
    cdef cnp.ndarray O = _output(out, "out", _shape(R), kind)
    _check_all_disjoint([O, D, S], ["out", "dout", source_name], 1)
    cdef void *po = _ptr(O)
    cdef void *pd = _ptr(D)
    cdef void *pa = _ptr(S) if saves == "output" else NULL
    cdef void *pz = _ptr(S) if saves == "input" else NULL
    cdef int64_t size = cnp.PyArray_SIZE(O)
    cdef int nt = _nthreads()
    with nogil:
        if kind == F32:
            if pd == NULL:
                activation_derivative_f32(<float *>po, <float *>pa, <float *>pz, size, act, p, nt)
            else:
                activation_backward_f32(<float *>po, <float *>pd, <float *>pa, <float *>pz,
                                        size, act, p, nt)
        else:
            if pd == NULL:
                activation_derivative_f64(<double *>po, <double *>pa, <double *>pz, size, act,
                                          p, nt)
            else:
                activation_backward_f64(<double *>po, <double *>pd, <double *>pa,
                                        <double *>pz, size, act, p, nt)
    return O


def activation_derivative(activation, param=None, *, a=None, z=None, out=None):
    """out = f'(z), read from a = f(z) or from z as activation_saves says."""
    return _derivative_kernel(activation, param, a, z, None, out)


def activation_backward(dout, activation, param=None, *, a=None, z=None, out=None):
    """out = dout * f'(z): the gradient through an activation."""
    if dout is None:
        raise TypeError("dout must be a numpy.ndarray, got NoneType")
    return _derivative_kernel(activation, param, a, z, dout, out)


cdef tuple _prelu_inputs(object x, object slope, int *kind):
    """x (n, features) and slope (features,) or (1,); returns X, S, shared."""
    cdef cnp.ndarray X = _as_array(x, "x")
    kind[0] = _kind_of(X, "x")
    X = _float_array(X, "x", kind[0])
    _check_ndim(X, "x", 2)
    cdef cnp.ndarray S = _float_array(slope, "slope", kind[0])
    _check_ndim(S, "slope", 1)
    cdef int64_t features = X.shape[1]
    if S.shape[0] != features and S.shape[0] != 1:
        raise ValueError(f"slope must have shape ({features},) (one per feature) or (1,) "
                         f"(shared), got {_shape(S)}")
    return X, S, S.shape[0] == 1


def prelu_forward(x, slope, *, out=None):
    """out = x if x > 0 else slope * x, slope per feature (or one shared)."""
    cdef int kind
    X, S, shared = _prelu_inputs(x, slope, &kind)
    cdef cnp.ndarray O = _output(out, "out", _shape(X), kind)
    _check_all_disjoint([O, X, S], ["out", "x", "slope"], 1)
    cdef int64_t n = X.shape[0], f = X.shape[1]
    cdef bint sh = shared
    cdef void *po = _ptr(O)
    cdef void *px = _ptr(X)
    cdef void *ps = _ptr(S)
    cdef int nt = _nthreads()
    with nogil:
        if kind == F32:
            prelu_forward_f32(<float *>po, <float *>px, <float *>ps, n, f, sh, nt)
        else:
            prelu_forward_f64(<double *>po, <double *>px, <double *>ps, n, f, sh, nt)
    return O


def prelu_backward(dout, x, slope, *, input_grad=True, dx=None, dslope=None):
    """(dx or None, dslope) of PReLU from the gradient of its output."""
    cdef int kind
    X, S, shared = _prelu_inputs(x, slope, &kind)
    cdef cnp.ndarray D = _float_array(dout, "dout", kind)
    _check_shape(D, "dout", _shape(X), " (the shape of x)")
    cdef bint with_dx = bool(input_grad), sh = shared
    cdef cnp.ndarray DS = _output(dslope, "dslope", _shape(S), kind)
    cdef cnp.ndarray DX = _output(dx, "dx", _shape(X), kind) if with_dx else None
    _check_all_disjoint([DX, DS, D, X, S], ["dx", "dslope", "dout", "x", "slope"], 2)
    cdef int64_t n = X.shape[0], f = X.shape[1]
    cdef void *pdx = _ptr(DX)
    cdef void *pds = _ptr(DS)
    cdef void *pd = _ptr(D)
    cdef void *px = _ptr(X)
    cdef void *ps = _ptr(S)
    cdef int nt = _nthreads()
    with nogil:
        if kind == F32:
            prelu_backward_f32(<float *>pdx, <float *>pds, <float *>pd, <float *>px,
                               <float *>ps, n, f, sh, nt)
        else:
            prelu_backward_f64(<double *>pdx, <double *>pds, <double *>pd, <double *>px,
                               <double *>ps, n, f, sh, nt)
    return DX, DS


cdef cnp.ndarray _rowwise(object x, object out, bint log):
    cdef cnp.ndarray X = _as_array(x, "x")
    cdef int kind = _kind_of(X, "x")
    X = _float_array(X, "x", kind)
    _check_ndim(X, "x", 2)
    cdef int64_t n = X.shape[0], k = X.shape[1]
    if k < 1:
        raise ValueError(f"x must have at least one column, got shape {_shape(X)}")
    cdef cnp.ndarray O = _output(out, "out", _shape(X), kind)
    _check_disjoint(O, "out", X, "x")
    cdef void *po = _ptr(O)
    cdef void *px = _ptr(X)
    cdef int nt = _nthreads()
    with nogil:
        if kind == F32:
            if log:
                log_softmax_f32(<float *>po, <float *>px, n, k, nt)
            else:
                softmax_f32(<float *>po, <float *>px, n, k, nt)
        else:
            if log:
                log_softmax_f64(<double *>po, <double *>px, n, k, nt)
            else:
                softmax_f64(<double *>po, <double *>px, n, k, nt)
    return O


def softmax(x, *, out=None):
    """Row-wise softmax of x (n, k)."""
    return _rowwise(x, out, False)


def log_softmax(x, *, out=None):
    """Row-wise log-softmax of x (n, k)."""
    return _rowwise(x, out, True)
