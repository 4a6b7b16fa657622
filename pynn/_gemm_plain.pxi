# The plain GEMM (csrc/gemm_plain_impl.h), for the tests: the C-level reference of gemm,
# with gemm's argument checks (_matrix.pxi's _gemm). Included before _matrix.pxi.


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
    if _is_f32(a):
        return _gemm(<float *>NULL, a, b, c, alpha, beta, trans_a, trans_b, None, True)
    return _gemm(<double *>NULL, a, b, c, alpha, beta, trans_a, trans_b, None, True)
