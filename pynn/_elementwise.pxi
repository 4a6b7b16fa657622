# Element-wise and row-wise kernels: activations, PReLU, softmax
# (included by _kernels.pyx).

# ---- the C kernels of real_t (resolved at compile time) ----
cdef inline void _activation_forward_c(real_t *out, const real_t *x, int64_t size,
                                       pynn_activation act, double p, int nt) noexcept nogil:
    if real_t is float:
        activation_forward_f32(out, x, size, act, p, nt)
    else:
        activation_forward_f64(out, x, size, act, p, nt)


cdef inline void _activation_derivative_c(real_t *out, const real_t *a, const real_t *z,
                                          int64_t size, pynn_activation act, double p,
                                          int nt) noexcept nogil:
    if real_t is float:
        activation_derivative_f32(out, a, z, size, act, p, nt)
    else:
        activation_derivative_f64(out, a, z, size, act, p, nt)


cdef inline void _activation_backward_c(real_t *dz, const real_t *dout, const real_t *a,
                                        const real_t *z, int64_t size, pynn_activation act,
                                        double p, int nt) noexcept nogil:
    if real_t is float:
        activation_backward_f32(dz, dout, a, z, size, act, p, nt)
    else:
        activation_backward_f64(dz, dout, a, z, size, act, p, nt)


cdef inline void _prelu_forward_c(real_t *out, const real_t *x, const real_t *slope, int64_t n,
                                  int64_t f, bint shared, int nt) noexcept nogil:
    if real_t is float:
        prelu_forward_f32(out, x, slope, n, f, shared, nt)
    else:
        prelu_forward_f64(out, x, slope, n, f, shared, nt)


cdef inline void _prelu_backward_c(real_t *dx, real_t *dslope, const real_t *dout,
                                   const real_t *x, const real_t *slope, int64_t n, int64_t f,
                                   bint shared, int nt) noexcept nogil:
    if real_t is float:
        prelu_backward_f32(dx, dslope, dout, x, slope, n, f, shared, nt)
    else:
        prelu_backward_f64(dx, dslope, dout, x, slope, n, f, shared, nt)


cdef inline void _softmax_c(real_t *out, const real_t *x, int64_t n, int64_t k, bint log,
                            int nt) noexcept nogil:
    if real_t is float:
        if log:
            log_softmax_f32(out, x, n, k, nt)
        else:
            softmax_f32(out, x, n, k, nt)
    else:
        if log:
            log_softmax_f64(out, x, n, k, nt)
        else:
            softmax_f64(out, x, n, k, nt)


# ---- activations ----
def activation_forward(x, activation, param=None, *, out=None):
    """out = f(x), element-wise, for an array of any shape."""
    if _is_f32(x):
        return _activation_forward(<float *>NULL, x, activation, param, out)
    return _activation_forward(<double *>NULL, x, activation, param, out)


cdef cnp.ndarray _activation_forward(real_t *dtype, object x, object activation, object param,
                                     object out):
    cdef double p
    cdef pynn_activation act = _activation(activation, param, &p)
    cdef int kind = _kind_t(dtype)
    cdef cnp.ndarray X = _float_array(x, "x", kind)
    cdef cnp.ndarray O = _output(out, "out", _shape(X), kind)
    _check_disjoint(O, "out", X, "x")
    cdef int64_t size = cnp.PyArray_SIZE(X)
    cdef real_t *po = <real_t *>_ptr(O)
    cdef real_t *px = <real_t *>_ptr(X)
    cdef int nt = _nthreads()
    with nogil:
        _activation_forward_c(po, px, size, act, p, nt)
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
    if _is_f32(ref):
        return _derivative(<float *>NULL, act, p, saves, ref, ref_name, source, source_name,
                           dout is not None, out)
    return _derivative(<double *>NULL, act, p, saves, ref, ref_name, source, source_name,
                       dout is not None, out)


cdef cnp.ndarray _derivative(real_t *dtype, pynn_activation act, double p, object saves,
                             object ref, str ref_name, object source, str source_name,
                             bint with_dout, object out):
    cdef int kind = _kind_t(dtype)
    cdef cnp.ndarray R = _float_array(ref, ref_name, kind)
    cdef cnp.ndarray S = None
    if source is not None:
        S = _float_array(source, source_name, kind)
        _check_shape(S, source_name, _shape(R), f" (the shape of {ref_name})")
    cdef cnp.ndarray D = R if with_dout else None
    cdef cnp.ndarray O = _output(out, "out", _shape(R), kind)
    _check_all_disjoint([O, D, S], ["out", "dout", source_name], 1)
    cdef real_t *po = <real_t *>_ptr(O)
    cdef real_t *pd = <real_t *>_ptr(D)
    cdef real_t *pa = <real_t *>_ptr(S) if saves == "output" else NULL
    cdef real_t *pz = <real_t *>_ptr(S) if saves == "input" else NULL
    cdef int64_t size = cnp.PyArray_SIZE(O)
    cdef int nt = _nthreads()
    with nogil:
        if pd == NULL:
            _activation_derivative_c(po, pa, pz, size, act, p, nt)
        else:
            _activation_backward_c(po, pd, pa, pz, size, act, p, nt)
    return O


def activation_derivative(activation, param=None, *, a=None, z=None, out=None):
    """out = f'(z), read from a = f(z) or from z as activation_saves says."""
    return _derivative_kernel(activation, param, a, z, None, out)


def activation_backward(dout, activation, param=None, *, a=None, z=None, out=None):
    """out = dout * f'(z): the gradient through an activation."""
    if dout is None:
        raise TypeError("dout must be a numpy.ndarray, got NoneType")
    return _derivative_kernel(activation, param, a, z, dout, out)


# ---- PReLU ----
cdef tuple _prelu_inputs(object x, object slope, int kind):
    """x (n, features) and slope (features,) or (1,); returns X, S, shared."""
    cdef cnp.ndarray X = _float_array(x, "x", kind)
    _check_ndim(X, "x", 2)
    cdef cnp.ndarray S = _float_array(slope, "slope", kind)
    _check_ndim(S, "slope", 1)
    cdef int64_t features = X.shape[1]
    if S.shape[0] != features and S.shape[0] != 1:
        raise ValueError(f"slope must have shape ({features},) (one per feature) or (1,) "
                         f"(shared), got {_shape(S)}")
    return X, S, S.shape[0] == 1


def prelu_forward(x, slope, *, out=None):
    """out = x if x > 0 else slope * x, slope per feature (or one shared)."""
    if _is_f32(x):
        return _prelu_forward(<float *>NULL, x, slope, out)
    return _prelu_forward(<double *>NULL, x, slope, out)


cdef cnp.ndarray _prelu_forward(real_t *dtype, object x, object slope, object out):
    cdef int kind = _kind_t(dtype)
    X, S, shared = _prelu_inputs(x, slope, kind)
    cdef cnp.ndarray O = _output(out, "out", _shape(X), kind)
    _check_all_disjoint([O, X, S], ["out", "x", "slope"], 1)
    cdef int64_t n = X.shape[0], f = X.shape[1]
    cdef bint sh = shared
    cdef real_t *po = <real_t *>_ptr(O)
    cdef real_t *px = <real_t *>_ptr(X)
    cdef real_t *ps = <real_t *>_ptr(S)
    cdef int nt = _nthreads()
    with nogil:
        _prelu_forward_c(po, px, ps, n, f, sh, nt)
    return O


def prelu_backward(dout, x, slope, *, input_grad=True, dx=None, dslope=None):
    """(dx or None, dslope) of PReLU from the gradient of its output."""
    if _is_f32(x):
        return _prelu_backward(<float *>NULL, dout, x, slope, input_grad, dx, dslope)
    return _prelu_backward(<double *>NULL, dout, x, slope, input_grad, dx, dslope)


cdef tuple _prelu_backward(real_t *dtype, object dout, object x, object slope,
                           object input_grad, object dx, object dslope):
    cdef int kind = _kind_t(dtype)
    X, S, shared = _prelu_inputs(x, slope, kind)
    cdef cnp.ndarray D = _float_array(dout, "dout", kind)
    _check_shape(D, "dout", _shape(X), " (the shape of x)")
    cdef bint with_dx = bool(input_grad), sh = shared
    cdef cnp.ndarray DS = _output(dslope, "dslope", _shape(S), kind)
    cdef cnp.ndarray DX = _output(dx, "dx", _shape(X), kind) if with_dx else None
    _check_all_disjoint([DX, DS, D, X, S], ["dx", "dslope", "dout", "x", "slope"], 2)
    cdef int64_t n = X.shape[0], f = X.shape[1]
    cdef real_t *pdx = <real_t *>_ptr(DX)
    cdef real_t *pds = <real_t *>_ptr(DS)
    cdef real_t *pd = <real_t *>_ptr(D)
    cdef real_t *px = <real_t *>_ptr(X)
    cdef real_t *ps = <real_t *>_ptr(S)
    cdef int nt = _nthreads()
    with nogil:
        _prelu_backward_c(pdx, pds, pd, px, ps, n, f, sh, nt)
    return DX, DS


# ---- softmax ----
cdef cnp.ndarray _rowwise(real_t *dtype, object x, object out, bint log):
    cdef int kind = _kind_t(dtype)
    cdef cnp.ndarray X = _float_array(x, "x", kind)
    _check_ndim(X, "x", 2)
    cdef int64_t n = X.shape[0], k = X.shape[1]
    if k < 1:
        raise ValueError(f"x must have at least one column, got shape {_shape(X)}")
    cdef cnp.ndarray O = _output(out, "out", _shape(X), kind)
    _check_disjoint(O, "out", X, "x")
    cdef real_t *po = <real_t *>_ptr(O)
    cdef real_t *px = <real_t *>_ptr(X)
    cdef int nt = _nthreads()
    with nogil:
        _softmax_c(po, px, n, k, log, nt)
    return O


def softmax(x, *, out=None):
    """Row-wise softmax of x (n, k)."""
    if _is_f32(x):
        return _rowwise(<float *>NULL, x, out, False)
    return _rowwise(<double *>NULL, x, out, False)


def log_softmax(x, *, out=None):
    """Row-wise log-softmax of x (n, k)."""
    if _is_f32(x):
        return _rowwise(<float *>NULL, x, out, True)
    return _rowwise(<double *>NULL, x, out, True)
