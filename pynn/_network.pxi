# A network of layer records: the forward pass, the backward pass and the whole training
# step in one C call each (included by _kernels.pyx, after _losses.pxi, whose value checks
# it reuses).
#
# A Network checks every buffer once, when it is made for a batch size, and keeps them;
# each call then checks only what it is given (the data, the rows, the targets) and runs
# with the GIL released. Its thread count and SIMD path are those in force when it is
# made (its workspace is sized for them). One generic body serves both dtypes: the
# records' pointers are void * on the Cython side (_capi.pxd).
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy, memset

# Loss kernel names (as in pynn.losses) -> C code; softmax_cross_entropy's code
# depends on its target: labels or probabilities.
_NETWORK_LOSSES = {"mse": PYNN_LOSS_MSE, "l1": PYNN_LOSS_L1,
                   "sigmoid_binary_cross_entropy": PYNN_LOSS_SIGMOID_BCE,
                   "softmax_cross_entropy": PYNN_LOSS_SOFTMAX_CE_PROBS,
                   "hinge": PYNN_LOSS_HINGE, "poisson": PYNN_LOSS_POISSON}
# kind -> the keys of its record dict, after "kind"
LAYER_KINDS = {
    "dense": ("weight", "bias", "dweight", "dbias", "activation", "param", "out", "z", "dx"),
    "activation": ("activation", "param", "out", "dx"),
    "prelu": ("weight", "dweight", "out", "dx"),
    "maxout": ("weight", "bias", "dweight", "dbias", "pieces", "out", "z", "dz", "argmax",
               "dx"),
    "standardize": ("mean", "scale", "out", "dx"),
    "dropout": ("p", "stream", "mask", "out", "dx"),
}
_KIND_CODES = {"dense": PYNN_LAYER_DENSE, "activation": PYNN_LAYER_ACTIVATION,
               "prelu": PYNN_LAYER_PRELU, "maxout": PYNN_LAYER_MAXOUT,
               "standardize": PYNN_LAYER_STANDARDIZE, "dropout": PYNN_LAYER_DROPOUT}
_HAS_PARAMETERS = ("dense", "prelu", "maxout")

include "_network_records.pxi"


cdef class Network:
    """A network's forward pass, backward pass and training step, one C call each.

    Network(layers, loss, x, target, dout, sample_loss, workspace) keeps these buffers, all
    C-contiguous, of one float dtype (argmax: int64):

    - layers: one dict per layer, {"kind": kind, ...} with the keys LAYER_KINDS[kind]
      (docs/kernels.md, "Network"); its input is the layer before's out (the first's: x);
    - x (n, in_f) the batch; workspace of at least workspace_size elements (None: made);
    - dout (n, k), k the last layer's width: the network trains, and every gradient buffer
      of the records is required, every buffer distinct; None: forward only, the records
      hold no gradient buffers, and a layer's out and z may be another layer's (inference
      ping-pongs two buffers), but not its input's;
    - loss (a name of _NETWORK_LOSSES), target (int64 labels (n,) for
      softmax_cross_entropy, else (n, k)) and sample_loss (n,): for `step`, or all None;
    - sample_weight (n,), optional, with a loss: the buffer `step` gathers the batch's
      sample weights into (None: `step` takes weights only with X None).
    """
    cdef list _keep              # every buffer the C code uses, kept alive
    cdef void *_records          # net_layer_f32 or net_layer_f64, as _kind says
    cdef _span *_written         # byte ranges of every buffer a call writes
    cdef Py_ssize_t _n_written
    cdef int _kind, _simd, _nthreads
    cdef bint _training, _has_loss
    cdef pynn_loss _loss
    cdef int64_t _n_layers, _n, _n_features, _n_outputs
    cdef cnp.ndarray _target_array, _out
    cdef void *_x
    cdef void *_target
    cdef void *_dout
    cdef void *_sample_loss
    cdef void *_work
    cdef void *_weights          # the batch weights' buffer, or NULL
    cdef readonly int64_t workspace_size
    cdef readonly int64_t n_parameters  # the size of the flat vectors hvp() takes

    def __cinit__(self, layers, loss, x, target, dout, sample_loss, workspace,
                  sample_weight=None):
        if not isinstance(layers, (list, tuple)) or len(layers) == 0:
            raise TypeError("layers must be a non-empty list of dicts, one per layer")
        cdef cnp.ndarray X = _as_array(x, "x")
        cdef int kind = _kind_of(X, "x")
        _check_ndim(X, "x", 2)
        cdef int64_t n = X.shape[0]
        if n < 1:
            raise ValueError("x must hold at least one sample")
        self._kind, self._n, self._n_layers = kind, n, len(layers)
        self._simd, self._nthreads = _simd, _nthreads()
        if loss is not None and dout is None:
            raise ValueError("a network with a loss trains: dout is required")
        self._training = dout is not None
        self._records = calloc(self._n_layers, sizeof(net_layer_f32) if kind == F32
                               else sizeof(net_layer_f64))
        if self._records is NULL:
            raise MemoryError()
        cdef _Binding b = _Binding(kind, n, self._training)
        self._n_outputs = self._bind_layers(b, layers, X.shape[1])
        self._n_features = X.shape[1]
        X = _output(X, "x", (n, self._n_features), kind)
        written = [X] + self._bind_loss(loss, target, dout, sample_loss)
        self.workspace_size = self._needed_workspace()
        written.append(_workspace(workspace, self.workspace_size, kind))
        self._x, self._work = _ptr(written[0]), _ptr(written[len(written) - 1])
        names = ["x", "target", "dout", "sample_loss"][:len(written) - 1] + ["workspace"]
        if sample_weight is not None:
            if not self._has_loss:
                raise ValueError("sample_weight goes with a loss: a network without one has "
                                 "no use for it")
            written.append(_output(sample_weight, "sample_weight", (n,), kind))
            self._weights = _ptr(written[len(written) - 1])
            names.append("sample_weight")
        self._check_aliasing(b, written, names, layers)
        self._keep = written + b.written + b.inputs
        self._remember_written(written + b.written)

    def __dealloc__(self):
        free(self._records)
        free(self._written)

    cdef int64_t _bind_layers(self, _Binding b, object layers, int64_t width) except -1:
        """Check every record and fill the C array; returns the output width."""
        cdef net_layer_f64 r
        cdef Py_ssize_t i
        cdef bint needs_dx = False
        for i, spec in enumerate(layers):
            memset(&r, 0, sizeof(r))
            _bind_record(b, i, spec, width, needs_dx, &r)
            if self._kind == F32:
                _store_record(&(<net_layer_f32 *>self._records)[i], &r)
            else:
                _store_record(&(<net_layer_f64 *>self._records)[i], &r)
            needs_dx = needs_dx or spec["kind"] in _HAS_PARAMETERS
            if spec["kind"] in _HAS_PARAMETERS:
                bias = spec.get("bias")
                self.n_parameters += np.size(spec["weight"]) + (0 if bias is None else np.size(bias))
            width = r.out_f
            self._out = spec["out"]
        return width

    cdef list _bind_loss(self, object loss, object target, object dout, object sample_loss):
        """[target, dout, sample_loss] as checked (those given: none, dout, or all)."""
        cdef int64_t n = self._n, k = self._n_outputs
        cdef cnp.ndarray T, D, L
        self._has_loss = loss is not None
        if not self._has_loss:
            if target is not None or sample_loss is not None:
                raise ValueError("target and sample_loss go with a loss: give all three, "
                                 "or none")
            if dout is None:
                return []
            D = _output(dout, "dout", (n, k), self._kind)
            self._dout = _ptr(D)
            return [D]
        if not isinstance(loss, str) or loss not in _NETWORK_LOSSES:
            raise ValueError(f"loss must be one of {tuple(_NETWORK_LOSSES)}, got {loss!r}")
        self._loss = <pynn_loss>(<int>_NETWORK_LOSSES[loss])
        T = _as_array(target, "target")
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
            T = _output(T, "target", (n, k), self._kind)
        D = _output(dout, "dout", (n, k), self._kind)
        L = _output(sample_loss, "sample_loss", (n,), self._kind)
        self._target_array = T
        self._target, self._dout, self._sample_loss = _ptr(T), _ptr(D), _ptr(L)
        return [T, D, L]

    cdef int _check_aliasing(self, _Binding b, list own, list own_names,
                             object layers) except -1:
        """Training: every written buffer distinct from every other buffer. Forward only:
        each layer's written buffers distinct from each other, its input, every parameter
        and the network's own buffers (x, workspace)."""
        if self._training:
            _check_all_disjoint(own + b.written + b.inputs,
                                own_names + b.names + b.input_names,
                                len(own) + len(b.written))
            return 0
        _check_all_disjoint(own + b.inputs, own_names + b.input_names, len(own))
        cdef Py_ssize_t i
        for i in range(self._n_layers):
            mine = [b.written[j] for j in b.layer_written[i]]
            names = [b.names[j] for j in b.layer_written[i]]
            source = [own[0]] if i == 0 else [layers[i - 1]["out"]]
            source_name = ["x"] if i == 0 else [f"layers[{i - 1}]['out']"]
            _check_all_disjoint(mine + own + source + b.inputs,
                                names + own_names + source_name + b.input_names, len(mine))
        return 0

    cdef int _remember_written(self, list written) except -1:
        self._written = <_span *>calloc(max(len(written), 1), sizeof(_span))
        if self._written is NULL:
            raise MemoryError()
        self._n_written = 0
        for arr in written:
            if _bounds(<cnp.ndarray>arr, &self._written[self._n_written].lo,
                       &self._written[self._n_written].hi):
                self._n_written += 1
        return 0

    cdef int64_t _needed_workspace(self):
        if self._kind == F32:
            return network_workspace_size_f32(<net_layer_f32 *>self._records,
                                              self._n_layers, self._n, self._training,
                                              self._simd, self._nthreads)
        return network_workspace_size_f64(<net_layer_f64 *>self._records, self._n_layers,
                                          self._n, self._training, self._simd,
                                          self._nthreads)

    cdef int _check_unwritten(self, cnp.ndarray arr, str name) except -1:
        """arr shares no memory with a buffer the network writes."""
        cdef intptr_t lo = 0, hi = 0
        cdef Py_ssize_t j
        if not _bounds(arr, &lo, &hi):
            return 0
        for j in range(self._n_written):
            if lo < self._written[j].hi and self._written[j].lo < hi:
                raise ValueError(f"{name} overlaps a buffer the network writes")
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
            elif self._loss == PYNN_LOSS_SOFTMAX_CE_PROBS or self._loss == PYNN_LOSS_POISSON:
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
                  PYNN_LOSS_HINGE: "-1 or +1 for the hinge loss",
                  PYNN_LOSS_POISSON: "finite and non-negative"}[self._loss]
        raise ValueError(f"targets must be {domain}, got {value} {where}")

    cdef const int64_t *_check_batch(self, object X, object rows, object targets) except? NULL:
        """Check X (N, in_f) and the batch's row numbers into it, and gather the targets;
        returns the rows' pointer."""
        cdef cnp.ndarray A = _float_array(X, "X", self._kind)
        _check_ndim(A, "X", 2)
        if A.shape[1] != self._n_features:
            raise ValueError(f"X must have {self._n_features} columns, got {A.shape[1]}")
        self._check_unwritten(A, "X")
        cdef int64_t n_rows = A.shape[0], bad = -1
        cdef cnp.ndarray R = _as_array(rows, "rows")
        if (cnp.PyArray_TYPE(R) != cnp.NPY_INT64 or not cnp.PyArray_ISNOTSWAPPED(R)
                or not cnp.PyArray_IS_C_CONTIGUOUS(R)):
            raise TypeError(f"rows must be a C-contiguous int64 array, got dtype {R.dtype}")
        _check_shape(R, "rows", (self._n,), " (the step's batch size)")
        self._check_unwritten(R, "rows")
        cdef const int64_t *pr = <const int64_t *>cnp.PyArray_DATA(R)
        with nogil:
            bad = _first_bad_label(pr, self._n, n_rows)
        if bad >= 0:
            raise ValueError(f"rows must be in [0, {n_rows}), got {R[bad]} at index {bad}")
        self._gather_targets(targets, n_rows, pr)
        return pr

    cdef const void *_check_weights(self, object weights, object X, const int64_t *rows,
                                    void **batch) except? NULL:
        """The weights' pointer: the full weights (N,) of X's rows (their buffer into
        *batch), or with X None the batch's own (n,). The batch's n weights (rows `rows`)
        must be finite and >= 0 with a positive, finite sum."""
        cdef int64_t size = self._n if X is None else (<cnp.ndarray>X).shape[0]
        cdef cnp.ndarray W = _float_array(weights, "sample_weight", self._kind)
        _check_shape(W, "sample_weight", (size,),
                     " (one weight per sample)" if X is None else " (one weight per row of X)")
        # with X None the batch's weights may be the network's own buffer (a gather
        # filled it), which no call writes while it reads them
        if not (X is None and cnp.PyArray_DATA(W) == self._weights):
            self._check_unwritten(W, "sample_weight")
        if X is not None and self._weights == NULL:
            raise ValueError("this network has no sample_weight buffer: make it with one to "
                             "gather weights")
        cdef const void *pw = cnp.PyArray_DATA(W)
        cdef double total = 0
        cdef int64_t bad
        with nogil:
            bad = (_first_bad_weight(<const float *>pw, rows, self._n, &total)
                   if self._kind == F32 else
                   _first_bad_weight(<const double *>pw, rows, self._n, &total))
        if bad >= 0:
            if rows != NULL:
                bad = rows[bad]
            raise ValueError(f"sample_weight must be finite and non-negative, got "
                             f"{W[bad].item()} at index {bad}")
        if not (total > 0 and total <= _DOUBLE_MAX):
            raise ValueError("the batch's sample_weight must have a positive, finite sum")
        batch[0] = self._weights if X is not None else <void *>pw
        return pw

    def step(self, X, rows, targets, sample_weight=None):
        """One training step; returns (mean loss, number of rows whose argmax is their
        label, or None when the targets are not labels).

        X (N, in_f) is the data, of the network's dtype and C-contiguous, rows the batch's
        int64 row numbers (n,) into it, targets the full targets (N,) or (N, k). With X,
        rows and targets all None, x and target already hold the batch. sample_weight:
        None (the plain mean), or the weights of X's rows (N,), gathered with the rows into
        the network's sample_weight buffer, or with X None the batch's own weights (n,);
        of the network's dtype, the batch's finite and >= 0 with a positive sum. When the
        loss is not finite no gradient is written."""
        if not self._has_loss:
            raise ValueError("this network has no loss: make it with one to call step")
        cdef const int64_t *pr = NULL
        cdef const void *px = NULL
        cdef const void *pW = NULL
        cdef void *pw = NULL
        if X is None:
            if rows is not None or targets is not None:
                raise ValueError("give X, rows and targets together, or none of them")
        else:
            pr = self._check_batch(X, rows, targets)
            px = cnp.PyArray_DATA(<cnp.ndarray>X)
        if sample_weight is not None:
            pW = self._check_weights(sample_weight, X, pr, &pw)
            if X is None:
                pW = NULL  # the batch's weights are read in place: nothing to gather
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
                value = network_step_f32(<net_layer_f32 *>self._records, self._n_layers,
                                         self._n, px, pr, self._x, pW, pw, self._loss,
                                         labels, target,
                                         self._dout, self._sample_loss, ph, self._work,
                                         self._simd, self._nthreads)
            else:
                value = network_step_f64(<net_layer_f64 *>self._records, self._n_layers,
                                         self._n, px, pr, self._x, pW, pw, self._loss,
                                         labels, target,
                                         self._dout, self._sample_loss, ph, self._work,
                                         self._simd, self._nthreads)
        return value, (hits if ph != NULL else None)

    def forward(self, X=None):
        """Every layer's forward pass over X (n, in_f), of the network's dtype and
        C-contiguous, read in place; over x when X is None. Returns the last layer's out
        (a buffer of the network: the next call overwrites it)."""
        cdef const void *px = self._x
        cdef cnp.ndarray A
        if X is not None:
            A = _float_array(X, "X", self._kind)
            _check_shape(A, "X", (self._n, self._n_features), " (the network's batch)")
            self._check_unwritten(A, "X")
            px = cnp.PyArray_DATA(A)
        with nogil:
            if self._kind == F32:
                network_forward_f32(<net_layer_f32 *>self._records, self._n_layers, self._n,
                                    px, self._work, self._simd, self._nthreads)
            else:
                network_forward_f64(<net_layer_f64 *>self._records, self._n_layers, self._n,
                                    px, self._work, self._simd, self._nthreads)
        return self._out

    def backward(self):
        """The backward pass from dout after `forward()` over x: overwrites every gradient
        buffer (the parameters' and the inputs' the layers need)."""
        if not self._training:
            raise ValueError("this network does not train: make it with dout to call "
                             "backward")
        with nogil:
            if self._kind == F32:
                network_backward_f32(<net_layer_f32 *>self._records, self._n_layers, self._n,
                                     self._x, self._dout, self._work, self._simd,
                                     self._nthreads)
            else:
                network_backward_f64(<net_layer_f64 *>self._records, self._n_layers, self._n,
                                     self._x, self._dout, self._work, self._simd,
                                     self._nthreads)

    @property
    def hvp_workspace_size(self):
        """The elements of the workspace hvp() needs (this network's dtype)."""
        if self._kind == F32:
            return network_hvp_workspace_size_f32(<net_layer_f32 *>self._records,
                                                  self._n_layers, self._n, self._simd,
                                                  self._nthreads)
        return network_hvp_workspace_size_f64(<net_layer_f64 *>self._records, self._n_layers,
                                              self._n, self._simd, self._nthreads)

    def hvp(self, v, product, gauss_newton=False, sample_weight=None, workspace=None):
        """The Hessian-vector product H v (or with gauss_newton the Gauss-Newton product
        J^T H_out J v) of the loss over x and target as they are, into product; returns
        the mean loss. Also writes what a step does (dout, sample_loss, the gradients).

        v and product are flat (n_parameters,) arrays of the network's dtype, in record
        order (weight then bias); sample_weight the batch's own weights (n,) or None;
        workspace at least hvp_workspace_size elements (None: allocated for the call).
        When the loss is not finite, neither the gradients nor product are written."""
        if not self._has_loss:
            raise ValueError("this network has no loss: make it with one to call hvp")
        cdef cnp.ndarray V = _float_array(v, "v", self._kind)
        _check_shape(V, "v", (self.n_parameters,), " (one value per parameter)")
        cdef cnp.ndarray P = _output(product, "product", (self.n_parameters,), self._kind)
        cdef cnp.ndarray Wk = _workspace(workspace, self.hvp_workspace_size, self._kind)
        _check_all_disjoint([P, Wk, V] + self._keep,
                            ["product", "workspace", "v"] + ["a buffer of the network"]
                            * len(self._keep), 2)
        cdef const void *pw = NULL
        cdef void *unused = NULL
        if sample_weight is not None:
            pw = self._check_weights(sample_weight, None, NULL, &unused)
        self._check_targets(None)
        cdef double value
        cdef bint by_label = self._loss == PYNN_LOSS_SOFTMAX_CE_LABELS
        cdef const int64_t *labels = <const int64_t *>self._target if by_label else NULL
        cdef const void *target = NULL if by_label else self._target
        cdef void *pp = _ptr(P)
        cdef void *pk = _ptr(Wk)
        cdef const void *pv = _ptr(V)
        cdef int gn = bool(gauss_newton)
        with nogil:
            if self._kind == F32:
                value = network_hvp_f32(<net_layer_f32 *>self._records, self._n_layers,
                                        self._n, pp, self._dout, self._sample_loss, self._x,
                                        pw, self._loss, labels, target, pv, gn, pk,
                                        self._simd, self._nthreads)
            else:
                value = network_hvp_f64(<net_layer_f64 *>self._records, self._n_layers,
                                        self._n, pp, self._dout, self._sample_loss, self._x,
                                        pw, self._loss, labels, target, pv, gn, pk,
                                        self._simd, self._nthreads)
        return value

    @property
    def out(self):
        """The last layer's output buffer."""
        return self._out
