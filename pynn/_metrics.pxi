# Metric bindings (included by _kernels.pyx).


cdef inline int64_t _count_argmax_hits_c(const real_t *out, const int64_t *labels, int64_t n,
                                         int64_t k) noexcept nogil:
    if real_t is float:
        return count_argmax_hits_f32(out, labels, n, k)
    else:
        return count_argmax_hits_f64(out, labels, n, k)


def count_argmax_hits(out, labels):
    """The number of rows of out (n, k) whose argmax (the first largest value, or the
    first NaN, as np.argmax) equals labels[i]: a batch's correct predictions."""
    if _is_f32(out):
        return _count_argmax_hits(<float *>NULL, out, labels)
    return _count_argmax_hits(<double *>NULL, out, labels)


cdef cnp.ndarray _hit_labels(object labels, int64_t n):
    """labels (n,) as a contiguous int64 array."""
    cdef cnp.ndarray Y = _as_array(labels, "labels")
    if Y.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class indices, got dtype {Y.dtype}")
    _check_shape(Y, "labels", (n,), " (one label per row of out)")
    if (cnp.PyArray_TYPE(Y) != cnp.NPY_INT64 or not cnp.PyArray_IS_C_CONTIGUOUS(Y)
            or not cnp.PyArray_ISNOTSWAPPED(Y)):
        if Y.dtype == np.uint64:  # a label no int64 holds is no column: never a hit
            Y = np.where(Y > np.iinfo(np.int64).max, -1, Y.astype(np.int64))
        Y = np.ascontiguousarray(Y, dtype=np.int64)
    return Y


cdef object _count_argmax_hits(real_t *dtype, object out, object labels):
    cdef cnp.ndarray O = _float_array(out, "out", _kind_t(dtype))
    _check_ndim(O, "out", 2)
    cdef int64_t n = O.shape[0], k = O.shape[1], hits
    if k < 1:
        raise ValueError(f"out must have at least one column, got shape {(n, k)}")
    cdef cnp.ndarray Y = _hit_labels(labels, n)
    cdef const real_t *po = <real_t *>cnp.PyArray_DATA(O)
    cdef const int64_t *py = <const int64_t *>cnp.PyArray_DATA(Y)
    with nogil:
        hits = _count_argmax_hits_c(po, py, n, k)
    return int(hits)
