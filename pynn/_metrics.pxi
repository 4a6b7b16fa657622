# Metric bindings (included by _kernels.pyx).


def count_argmax_hits(out, labels):
    """The number of rows of out (n, k) whose argmax (the first largest value, or the
    first NaN, as np.argmax) equals labels[i]: a batch's correct predictions."""
    cdef cnp.ndarray O = _as_array(out, "out")
    cdef int kind = _kind_of(O, "out")
    O = _float_array(O, "out", kind)
    _check_ndim(O, "out", 2)
    cdef int64_t n = O.shape[0], k = O.shape[1], hits
    if k < 1:
        raise ValueError(f"out must have at least one column, got shape {(n, k)}")
    cdef cnp.ndarray Y = _as_array(labels, "labels")
    if Y.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class indices, got dtype {Y.dtype}")
    _check_shape(Y, "labels", (n,), " (one label per row of out)")
    if (cnp.PyArray_TYPE(Y) != cnp.NPY_INT64 or not cnp.PyArray_IS_C_CONTIGUOUS(Y)
            or not cnp.PyArray_ISNOTSWAPPED(Y)):
        if Y.dtype == np.uint64:  # a label no int64 holds is no column: never a hit
            Y = np.where(Y > np.iinfo(np.int64).max, -1, Y.astype(np.int64))
        Y = np.ascontiguousarray(Y, dtype=np.int64)
    cdef const void *po = cnp.PyArray_DATA(O)
    cdef const int64_t *py = <const int64_t *>cnp.PyArray_DATA(Y)
    with nogil:
        if kind == F32:
            hits = count_argmax_hits_f32(<const float *>po, py, n, k)
        else:
            hits = count_argmax_hits_f64(<const double *>po, py, n, k)
    return int(hits)
