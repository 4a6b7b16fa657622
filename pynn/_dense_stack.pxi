# The whole training step of a stack of Dense layers (included by _kernels.pyx,
# after _losses.pxi, whose value checks it reuses).
#
# A DenseStackStep checks every buffer of a step once, when it is made, and keeps
# them; each call then checks only what it is given (the data, the rows, the
# targets) and runs gather, forward, loss and backward in one C call with the GIL
# released. A small network's step costs a few microseconds of arithmetic, and as
# much again per Python-level kernel call: this is the fast path of Sequential.fit.
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

# Loss kernel names (as in pynn.losses) -> C code; softmax_cross_entropy's code
# depends on its target: labels or probabilities.
_STACK_LOSSES = {"mse": PYNN_LOSS_MSE, "l1": PYNN_LOSS_L1,
                 "sigmoid_binary_cross_entropy": PYNN_LOSS_SIGMOID_BCE,
                 "softmax_cross_entropy": PYNN_LOSS_SOFTMAX_CE_PROBS, "hinge": PYNN_LOSS_HINGE}
_LAYER_KEYS = ("weight", "bias", "dweight", "dbias", "activation", "param", "out", "z", "dx")


cdef struct _span:
    intptr_t lo
    intptr_t hi


cdef class DenseStackStep:
    """One training step (without the update) of a stack of Dense layers, in one call.

    DenseStackStep(layers, loss, x, target, dout, sample_loss, workspace) keeps these
    buffers, all C-contiguous, of one float dtype, and distinct:

    - layers: one dict per layer with the keys weight (out_f, in_f), bias (out_f,) or
      None, dweight and dbias (bias's shape, None without bias), activation and param (as
      dense_forward), out (n, out_f), z (n, out_f) when the activation's derivative reads
      its input (activation_saves) else None, and dx (n, in_f), None for the first layer;
    - loss: "mse", "l1", "sigmoid_binary_cross_entropy", "softmax_cross_entropy" or
      "hinge"; x (n, in_f) the batch; target int64 labels (n,) (softmax_cross_entropy only)
      or (n, k); dout (n, k); sample_loss (n,); workspace of at least
      workspace_size elements.

    The thread count and SIMD path are those in force when it is made. Each `run`
    gathers a batch, runs dense_forward per layer, the loss, and, when the loss is
    finite, dense_backward per layer (overwriting the gradients), exactly as those
    kernels called one by one.
    """
    cdef list _keep            # every buffer the C code uses, kept alive
    cdef dense_layer_f32 *_l32
    cdef dense_layer_f64 *_l64
    cdef _span *_written       # byte ranges of every buffer a run writes
    cdef Py_ssize_t _n_written
    cdef int _kind, _simd, _nthreads
    cdef pynn_loss _loss
    cdef int64_t _n_layers, _n, _n_features, _n_outputs
    cdef cnp.ndarray _target_array
    cdef void *_x
    cdef void *_target
    cdef void *_dout
    cdef void *_sample_loss
    cdef void *_work
    cdef readonly int64_t workspace_size

    def __cinit__(self, layers, loss, x, target, dout, sample_loss, workspace):
        if not isinstance(layers, (list, tuple)) or len(layers) == 0:
            raise TypeError("layers must be a non-empty list of dicts, one per Dense layer")
        cdef cnp.ndarray X = _as_array(x, "x")
        cdef int kind = _kind_of(X, "x")
        _check_ndim(X, "x", 2)
        cdef int64_t n = X.shape[0]
        if n < 1:
            raise ValueError("x must hold at least one sample")
        self._kind, self._n, self._n_layers = kind, n, len(layers)
        self._simd, self._nthreads = _simd, _nthreads()
        if kind == F32:
            self._l32 = <dense_layer_f32 *>malloc(self._n_layers * sizeof(dense_layer_f32))
        else:
            self._l64 = <dense_layer_f64 *>malloc(self._n_layers * sizeof(dense_layer_f64))
        if self._l32 is NULL and self._l64 is NULL:
            raise MemoryError()
        written, names = [], []
        inputs, input_names = [], []
        cdef int64_t width = X.shape[1]
        cdef Py_ssize_t i
        for i, spec in enumerate(layers):
            width = self._bind_layer(i, spec, width, written, names, inputs, input_names)
        self._n_features, self._n_outputs = X.shape[1], width

        X = _output(X, "x", (n, self._n_features), kind)
        cdef cnp.ndarray T = _as_array(target, "target")
        if not isinstance(loss, str) or loss not in _STACK_LOSSES:
            raise ValueError(f"loss must be one of {tuple(_STACK_LOSSES)}, got {loss!r}")
        self._loss = <pynn_loss>(<int>_STACK_LOSSES[loss])
        if cnp.PyArray_NDIM(T) == 1 and loss == "softmax_cross_entropy":
            if cnp.PyArray_TYPE(T) != cnp.NPY_INT64:
                raise TypeError(f"target must be int64 labels (n,) or a float (n, k) array, "
                                f"got dtype {T.dtype}")
            _check_native(T, "target")
            _check_shape(T, "target", (n,), " (one label per sample)")
            if not cnp.PyArray_IS_C_CONTIGUOUS(T) or not cnp.PyArray_ISWRITEABLE(T):
                raise ValueError("target must be C-contiguous and writeable")
            self._loss = PYNN_LOSS_SOFTMAX_CE_LABELS
        else:
            T = _output(T, "target", (n, self._n_outputs), kind)
        cdef cnp.ndarray D = _output(dout, "dout", (n, self._n_outputs), kind)
        cdef cnp.ndarray L = _output(sample_loss, "sample_loss", (n,), kind)
        self.workspace_size = self._needed_workspace()
        cdef cnp.ndarray Wk = _workspace(workspace, self.workspace_size, kind)
        written += [X, T, D, L, Wk]
        names += ["x", "target", "dout", "sample_loss", "workspace"]
        _check_all_disjoint(written + inputs, names + input_names, len(written))

        self._keep = written + inputs
        self._target_array = T
        self._x, self._target, self._dout = _ptr(X), _ptr(T), _ptr(D)
        self._sample_loss, self._work = _ptr(L), _ptr(Wk)
        self._written = <_span *>malloc(len(written) * sizeof(_span))
        if self._written is NULL:
            raise MemoryError()
        self._n_written = 0
        for arr in written:
            if _bounds(<cnp.ndarray>arr, &self._written[self._n_written].lo,
                       &self._written[self._n_written].hi):
                self._n_written += 1

    def __dealloc__(self):
        free(self._l32)
        free(self._l64)
        free(self._written)

    cdef int64_t _bind_layer(self, Py_ssize_t i, object spec, int64_t in_f, list written,
                             list names, list inputs, list input_names) except -1:
        """Check layer i's buffers (its input has in_f features) and fill its C struct;
        returns its output width."""
        if not isinstance(spec, dict) or set(spec) != set(_LAYER_KEYS):
            raise TypeError(f"layers[{i}] must be a dict with the keys {', '.join(_LAYER_KEYS)}")
        cdef str at = f"layers[{i}]"
        cdef int kind = self._kind
        cdef int64_t n = self._n
        cdef double p
        cdef pynn_activation act = _activation(spec["activation"], spec["param"], &p)
        saves = _saves_name(act, p, spec["activation"])
        cdef cnp.ndarray W = _float_array(spec["weight"], at + "['weight']", kind)
        _check_ndim(W, at + "['weight']", 2)
        if W.shape[1] != in_f:
            raise ValueError(f"{at}['weight'] must have {in_f} columns (its input's width), "
                             f"got shape {_shape(W)}")
        cdef int64_t out_f = W.shape[0]
        if out_f < 1:
            raise ValueError(f"{at}['weight'] must have at least one row")
        cdef cnp.ndarray B = None, DB = None, Z = None, DX = None
        if (spec["bias"] is None) != (spec["dbias"] is None):
            raise ValueError(f"{at}: give both bias and dbias, or neither")
        if spec["bias"] is not None:
            B = _float_array(spec["bias"], at + "['bias']", kind)
            _check_shape(B, at + "['bias']", (out_f,), " (out_features,)")
            DB = _output(spec["dbias"], at + "['dbias']", (out_f,), kind)
        cdef cnp.ndarray DW = _output(spec["dweight"], at + "['dweight']", (out_f, in_f), kind)
        if spec["out"] is None:
            raise ValueError(f"{at}['out'] is required")
        cdef cnp.ndarray O = _output(spec["out"], at + "['out']", (n, out_f), kind)
        if (saves == "input") != (spec["z"] is not None):
            raise ValueError(f"{at}['z'] must be given exactly when the activation's "
                             f"derivative reads its input ({spec['activation']!r}: "
                             f"{'it does' if saves == 'input' else 'it does not'})")
        if spec["z"] is not None:
            Z = _output(spec["z"], at + "['z']", (n, out_f), kind)
        if (i == 0) != (spec["dx"] is None):
            raise ValueError(f"{at}['dx'] must be None for the first layer and given for "
                             f"the others")
        if spec["dx"] is not None:
            DX = _output(spec["dx"], at + "['dx']", (n, in_f), kind)
        for arr, name in ((DW, "dweight"), (DB, "dbias"), (O, "out"), (Z, "z"), (DX, "dx")):
            if arr is not None:
                written.append(arr)
                names.append(f"{at}['{name}']")
        inputs += [W, B]
        input_names += [at + "['weight']", at + "['bias']"]
        if kind == F32:
            self._l32[i] = dense_layer_f32(<float *>_ptr(W), <float *>_ptr(B), <float *>_ptr(DW),
                                           <float *>_ptr(DB), <float *>_ptr(O), <float *>_ptr(Z),
                                           <float *>_ptr(DX), in_f, out_f, act, p)
        else:
            self._l64[i] = dense_layer_f64(<double *>_ptr(W), <double *>_ptr(B),
                                           <double *>_ptr(DW), <double *>_ptr(DB),
                                           <double *>_ptr(O), <double *>_ptr(Z),
                                           <double *>_ptr(DX), in_f, out_f, act, p)
        return out_f

    cdef int64_t _needed_workspace(self):
        if self._kind == F32:
            return dense_stack_workspace_size_f32(self._l32, self._n_layers, self._n,
                                                  self._simd, self._nthreads)
        return dense_stack_workspace_size_f64(self._l64, self._n_layers, self._n,
                                              self._simd, self._nthreads)

    cdef int _check_unwritten(self, cnp.ndarray arr, str name) except -1:
        """arr shares no memory with a buffer the step writes."""
        cdef intptr_t lo = 0, hi = 0
        cdef Py_ssize_t j
        if not _bounds(arr, &lo, &hi):
            return 0
        for j in range(self._n_written):
            if lo < self._written[j].hi and self._written[j].lo < hi:
                raise ValueError(f"{name} overlaps a buffer the step writes")
        return 0

    cdef int _gather_targets(self, object targets, int64_t n_rows,
                             const int64_t *rows) except -1:
        """Rows `rows` of the full targets into the step's target buffer."""
        cdef cnp.ndarray T = _as_array(targets, "targets")
        cdef int64_t i, k = self._n_outputs
        cdef char *dst = <char *>self._target
        cdef char *src
        cdef size_t row_bytes
        if self._loss == PYNN_LOSS_SOFTMAX_CE_LABELS:
            if cnp.PyArray_TYPE(T) != cnp.NPY_INT64 or not cnp.PyArray_ISNOTSWAPPED(T):
                raise TypeError(f"targets must be int64 labels, got dtype {T.dtype}")
            _check_shape(T, "targets", (n_rows,), " (one label per row of X)")
            row_bytes = sizeof(int64_t)
        else:
            T = _float_array(T, "targets", self._kind)
            _check_shape(T, "targets", (n_rows, k), " (one row per row of X)")
            row_bytes = k * (sizeof(float) if self._kind == F32 else sizeof(double))
        if not cnp.PyArray_IS_C_CONTIGUOUS(T):
            raise ValueError("targets must be C-contiguous")
        self._check_unwritten(T, "targets")
        src = <char *>cnp.PyArray_DATA(T)
        with nogil:
            for i in range(self._n):
                memcpy(dst + i * row_bytes, src + rows[i] * row_bytes, row_bytes)
        return 0

    cdef int _check_targets(self, object rows) except -1:
        """The gathered targets are in the loss's domain (as the loss kernels check);
        an error names the row of the targets (`rows` gathered them), else the sample."""
        cdef int64_t bad = -1, size = self._n * self._n_outputs
        cdef void *t = self._target
        cdef bint f32 = self._kind == F32
        with nogil:
            if self._loss == PYNN_LOSS_SOFTMAX_CE_LABELS:
                bad = _first_bad_label(<int64_t *>t, self._n, self._n_outputs)
            elif self._loss == PYNN_LOSS_SIGMOID_BCE:
                bad = _first_outside(<float *>t, size, 0.0, 1.0) if f32 else \
                    _first_outside(<double *>t, size, 0.0, 1.0)
            elif self._loss == PYNN_LOSS_SOFTMAX_CE_PROBS:
                bad = _first_outside(<float *>t, size, 0.0, _DOUBLE_MAX) if f32 else \
                    _first_outside(<double *>t, size, 0.0, _DOUBLE_MAX)
            elif self._loss == PYNN_LOSS_HINGE:
                bad = _first_not_sign(<float *>t, size) if f32 else \
                    _first_not_sign(<double *>t, size)
        if bad < 0:
            return 0
        value = self._target_array.flat[bad].item()
        sample = bad if self._loss == PYNN_LOSS_SOFTMAX_CE_LABELS else bad // self._n_outputs
        where = f"in sample {sample}" if rows is None else f"in row {rows[sample]} of targets"
        if self._loss == PYNN_LOSS_SOFTMAX_CE_LABELS:
            raise ValueError(f"target labels must be in [0, {self._n_outputs}) for "
                             f"{self._n_outputs} classes, got {value} {where}")
        domain = {PYNN_LOSS_SIGMOID_BCE: "in [0, 1]",
                  PYNN_LOSS_SOFTMAX_CE_PROBS: "finite and non-negative",
                  PYNN_LOSS_HINGE: "-1 or +1 for the hinge loss"}[self._loss]
        raise ValueError(f"targets must be {domain}, got {value} {where}")

    def run(self, X, rows, targets):
        """One step; returns (mean loss, number of rows whose argmax is their label, or
        None when the targets are not labels).

        X (N, in_f) is the data, of the step's dtype and C-contiguous, rows the batch's
        int64 row numbers (n,) into it, targets the full targets (N,) or (N, k). With X,
        rows and targets all None, x and target already hold the batch. When the loss is
        not finite no gradient is written."""
        cdef cnp.ndarray A, R
        cdef const int64_t *pr = NULL
        cdef void *px = NULL
        cdef int64_t i, n_rows, bad = -1
        if X is None:
            if rows is not None or targets is not None:
                raise ValueError("give X, rows and targets together, or none of them")
        else:
            A = _float_array(X, "X", self._kind)
            _check_ndim(A, "X", 2)
            if A.shape[1] != self._n_features:
                raise ValueError(f"X must have {self._n_features} columns, got {A.shape[1]}")
            self._check_unwritten(A, "X")
            n_rows = A.shape[0]
            R = _as_array(rows, "rows")
            if (cnp.PyArray_TYPE(R) != cnp.NPY_INT64 or not cnp.PyArray_ISNOTSWAPPED(R)
                    or not cnp.PyArray_IS_C_CONTIGUOUS(R)):
                raise TypeError(f"rows must be a C-contiguous int64 array, got dtype {R.dtype}")
            _check_shape(R, "rows", (self._n,), " (the step's batch size)")
            self._check_unwritten(R, "rows")
            pr = <const int64_t *>cnp.PyArray_DATA(R)
            with nogil:
                bad = _first_bad_label(pr, self._n, n_rows)
            if bad >= 0:
                raise ValueError(f"rows must be in [0, {n_rows}), got {R[bad]} at index {bad}")
            self._gather_targets(targets, n_rows, pr)
            px = cnp.PyArray_DATA(A)
        self._check_targets(rows)
        cdef int64_t hits = -1
        cdef double value
        # labels for the labels loss, else target: the C code reads only one of them
        cdef bint by_label = self._loss == PYNN_LOSS_SOFTMAX_CE_LABELS
        cdef const int64_t *labels = <const int64_t *>self._target if by_label else NULL
        cdef void *target = NULL if by_label else self._target
        cdef int64_t *ph = &hits if by_label else NULL
        with nogil:
            if self._kind == F32:
                value = dense_stack_step_f32(self._l32, self._n_layers, self._n, <float *>px,
                                             pr, <float *>self._x, self._loss, labels,
                                             <float *>target, <float *>self._dout,
                                             <float *>self._sample_loss, ph,
                                             <float *>self._work, self._simd, self._nthreads)
            else:
                value = dense_stack_step_f64(self._l64, self._n_layers, self._n, <double *>px,
                                             pr, <double *>self._x, self._loss, labels,
                                             <double *>target, <double *>self._dout,
                                             <double *>self._sample_loss, ph,
                                             <double *>self._work, self._simd,
                                             self._nthreads)
        return value, (hits if ph != NULL else None)
