# The records of a network (included by _network.pxi): checking one layer's dict and
# filling its C record, for either dtype.

ctypedef fused net_t:
    net_layer_f32
    net_layer_f64


cdef struct _span:
    intptr_t lo
    intptr_t hi


cdef void _store_record(net_t *dst, const net_layer_f64 *r) noexcept:
    """One record, written field by field into either dtype's array (the Cython
    declarations of the two are the same)."""
    dst.kind, dst.in_f, dst.out_f = r.kind, r.in_f, r.out_f
    dst.w, dst.b, dst.dw, dst.db = r.w, r.b, r.dw, r.db
    dst.act, dst.param, dst.pieces, dst.shared = r.act, r.param, r.pieces, r.shared
    dst.out, dst.z, dst.dz, dst.argmax, dst.dx = r.out, r.z, r.dz, r.argmax, r.dx
    dst.mask, dst.stream = r.mask, r.stream


cdef class _Binding:
    """What binding a network's layers collects: the buffers it writes and reads, with
    their names, per layer (for the aliasing checks)."""
    cdef list written, names, inputs, input_names, layer_written, current
    cdef int kind
    cdef int64_t n
    cdef bint training

    def __cinit__(self, int kind, int64_t n, bint training):
        self.kind, self.n, self.training = kind, n, training
        self.written, self.names, self.inputs, self.input_names = [], [], [], []
        self.layer_written = []

    cdef cnp.ndarray out(self, object spec, str at, str key, tuple shape, bint wanted,
                         str when="the network trains"):
        """spec[key], an output of `shape`: required when wanted, else None."""
        value = spec[key]
        if wanted != (value is not None):
            if key == "out":
                raise ValueError(f"{at}['out'] is required")
            raise ValueError(f"{at}['{key}'] must be given exactly when {when} (here "
                             f"{'it is required' if wanted else 'it must be None'})")
        if value is None:
            return None
        cdef cnp.ndarray arr = _output(value, f"{at}['{key}']", shape, self.kind)
        self.written.append(arr)
        self.names.append(f"{at}['{key}']")
        self.current.append(len(self.written) - 1)
        return arr

    cdef cnp.ndarray param(self, object spec, str at, str key, int ndim):
        cdef cnp.ndarray arr = _float_array(spec[key], f"{at}['{key}']", self.kind)
        _check_ndim(arr, f"{at}['{key}']", ndim)
        self.inputs.append(arr)
        self.input_names.append(f"{at}['{key}']")
        return arr

    cdef cnp.ndarray indices(self, object spec, str at, tuple shape):
        """Maxout's argmax: an int64 output of `shape`, for training only."""
        value = spec["argmax"]
        if (value is None) == self.training:
            raise ValueError(f"{at}['argmax'] must be given exactly when the network trains")
        if value is None:
            return None
        cdef cnp.ndarray arr = _as_array(value, f"{at}['argmax']")
        if cnp.PyArray_TYPE(arr) != cnp.NPY_INT64 or not cnp.PyArray_ISNOTSWAPPED(arr):
            raise TypeError(f"{at}['argmax'] must be an int64 array, got dtype {arr.dtype}")
        _check_shape(arr, f"{at}['argmax']", shape)
        if not cnp.PyArray_IS_C_CONTIGUOUS(arr) or not cnp.PyArray_ISWRITEABLE(arr):
            raise ValueError(f"{at}['argmax'] must be C-contiguous and writeable")
        self.written.append(arr)
        self.names.append(f"{at}['argmax']")
        self.current.append(len(self.written) - 1)
        return arr


cdef int _bind_affine(_Binding b, object spec, str at, int64_t in_f, int64_t rows_per,
                      net_layer_f64 *r) except -1:
    """Dense's and Maxout's weight (rows, in_f), bias and their gradients; rows must be a
    multiple of rows_per (Maxout's pieces). Sets r.w, r.b, r.dw, r.db, r.out_f."""
    cdef cnp.ndarray W = b.param(spec, at, "weight", 2)
    if W.shape[1] != in_f:
        raise ValueError(f"{at}['weight'] must have {in_f} columns (its input's width), "
                         f"got shape {_shape(W)}")
    cdef int64_t rows = W.shape[0]
    if rows < 1 or rows % rows_per:
        raise ValueError(f"{at}['weight'] must have a positive multiple of {rows_per} rows, "
                         f"got shape {_shape(W)}")
    cdef cnp.ndarray B = None
    if b.training and (spec["bias"] is None) != (spec["dbias"] is None):
        raise ValueError(f"{at}: give both bias and dbias, or neither")
    if spec["bias"] is not None:
        B = b.param(spec, at, "bias", 1)
        _check_shape(B, at + "['bias']", (rows,), " (one per row of the weight)")
    r.w, r.b = _ptr(W), _ptr(B)
    r.dw = _ptr(b.out(spec, at, "dweight", (rows, in_f), b.training))
    r.db = _ptr(b.out(spec, at, "dbias", (rows,), b.training and B is not None))
    r.out_f = rows // rows_per
    return 0


cdef int _bind_record(_Binding b, Py_ssize_t i, object spec, int64_t in_f, bint needs_dx,
                      net_layer_f64 *r) except -1:
    """Check layer i's record dict (its input has in_f features) and fill r."""
    cdef str at = f"layers[{i}]"
    kind = spec.get("kind") if isinstance(spec, dict) else None
    if kind not in LAYER_KINDS or set(spec) != {"kind", *LAYER_KINDS[kind]}:
        raise TypeError(f"{at} must be a dict with the key 'kind' (one of "
                        f"{', '.join(LAYER_KINDS)}) and its kind's keys" +
                        (f": {', '.join(LAYER_KINDS[kind])}" if kind in LAYER_KINDS else ""))
    b.current = []
    b.layer_written.append(b.current)
    cdef int64_t n = b.n
    r.kind, r.in_f, r.out_f = _KIND_CODES[kind], in_f, in_f
    if kind in ("dense", "activation"):
        r.act = _activation(spec["activation"], spec["param"], &r.param)
        saves = _saves_name(r.act, r.param, spec["activation"]) if b.training else None
    if kind == "dense":
        _bind_affine(b, spec, at, in_f, 1, r)
        r.z = _ptr(b.out(spec, at, "z", (n, r.out_f), saves == "input",
                         "the network trains and the activation's derivative reads its "
                         f"input ({spec['activation']!r}: {saves or 'nothing'})"))
    elif kind == "maxout":
        r.pieces = _count(spec["pieces"], at + "['pieces']")
        if r.pieces < 1:
            raise ValueError(f"{at}['pieces'] must be at least 1, got {r.pieces}")
        _bind_affine(b, spec, at, in_f, r.pieces, r)
        r.z = _ptr(b.out(spec, at, "z", (n, r.out_f * r.pieces), True, "always"))
        r.dz = _ptr(b.out(spec, at, "dz", (n, r.out_f * r.pieces), b.training))
        r.argmax = <int64_t *>_ptr(b.indices(spec, at, (n, r.out_f)))
    elif kind == "prelu":
        S = b.param(spec, at, "weight", 1)
        if S.shape[0] != in_f and S.shape[0] != 1:
            raise ValueError(f"{at}['weight'] must have shape ({in_f},) (one slope per "
                             f"feature) or (1,) (shared), got {_shape(S)}")
        r.w, r.shared = _ptr(S), S.shape[0] == 1
        r.dw = _ptr(b.out(spec, at, "dweight", _shape(S), b.training))
    elif kind == "standardize":
        M, C = b.param(spec, at, "mean", 1), b.param(spec, at, "scale", 1)
        _check_shape(M, at + "['mean']", (in_f,), " (one per input feature)")
        _check_shape(C, at + "['scale']", (in_f,), " (one per input feature)")
        r.w, r.b = _ptr(M), _ptr(C)
    elif kind == "dropout":
        _bind_dropout(b, spec, at, r)
    r.out = _ptr(b.out(spec, at, "out", (n, r.out_f), True))
    r.dx = _ptr(b.out(spec, at, "dx", (n, in_f), b.training and needs_dx,
                      "the network trains and a layer before it has parameters"))
    return 0


cdef int _bind_dropout(_Binding b, object spec, str at, net_layer_f64 *r) except -1:
    """Dropout's p in [0, 1), its stream (a uint64 array (2,): seed, step) and, for a
    network that trains, its mask (n, in_f). Sets r.param, r.stream, r.mask."""
    r.param = _real(spec["p"], at + "['p']")
    if not 0.0 <= r.param < 1.0:
        raise ValueError(f"{at}['p'] must be in [0, 1), got {spec['p']!r}")
    cdef cnp.ndarray S = _as_array(spec["stream"], at + "['stream']")
    if cnp.PyArray_TYPE(S) != cnp.NPY_UINT64 or not cnp.PyArray_ISNOTSWAPPED(S):
        raise TypeError(f"{at}['stream'] must be a uint64 array (seed, step), got dtype "
                        f"{S.dtype}")
    _check_shape(S, at + "['stream']", (2,), " (seed, step)")
    if not cnp.PyArray_IS_C_CONTIGUOUS(S):
        raise ValueError(f"{at}['stream'] must be C-contiguous")
    b.inputs.append(S)
    b.input_names.append(at + "['stream']")
    r.stream = <const uint64_t *>cnp.PyArray_DATA(S)
    r.mask = _ptr(b.out(spec, at, "mask", (b.n, r.in_f), b.training))
    return 0
