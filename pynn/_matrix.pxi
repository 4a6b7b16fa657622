# Matrix kernels: gemm, dense_forward, dense_backward (included by _kernels.pyx).


cdef int64_t _leading_dim(cnp.ndarray arr, str name) except -1:
    """The row stride, in elements, of a 2-D array whose rows are contiguous."""
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(arr)
    cdef Py_ssize_t rows = cnp.PyArray_DIM(arr, 0), cols = cnp.PyArray_DIM(arr, 1)
    cdef Py_ssize_t s0 = cnp.PyArray_STRIDE(arr, 0), s1 = cnp.PyArray_STRIDE(arr, 1)
    if rows == 0 or cols == 0:  # no element is read
        return cols if cols > 0 else 1
    if cols > 1 and s1 != item:
        raise ValueError(f"{name} must have contiguous rows (its last stride must be the "
                         f"item size); use numpy.ascontiguousarray")
    if rows == 1:  # the row stride is never used
        return cols
    if s0 <= 0 or s0 % item != 0 or s0 // item < cols:
        raise ValueError(f"{name} must have a positive row stride of at least one row "
                         f"(a leading dimension); use numpy.ascontiguousarray")
    return s0 // item


cdef int _kind_of_dtype(object dtype) except -1:
    if dtype is None:  # np.dtype(None) would be float64
        raise TypeError("dtype must be float32 or float64, got None")
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):  # NumPy's message does not name the argument
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt == _DTYPES[F32]:
        return F32
    if dt == _DTYPES[F64]:
        return F64
    raise TypeError(f"dtype must be float32 or float64, got {dt}")


cdef int64_t _size(object value, str name) except -1:
    """A matrix dimension for a workspace size: an integer >= 0."""
    cdef int64_t v = _count(value, name)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return v


cdef int _check_products(tuple sizes, tuple names) except -1:
    """Sizes whose products overflow no int64: the C code multiplies them two by two,
    after rounding each up to a tile (at most 64), and adds a few such products."""
    cdef int i, j
    for i in range(3):
        for j in range(i + 1, 3):
            if (sizes[i] + 64) * (sizes[j] + 64) >= 2**62:  # Python ints: exact
                raise ValueError(f"{names[i]} * {names[j]} = {sizes[i]} * {sizes[j]} is too "
                                 f"large: sizes whose products overflow 64-bit integers "
                                 f"are refused")
    return 0


# ---- the C kernels of real_t (resolved at compile time) ----
cdef enum:  # the matrix kernels, to name the one whose workspace size is asked
    _GEMM = 0
    _DENSE_FORWARD = 1
    _DENSE_BACKWARD = 2


cdef inline int64_t _workspace_size_c(real_t *dtype, int kernel, int64_t s0, int64_t s1,
                                      int64_t s2, int simd, int nt) noexcept nogil:
    """Elements of workspace the matrix kernel `kernel` of real_t needs: gemm's (m, n, k),
    the dense kernels' (n, in_features, out_features)."""
    if real_t is float:
        if kernel == _GEMM:
            return gemm_workspace_size_f32(s0, s1, s2, simd, nt)
        if kernel == _DENSE_FORWARD:
            return dense_forward_workspace_size_f32(s0, s1, s2, simd, nt)
        return dense_backward_workspace_size_f32(s0, s1, s2, simd, nt)
    else:
        if kernel == _GEMM:
            return gemm_workspace_size_f64(s0, s1, s2, simd, nt)
        if kernel == _DENSE_FORWARD:
            return dense_forward_workspace_size_f64(s0, s1, s2, simd, nt)
        return dense_backward_workspace_size_f64(s0, s1, s2, simd, nt)


cdef inline void _gemm_c(real_t *c, const real_t *a, const real_t *b, int64_t m, int64_t n,
                         int64_t k, double alpha, double beta, bint ta, bint tb, int64_t lda,
                         int64_t ldb, int64_t ldc, real_t *work, int simd, int nt) noexcept nogil:
    if real_t is float:
        gemm_f32(c, a, b, m, n, k, alpha, beta, ta, tb, lda, ldb, ldc, work, simd, nt)
    else:
        gemm_f64(c, a, b, m, n, k, alpha, beta, ta, tb, lda, ldb, ldc, work, simd, nt)


cdef inline void _dense_forward_c(real_t *out, real_t *z, const real_t *x, const real_t *w,
                                  const real_t *b, int64_t n, int64_t in_f, int64_t out_f,
                                  pynn_activation act, double p, real_t *work, int simd,
                                  int nt) noexcept nogil:
    if real_t is float:
        dense_forward_f32(out, z, x, w, b, n, in_f, out_f, act, p, work, simd, nt)
    else:
        dense_forward_f64(out, z, x, w, b, n, in_f, out_f, act, p, work, simd, nt)


cdef inline void _dense_backward_c(real_t *dw, real_t *db, real_t *dx, const real_t *dout,
                                   const real_t *x, const real_t *w, const real_t *a,
                                   const real_t *z, int64_t n, int64_t in_f, int64_t out_f,
                                   pynn_activation act, double p, real_t *work, int simd,
                                   int nt) noexcept nogil:
    # 0: accumulate, which no binding offers (the C parameter stays for dense_stack_impl.h)
    if real_t is float:
        dense_backward_f32(dw, db, dx, dout, x, w, a, z, n, in_f, out_f, act, p, work, simd,
                           nt)
    else:
        dense_backward_f64(dw, db, dx, dout, x, w, a, z, n, in_f, out_f, act, p, work, simd,
                           nt)


# ---- workspaces ----
cdef int64_t _workspace_size_of(int kind, int kernel, int64_t s0, int64_t s1, int64_t s2,
                                int simd, int nt) noexcept nogil:
    """_workspace_size_c for the dtype code kind: the sizes take no array, so the public
    sizes (given a dtype) and _matrix_workspace (not fused: it is mostly its error
    message) pick the dtype here."""
    if kind == F32:
        return _workspace_size_c(<float *>NULL, kernel, s0, s1, s2, simd, nt)
    return _workspace_size_c(<double *>NULL, kernel, s0, s1, s2, simd, nt)


cdef object _workspace_size(int kernel, object s0, object s1, object s2, tuple names,
                            object dtype):
    """The public workspace sizes: for the current thread count and SIMD path."""
    cdef int64_t a = _size(s0, names[0]), b = _size(s1, names[1]), c = _size(s2, names[2])
    _check_products((a, b, c), names)
    return _workspace_size_of(_kind_of_dtype(dtype), kernel, a, b, c, _simd, _nthreads())


def gemm_workspace_size(m, n, k, dtype=np.float64):
    """Elements of workspace gemm needs for op(a) (m, k), op(b) (k, n)."""
    return _workspace_size(_GEMM, m, n, k, ("m", "n", "k"), dtype)


def dense_forward_workspace_size(n, in_features, out_features, dtype=np.float64):
    """Elements of workspace dense_forward needs."""
    return _workspace_size(_DENSE_FORWARD, n, in_features, out_features,
                           ("n", "in_features", "out_features"), dtype)


def dense_backward_workspace_size(n, in_features, out_features, dtype=np.float64):
    """Elements of workspace dense_backward needs."""
    return _workspace_size(_DENSE_BACKWARD, n, in_features, out_features,
                           ("n", "in_features", "out_features"), dtype)


cdef cnp.ndarray _matrix_workspace(object workspace, int kernel, int kind, int64_t s0,
                                   int64_t s1, int64_t s2, int simd, int *nt):
    """A matrix kernel's workspace, and in nt the threads it serves. The size grows with
    the thread count: a workspace sized for fewer threads than nt (by a model's plan made
    before the count was raised) runs the kernel on as many threads as it fits, with the
    same results; it must fit one."""
    cdef int64_t needed = _workspace_size_of(kind, kernel, s0, s1, s2, simd, nt[0])
    if workspace is None:
        return _workspace(None, needed, kind)
    cdef cnp.ndarray arr = _workspace(workspace, 0, kind)
    cdef int64_t have = cnp.PyArray_SIZE(arr)
    while nt[0] > 1 and _workspace_size_of(kind, kernel, s0, s1, s2, simd, nt[0]) > have:
        nt[0] -= 1
    cdef int64_t one = _workspace_size_of(kind, kernel, s0, s1, s2, simd, 1)
    if have < one:
        raise ValueError(f"workspace must have at least {needed} elements for this call "
                         f"({one} on one thread), got {have}")
    return arr


# ---- kernels ----
def gemm(a, b, c=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False, workspace=None):
    """c = alpha op(a) op(b) + beta c, with op(x) = x.T when trans_x."""
    if _is_f32(a):
        return _gemm(<float *>NULL, a, b, c, alpha, beta, trans_a, trans_b, workspace, False)
    return _gemm(<double *>NULL, a, b, c, alpha, beta, trans_a, trans_b, workspace, False)


cdef cnp.ndarray _gemm(real_t *dtype, object a, object b, object c, object alpha, object beta,
                       object trans_a, object trans_b, object workspace, bint plain):
    """gemm, or with `plain` the plain GEMM (_gemm_plain.pxi: one thread, no workspace),
    after the same checks."""
    cdef int kind = _kind_t(dtype)
    cdef cnp.ndarray A = _float_array(a, "a", kind, False)
    cdef cnp.ndarray B = _float_array(b, "b", kind, False)
    _check_ndim(A, "a", 2)
    _check_ndim(B, "b", 2)
    cdef bint ta = bool(trans_a), tb = bool(trans_b)
    cdef double al = _real(alpha, "alpha"), be = _real(beta, "beta")
    cdef int64_t m = A.shape[1] if ta else A.shape[0]
    cdef int64_t k = A.shape[0] if ta else A.shape[1]
    cdef int64_t kb = B.shape[1] if tb else B.shape[0]
    cdef int64_t n = B.shape[0] if tb else B.shape[1]
    if kb != k:
        raise ValueError(f"b has shape {_shape(B)} but op(a) has {k} columns: op(b) must have "
                         f"{k} rows")
    cdef int64_t lda = _leading_dim(A, "a"), ldb = _leading_dim(B, "b"), ldc
    cdef cnp.ndarray C
    if c is None:
        if be != 0:
            raise ValueError("beta must be 0 when c is None (there is no c to scale)")
        C = np.empty((m, n), dtype=_DTYPES[kind])
    else:
        C = _float_array(c, "c", kind, False)
        _check_shape(C, "c", (m, n), " (op(a) rows, op(b) columns)")
        if not cnp.PyArray_ISWRITEABLE(C):
            raise ValueError("c must be writeable")
    ldc = _leading_dim(C, "c")
    cdef int nt = _nthreads(), simd = _simd
    cdef real_t *pc = <real_t *>_ptr(C)
    cdef real_t *pa = <real_t *>_ptr(A)
    cdef real_t *pb = <real_t *>_ptr(B)
    if plain:
        _check_all_disjoint([C, A, B], ["c", "a", "b"], 1)
        with nogil:
            _gemm_plain_run(pc, pa, pb, m, n, k, al, be, ta, tb, lda, ldb, ldc, simd)
        return C
    cdef cnp.ndarray W = _matrix_workspace(workspace, _GEMM, kind, m, n, k, simd, &nt)
    _check_all_disjoint([W, C, A, B], ["workspace", "c", "a", "b"], 2)
    cdef real_t *pw = <real_t *>_ptr(W)
    with nogil:
        _gemm_c(pc, pa, pb, m, n, k, al, be, ta, tb, lda, ldb, ldc, pw, simd, nt)
    return C


cdef tuple _dense_inputs(object x, object weight, int kind):
    """x (n, in_features) and weight (out_features, in_features), checked."""
    cdef cnp.ndarray X = _float_array(x, "x", kind)
    _check_ndim(X, "x", 2)
    cdef cnp.ndarray Wt = _float_array(weight, "weight", kind)
    _check_ndim(Wt, "weight", 2)
    if Wt.shape[1] != X.shape[1]:
        raise ValueError(f"weight must have shape (out_features, {X.shape[1]}) to match x's "
                         f"{X.shape[1]} features, got {_shape(Wt)}")
    return X, Wt


def dense_forward(x, weight, bias=None, activation="identity", param=None, *, out=None,
                  z=None, workspace=None):
    """out = f(x weight^T + bias); z, when given, receives x weight^T + bias."""
    if _is_f32(x):
        return _dense_forward(<float *>NULL, x, weight, bias, activation, param, out, z,
                              workspace)
    return _dense_forward(<double *>NULL, x, weight, bias, activation, param, out, z, workspace)


cdef cnp.ndarray _dense_forward(real_t *dtype, object x, object weight, object bias,
                                object activation, object param, object out, object z,
                                object workspace):
    cdef int kind = _kind_t(dtype)
    cdef double p
    X, Wt = _dense_inputs(x, weight, kind)
    cdef int64_t n = X.shape[0], in_f = X.shape[1], out_f = Wt.shape[0]
    cdef pynn_activation act = _activation(activation, param, &p)
    cdef cnp.ndarray Bv = None
    if bias is not None:
        Bv = _float_array(bias, "bias", kind)
        _check_shape(Bv, "bias", (out_f,), " (out_features,)")
    cdef cnp.ndarray O = _output(out, "out", (n, out_f), kind)
    cdef cnp.ndarray Z = None if z is None else _output(z, "z", (n, out_f), kind)
    cdef int nt = _nthreads(), simd = _simd
    cdef cnp.ndarray Wk = _matrix_workspace(workspace, _DENSE_FORWARD, kind, n, in_f,
                                            out_f, simd, &nt)
    _check_all_disjoint([O, Z, Wk, X, Wt, Bv], ["out", "z", "workspace", "x", "weight", "bias"], 3)
    cdef real_t *po = <real_t *>_ptr(O)
    cdef real_t *pz = <real_t *>_ptr(Z)
    cdef real_t *px = <real_t *>_ptr(X)
    cdef real_t *pw = <real_t *>_ptr(Wt)
    cdef real_t *pb = <real_t *>_ptr(Bv)
    cdef real_t *pk = <real_t *>_ptr(Wk)
    with nogil:
        _dense_forward_c(po, pz, px, pw, pb, n, in_f, out_f, act, p, pk, simd, nt)
    return O


def dense_backward(dout, x, weight, activation="identity", param=None, *, a=None, z=None,
                   bias=True, input_grad=True, dweight=None, dbias=None, dx=None,
                   workspace=None):
    """(dweight, dbias, dx) of a dense layer from the gradient of its output."""
    if _is_f32(x):
        return _dense_backward(<float *>NULL, dout, x, weight, activation, param, a, z, bias,
                               input_grad, dweight, dbias, dx, workspace)
    return _dense_backward(<double *>NULL, dout, x, weight, activation, param, a, z, bias,
                           input_grad, dweight, dbias, dx, workspace)


cdef tuple _dense_backward(real_t *dtype, object dout, object x, object weight,
                           object activation, object param, object a, object z, object bias,
                           object input_grad, object dweight, object dbias, object dx,
                           object workspace):
    cdef int kind = _kind_t(dtype)
    cdef double p
    X, Wt = _dense_inputs(x, weight, kind)
    cdef int64_t n = X.shape[0], in_f = X.shape[1], out_f = Wt.shape[0]
    cdef pynn_activation act = _activation(activation, param, &p)
    saves = _saves_name(act, p, activation)
    cdef cnp.ndarray D = _float_array(dout, "dout", kind)
    _check_shape(D, "dout", (n, out_f), " (n, out_features)")
    cdef cnp.ndarray Av = None, Zv = None
    _check_saved(saves, activation, a, z)
    if saves == "output":
        Av = _float_array(a, "a", kind)
        _check_shape(Av, "a", (n, out_f), " (n, out_features)")
    elif saves == "input":
        Zv = _float_array(z, "z", kind)
        _check_shape(Zv, "z", (n, out_f), " (n, out_features)")
    cdef bint with_bias = bool(bias), with_dx = bool(input_grad)
    cdef cnp.ndarray DW = _output(dweight, "dweight", (out_f, in_f), kind)
    cdef cnp.ndarray DB = _output(dbias, "dbias", (out_f,), kind) if with_bias else None
    cdef cnp.ndarray DX = _output(dx, "dx", (n, in_f), kind) if with_dx else None
    cdef int nt = _nthreads(), simd = _simd
    cdef cnp.ndarray Wk = _matrix_workspace(workspace, _DENSE_BACKWARD, kind, n, in_f,
                                            out_f, simd, &nt)
    _check_all_disjoint([DW, DB, DX, Wk, D, X, Wt, Av, Zv],
                        ["dweight", "dbias", "dx", "workspace", "dout", "x", "weight", "a", "z"],
                        4)
    cdef real_t *pdw = <real_t *>_ptr(DW)
    cdef real_t *pdb = <real_t *>_ptr(DB)
    cdef real_t *pdx = <real_t *>_ptr(DX)
    cdef real_t *pd = <real_t *>_ptr(D)
    cdef real_t *px = <real_t *>_ptr(X)
    cdef real_t *pw = <real_t *>_ptr(Wt)
    cdef real_t *pa = <real_t *>_ptr(Av)
    cdef real_t *pz = <real_t *>_ptr(Zv)
    cdef real_t *pk = <real_t *>_ptr(Wk)
    with nogil:
        _dense_backward_c(pdw, pdb, pdx, pd, px, pw, pa, pz, n, in_f, out_f, act, p, pk, simd,
                          nt)
    return DW, DB, DX
