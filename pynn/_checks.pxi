# Argument checks shared by every binding (included by _kernels.pyx).
# Each raises TypeError (wrong type or dtype) or ValueError (wrong shape,
# layout, value or overlap) with a message that names the argument, so that the
# C kernels can trust what they are given.

cdef enum:
    F32 = 0
    F64 = 1

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Each binding is written once for both dtypes, as a body fused over real_t (a cdef
# function whose first argument, a real_t * that is always NULL, only names its dtype).
# The def function picks the float or the double version by the dtype of the array that
# fixes the call's dtype (_is_f32); the body calls the C kernel through a small inline
# dispatch per C function (`if real_t is float: ..._f32(...) else: ..._f64(...)`),
# which Cython resolves at compile time.
ctypedef fused real_t:
    float
    double


cdef inline bint _is_f32(object obj) noexcept:
    """Whether obj is a float32 array: then a binding runs its float body, else its
    double one, whose checks raise for anything but a float64 array (as before the
    dtype was known)."""
    return cnp.PyArray_Check(obj) and cnp.PyArray_TYPE(<cnp.ndarray>obj) == cnp.NPY_FLOAT32


cdef inline int _kind_t(real_t *dtype) noexcept nogil:
    """F32 or F64: the dtype code of a fused body."""
    return F32 if real_t is float else F64


cdef inline cnp.ndarray _as_array(object obj, str name):
    if not cnp.PyArray_Check(obj):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(obj).__name__}")
    # C reads a double at an address that is no multiple of 8 as undefined behaviour (and
    # vectorised loops may fault): NumPy makes such arrays only from offset byte buffers.
    if not cnp.PyArray_ISALIGNED(<cnp.ndarray>obj):
        raise ValueError(f"{name} is not aligned: its data address must be a multiple of "
                         f"its item size (use {name}.copy())")
    return <cnp.ndarray>obj


cdef int _check_native(cnp.ndarray arr, str name) except -1:
    if not cnp.PyArray_ISNOTSWAPPED(arr):
        raise TypeError(f"{name} must be in the machine's byte order, got dtype "
                        f"{arr.dtype.str!r}; use arr.astype(arr.dtype.newbyteorder('='))")
    return 0


cdef int _kind_of(cnp.ndarray arr, str name) except -1:
    """F32 or F64: the dtype code of a floating array in native byte order."""
    cdef int t = cnp.PyArray_TYPE(arr)
    _check_native(arr, name)
    if t == cnp.NPY_FLOAT32:
        return F32
    if t == cnp.NPY_FLOAT64:
        return F64
    raise TypeError(f"{name} must have dtype float32 or float64, got {arr.dtype}")


cdef cnp.ndarray _float_array(object obj, str name, int kind, bint contiguous=True):
    """An input of the call's dtype; C-contiguous unless `contiguous` is False."""
    cdef cnp.ndarray arr = _as_array(obj, name)
    if _kind_of(arr, name) != kind:
        raise TypeError(f"{name} has dtype {arr.dtype} but the other arrays of this call "
                        f"are {_DTYPES[kind]}: every array must have the same dtype")
    if contiguous and not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"{name} must be C-contiguous (use numpy.ascontiguousarray)")
    return arr


cdef inline tuple _shape(cnp.ndarray arr):
    return (<object>arr).shape


cdef str _shape_str(tuple shape):
    return "(" + ", ".join([str(s) for s in shape]) + ("," if len(shape) == 1 else "") + ")"


cdef int _check_ndim(cnp.ndarray arr, str name, int ndim) except -1:
    if cnp.PyArray_NDIM(arr) != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {_shape(arr)}")
    return 0


cdef int _check_shape(cnp.ndarray arr, str name, tuple shape, str why="") except -1:
    cdef int nd = cnp.PyArray_NDIM(arr)
    cdef int i
    cdef bint ok = nd == len(shape)
    if ok:
        for i in range(nd):
            if cnp.PyArray_DIM(arr, i) != shape[i]:
                ok = False
                break
    if not ok:
        raise ValueError(f"{name} must have shape {_shape_str(shape)}{why}, got {_shape(arr)}")
    return 0


cdef cnp.ndarray _output(object obj, str name, tuple shape, int kind):
    """An output: a new array when obj is None, else obj checked for shape,
    dtype, layout and writeability."""
    if obj is None:
        return np.empty(shape, dtype=_DTYPES[kind])
    cdef cnp.ndarray arr = _float_array(obj, name, kind)
    _check_shape(arr, name, shape)
    if not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name} must be writeable")
    return arr


cdef int _bounds(cnp.ndarray arr, intptr_t *lo, intptr_t *hi) except -1:
    """The byte range [lo, hi) that arr's elements occupy; 0 if it is empty."""
    cdef int i
    cdef intptr_t extent
    cdef intptr_t start = <intptr_t>cnp.PyArray_DATA(arr)
    cdef intptr_t low = start, high = start
    if cnp.PyArray_SIZE(arr) == 0:
        return 0
    for i in range(cnp.PyArray_NDIM(arr)):
        extent = (cnp.PyArray_DIM(arr, i) - 1) * cnp.PyArray_STRIDE(arr, i)
        if extent < 0:
            low += extent
        else:
            high += extent
    lo[0] = low
    hi[0] = high + cnp.PyArray_ITEMSIZE(arr)
    return 1


cdef int _check_disjoint(object out, str out_name, object other, str other_name) except -1:
    """Outputs must not share memory with inputs or other outputs."""
    cdef intptr_t lo1 = 0, hi1 = 0, lo2 = 0, hi2 = 0
    if out is None or other is None:
        return 0
    if not _bounds(<cnp.ndarray>out, &lo1, &hi1) or not _bounds(<cnp.ndarray>other, &lo2, &hi2):
        return 0
    if lo1 < hi2 and lo2 < hi1:
        raise ValueError(f"{out_name} overlaps {other_name}: outputs must not share memory "
                         f"with inputs or other outputs")
    return 0


cdef int _check_all_disjoint(list arrays, list names, Py_ssize_t n_outputs) except -1:
    """The first n_outputs arrays are outputs: none may overlap another array.
    Inputs may share memory with each other (gemm(a, a, trans_b=True))."""
    cdef Py_ssize_t i, j
    for i in range(n_outputs):
        for j in range(i + 1, len(arrays)):
            _check_disjoint(arrays[i], names[i], arrays[j], names[j])
    return 0


cdef cnp.ndarray _workspace(object obj, int64_t size, int kind):
    """Scratch memory of at least `size` elements of the call's dtype."""
    if obj is None:
        return np.empty(max(size, 1), dtype=_DTYPES[kind])
    cdef cnp.ndarray arr = _float_array(obj, "workspace", kind)
    if cnp.PyArray_SIZE(arr) < size:
        raise ValueError(f"workspace must have at least {size} elements for this call, "
                         f"got {cnp.PyArray_SIZE(arr)}")
    if not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError("workspace must be writeable")
    return arr


cdef inline void *_ptr(object arr):
    """The data pointer of an array, NULL for None."""
    if arr is None:
        return NULL
    return cnp.PyArray_DATA(<cnp.ndarray>arr)


cdef double _real(object value, str name) except? -1.0:
    """A real scalar hyperparameter."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return <double>value


cdef int64_t _count(object value, str name) except? -1:
    """An integer count."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    cdef object exact = int(value)  # a Python int: no wrap-around in the comparisons
    if not -2**63 <= exact < 2**63:  # else the conversion would raise OverflowError
        raise ValueError(f"{name} must fit in a signed 64-bit integer, got {exact}")
    return <int64_t>exact
