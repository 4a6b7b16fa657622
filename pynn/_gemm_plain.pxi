# The plain GEMM (csrc/gemm_plain_impl.h), for the tests: the C-level reference of gemm
# (included by _kernels.pyx after _matrix.pxi, whose _leading_dim it uses, and
# _losses.pxi, whose fused type real_t it uses).


cdef void _gemm_plain_run(real_t *c, const real_t *a, const real_t *b, int64_t m, int64_t n,
                          int64_t k, double alpha, double beta, bint trans_a, bint trans_b,
                          int64_t lda, int64_t ldb, int64_t ldc, int simd) noexcept nogil:
    if real_t is float:
        gemm_plain_f32(c, a, b, m, n, k, alpha, beta, trans_a, trans_b, lda, ldb, ldc, simd)
    else:
        gemm_plain_f64(c, a, b, m, n, k, alpha, beta, trans_a, trans_b, lda, ldb, ldc, simd)


def gemm_plain(a, b, c=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False):
    """c = alpha op(a) op(b) + beta c by the plain GEMM: gemm's arguments and checks (no
    workspace: it needs none), one thread, bitwise gemm's result on the current SIMD path."""
    cdef cnp.ndarray A = _as_array(a, "a")
    cdef int kind = _kind_of(A, "a")
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
    _check_all_disjoint([C, A, B], ["c", "a", "b"], 1)
    cdef int simd = _simd
    cdef void *pc = _ptr(C)
    cdef void *pa = _ptr(A)
    cdef void *pb = _ptr(B)
    with nogil:
        if kind == F32:
            _gemm_plain_run(<float *>pc, <float *>pa, <float *>pb, m, n, k, al, be, ta, tb,
                            lda, ldb, ldc, simd)
        else:
            _gemm_plain_run(<double *>pc, <double *>pa, <double *>pb, m, n, k, al, be, ta, tb,
                            lda, ldb, ldc, simd)
    return C
