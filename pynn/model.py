"""Sequential: a stack of layers over one flat parameter buffer and one flat gradient buffer.

Memory (shared/DESIGN.md): every parameter is a view into `flat_params` and its gradient
the matching view into `flat_grads`; an optimizer keeps flat state of the same length, so
an update is one kernel call. The buffers a batch needs (activations, what backward reads,
gradients, the gathered inputs and targets, one kernel workspace) form a TrainingPlan made
once per batch size and reused, so a training step allocates no arrays; predict and
evaluate use an InferencePlan sized from a memory budget (pynn.plans).

Threads: the plans are one model's scratch space, so every method that uses them (or
changes the parameters) holds the model's lock, a re-entrant one (a fit's callback may call
predict). Calls on one model from several threads therefore run one at a time, each as if
alone; different models train in parallel (the kernels release the GIL).
"""
import math
import threading
from collections import OrderedDict

import numpy as np

from pynn import backend as backends
from pynn.checks import check_dtype
from pynn.harden import harden
from pynn.inputs import as_features, check_values, check_width, y_checked
from pynn.layers import Layer, layer_from_config
from pynn.network import check_layers
from pynn.persistence import read_model, save
from pynn.plans import EVAL_BATCH, InferencePlan, TrainingPlan, block_rows, check_memory
from pynn.random_state import check_random_state, spawn_generators
from pynn.summary import summarize
from pynn.training import fit

MAX_PLANS = 6  # training plans kept (batch sizes); a model keeps one InferencePlan per mode


class Sequential:
    """A multilayer network: the layers applied in order.

    >>> model = Sequential(Dense(64, 32, activation="relu"), Dense(32, 10), random_state=0)

    dtype is float32 (default) or float64; backend "c" runs pynn's C kernels, "reference"
    the plain-NumPy ones of pynn.reference (for checking). Parameters are initialised at
    construction from `random_state`; `fit` re-initialises them from its own random_state
    (default: the model's) so that one seed gives one result, while `partial_fit`
    continues from the current parameters.

    A model may be shared between threads: its calls (fit, predict, evaluate, ...) run one
    at a time, each waiting for the one running, so a predict during another thread's fit
    returns after that fit, with its parameters.
    """

    def __init__(self, *layers, dtype=np.float32, backend="c", random_state=None):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a pynn layer, got {type(layer).__name__}")
        check_layers(layers)
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("the same layer object appears twice: create one per position")
        self.layers = list(layers)
        self.dtype = check_dtype(dtype)
        self.backend = backends.check_backend(backend)
        self.random_state = check_random_state(random_state)
        self._kernels = backends.kernels(backend)
        self._build()
        self.loss_ = None
        self.targets_ = None
        self.optimizer_ = None
        self.history_ = None
        self._shuffle_rng = None  # the row-order stream partial_fit continues
        self._loss_reference = None  # the losses of fit's divergence check (pynn.training)
        self._plans = OrderedDict()
        self._lock = threading.RLock()  # see the module docstring
        self.reset_parameters(self.random_state)

    # ---- structure -----------------------------------------------------------------------
    def _build(self, flat_params=None, flat_grads=None):
        """Build the layers for their input widths and bind their parameters and gradients
        as views into one flat buffer each: new zeroed buffers, or the given ones (a model
        being unpickled keeps its arrays, which its optimizer may also hold)."""
        widths = [layer.in_features for layer in self.layers if layer.in_features is not None]
        if not widths:
            raise ValueError("the model needs a Dense or Maxout layer to fix its input width")
        width = self.n_features_in_ = widths[0]
        for i, layer in enumerate(self.layers):
            try:
                width = layer.build(width)
            except ValueError as error:
                raise ValueError(f"layer {i}: {error}") from None
        self.n_outputs_ = width
        specs = [(i, name, shape) for i, layer in enumerate(self.layers)
                 for name, shape in layer.parameter_shapes()]
        total = sum(math.prod(shape) for _, _, shape in specs)
        self.flat_params = np.zeros(total, self.dtype) if flat_params is None else flat_params
        self.flat_grads = np.zeros(total, self.dtype) if flat_grads is None else flat_grads
        self._names = []
        offset = 0
        views = [({}, {}) for _ in self.layers]
        for i, name, shape in specs:
            size = math.prod(shape)
            views[i][0][name] = self.flat_params[offset:offset + size].reshape(shape)
            views[i][1][name] = self.flat_grads[offset:offset + size].reshape(shape)
            self._names.append((f"{i}.{name}", views[i][0][name], views[i][1][name]))
            offset += size
        for layer, (params, grads) in zip(self.layers, views):
            layer.bind(params, grads)

    # ---- pickling (copy.deepcopy, joblib and dask workers) ------------------------------
    def __getstate__(self):
        """The layers travel as their configs and the parameters as the flat buffers, so
        that the views are bound again on load; the kernel module is looked up again from
        the backend name, and the batch buffers and the lock are made again."""
        state = self.__dict__.copy()
        state["layers"] = [layer.config() for layer in self.layers]
        for name in ("_kernels", "_names", "_plans", "_lock"):
            del state[name]
        return state

    def __setstate__(self, state):
        state = dict(state)
        layers = [layer_from_config(config) for config in state.pop("layers")]
        self.__dict__.update(state)
        self.layers = layers
        self._kernels = backends.kernels(self.backend)
        self._plans = OrderedDict()
        self._lock = threading.RLock()
        self._build(self.flat_params, self.flat_grads)

    @property
    def n_parameters(self):
        """Number of trainable parameters."""
        return self.flat_params.size

    def named_parameters(self):
        """[(name, view)] with PyTorch's names ("0.weight", "0.bias", ...)."""
        return [(name, param) for name, param, _ in self._names]

    def parameters(self):
        """The parameter views, in flat-buffer order."""
        return [param for _, param, _ in self._names]

    def state_dict(self):
        """{name: copy of the parameter}, PyTorch's names and shapes."""
        with self._lock:
            return {name: param.copy() for name, param, _ in self._names}

    def load_state_dict(self, state):
        """Copy parameters in from a state_dict (the same names and shapes, any float dtype)."""
        names = [name for name, _, _ in self._names]
        if set(state) != set(names):
            missing, extra = sorted(set(names) - set(state)), sorted(set(state) - set(names))
            raise ValueError(f"state_dict does not match the model: missing {missing}, "
                             f"unexpected {extra}")
        values = {}
        for name, param, _ in self._names:  # all checked before any is copied
            value = np.asarray(state[name])
            if value.dtype.kind not in "biuf":
                raise TypeError(f"state_dict[{name!r}] must hold numbers, got dtype "
                                f"{value.dtype}")
            if value.shape != param.shape:
                raise ValueError(f"state_dict[{name!r}] has shape {value.shape}, the model's "
                                 f"is {param.shape}")
            with np.errstate(over="ignore"):
                finite = np.isfinite(value.astype(param.dtype)).all()
            if not finite:
                raise ValueError(f"state_dict[{name!r}] holds NaN or infinity (in the "
                                 f"model's {param.dtype})")
            values[name] = value
        with self._lock:
            for name, param, _ in self._names:
                param[...] = values[name]
            self._loss_reference = None  # the losses were those of other parameters

    def reset_parameters(self, random_state=None):
        """Initialise every layer's parameters from one seed."""
        rng = spawn_generators(check_random_state(random_state), 1)[0]
        with self._lock:
            for layer in self.layers:
                layer.reset_parameters(rng)
            self._loss_reference = None  # the losses were those of other parameters
        return self

    def zero_grad(self):
        with self._lock:
            self.flat_grads.fill(0)

    # ---- buffers (pynn.plans) -------------------------------------------------------------
    def _plan_key(self, *key):
        if self.backend == "c":  # a workspace is sized for a thread count and a SIMD path
            return key + (self._kernels.get_num_threads(), self._kernels.get_simd_path())
        return key

    def _plan(self, n):
        """The TrainingPlan of batch size n (the MAX_PLANS last used are kept)."""
        key = self._plan_key("train", n)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = TrainingPlan(self, n)
            training = [k for k in self._plans if k[0] == "train"]
            for old in training[:max(0, len(training) - MAX_PLANS)]:
                del self._plans[old]
        else:
            self._plans.move_to_end(key)
        return plan

    def _inference_plan(self, n_rows, mode, memory=None):
        """(plan, rows per pass) for forward passes over n_rows rows in `mode` ("predict" or
        "eval") within `memory` bytes of buffers (pynn.plans.block_rows). The plan is
        reused while it holds enough rows, whatever budget it was made for."""
        memory = check_memory(memory)
        key = self._plan_key(mode)
        plan = self._plans.get(key)
        if plan is not None and plan.nbytes <= memory and \
                plan.capacity >= min(n_rows, EVAL_BATCH):
            return plan, min(n_rows, plan.capacity)
        rows = block_rows(self, n_rows, mode, memory)
        if plan is None or plan.capacity < rows:
            plan = self._plans[key] = InferencePlan(self, rows, mode)
        return plan, rows

    def _forget_plans(self):
        self._plans.clear()

    # ---- the computation: the plans' networks (pynn.network) -------------------------------
    def _batches(self, X, n_rows, batch_size):
        for start in range(0, n_rows, batch_size):
            yield slice(start, min(start + batch_size, n_rows))

    def _check_X(self, X, name="X"):
        X = as_features(X, name)
        check_width(X, self.n_features_in_, name)
        check_values(X, self.dtype, name)
        return X

    def decision_function(self, X, *, memory=None):
        """The model's raw outputs (the logits, for the classification losses), (n, outputs).

        Rows go through the model in blocks whose buffers fit `memory` bytes (default
        pynn.plans.PREDICT_MEMORY, 64 MiB), whatever the model's width and depth: beyond
        the result, that is all a prediction allocates (docs/model.md)."""
        X = self._check_X(X)
        n = X.shape[0]
        result = np.empty((n, self.n_outputs_), self.dtype)
        with self._lock:
            plan, block = self._inference_plan(n, "predict", memory)
            for rows in self._batches(X, n, block):
                view = plan.rows(rows.stop - rows.start, self)
                result[rows] = view.forward(X, rows)
        return result

    forward = decision_function

    def _require_fitted(self, what):
        if self.targets_ is None:
            raise ValueError(f"{what} needs a trained model: call fit first (it fixes the "
                             f"loss and, for classifiers, classes_)")

    @property
    def classes_(self):
        return None if self.targets_ is None else self.targets_.classes_

    def predict(self, X, *, memory=None):
        """Class labels for a classifier (argmax, or logit > 0 per label); values for a
        regressor (1-D when it was trained on a 1-D y). `memory`: as decision_function."""
        self._require_fitted("predict")
        return self.targets_.decode(self.decision_function(X, memory=memory))

    def predict_proba(self, X, *, memory=None):
        """The loss's output nonlinearity applied: softmax rows, or sigmoid per label. For a
        binary classifier (one output) the columns are P(classes_[0]), P(classes_[1]).
        `memory`: as decision_function."""
        self._require_fitted("predict_proba")
        p = self.loss_.probabilities(self._kernels, self.decision_function(X, memory=memory))
        if self.targets_.kind == "binary":
            p = np.hstack([1 - p, p])
        return p

    def evaluate(self, X, y, *, memory=None):
        """{"loss": mean loss, metric: value}, the metric being accuracy or R².
        `memory`: as decision_function."""
        self._require_fitted("evaluate")
        check_memory(memory)
        X = self._check_X(X)
        target = self.targets_.encode(y_checked(y, X.shape[0]), self.dtype)
        with self._lock:
            return self._evaluate(X, None, target, memory)

    def score(self, X, y, *, memory=None):
        """Accuracy for a classifier, R² for a regressor (scikit-learn's convention)."""
        return self.evaluate(X, y, memory=memory)[self.targets_.metric_name]

    def _evaluate(self, X, rows, target, memory=None):
        """Loss and metric over X[rows] (all of X when rows is None) against encoded targets."""
        n = X.shape[0] if rows is None else len(rows)
        t = self.targets_
        total, loss_sum = t.new_total(), 0.0
        plan, block = self._inference_plan(n, "eval", memory)
        for part in self._batches(X, n, block):
            view = plan.rows(part.stop - part.start, self)
            out = view.forward(X, part if rows is None else rows[part])
            np.copyto(view.target, target[part])
            self.loss_(self._kernels, out, view.target, sample_loss=view.sample_loss)
            # row after row in float64, continuing from the blocks before: the same sum
            # whatever the block size (the memory budget sets it)
            prefix = view.loss_prefix
            np.copyto(prefix, view.sample_loss)
            prefix[0] += loss_sum
            np.add.accumulate(prefix, out=prefix)
            loss_sum = float(prefix[-1])
            t.accumulate(self._kernels, total, out, view.target, view.scratch)
        denominator = None if t.is_classifier else t.r2_denominator(target)
        return {"loss": loss_sum / n, t.metric_name: t.metric(total, n, denominator)}

    # ---- training ------------------------------------------------------------------------
    def loss_and_grad(self, X, target):
        """The mean loss over (X, target) and its gradient, written into flat_grads.

        `target` is already encoded (`targets_.encode(y, dtype)`), X is checked. One batch,
        one forward and backward pass: this is what fit does per step, without the update
        (at a non-finite loss, as there, no gradient is written)."""
        self._require_fitted("loss_and_grad")
        X = self._check_X(X)
        with self._lock:
            plan = self._plan(X.shape[0])
            plan.read(X, slice(0, X.shape[0]))
            np.copyto(plan.target, target)
            value, _ = plan.run()
        return value

    def fit(self, X, y, *, loss=None, optimizer=None, epochs=10, batch_size=32, shuffle=True,
            validation_data=None, validation_split=0.0, early_stopping=None,
            lr_scheduler=None, callback=None, batch_callback=None, verbose=0,
            random_state=None, classes=None, divergence=None):
        """Train from freshly initialised parameters; returns self. See pynn.training.fit.

        A call from another thread while this one runs waits for it (see the class
        docstring). Ctrl-C stops at the end of the step running, leaving the model as after
        that step (docs/model.md). `divergence` (None: off) is a factor: an epoch whose mean
        loss exceeds it times the best loss, and the loss before training and that of an
        all-zero output, raises pynn.DivergenceError, the model back as after the last good
        epoch (docs/model.md)."""
        with self._lock:
            return fit(self, X, y, loss=loss, optimizer=optimizer, epochs=epochs,
                       batch_size=batch_size, shuffle=shuffle, validation_data=validation_data,
                       validation_split=validation_split, early_stopping=early_stopping,
                       lr_scheduler=lr_scheduler, callback=callback,
                       batch_callback=batch_callback, verbose=verbose,
                       random_state=random_state, classes=classes, warm_start=False,
                       divergence=divergence)

    def partial_fit(self, X, y, *, loss=None, optimizer=None, epochs=1, batch_size=32,
                    shuffle=True, validation_data=None, validation_split=0.0,
                    early_stopping=None, lr_scheduler=None, callback=None,
                    batch_callback=None, verbose=0, random_state=None, classes=None,
                    divergence=None):
        """Continue training from the current parameters and optimizer state (one epoch by
        default); the first call may set the loss, optimizer and classes. Returns self.
        Threads and Ctrl-C: as fit."""
        with self._lock:
            return fit(self, X, y, loss=loss, optimizer=optimizer, epochs=epochs,
                       batch_size=batch_size, shuffle=shuffle, validation_data=validation_data,
                       validation_split=validation_split, early_stopping=early_stopping,
                       lr_scheduler=lr_scheduler, callback=callback,
                       batch_callback=batch_callback, verbose=verbose,
                       random_state=random_state, classes=classes, warm_start=True,
                       divergence=divergence)

    def __repr__(self):
        inner = ",\n".join(f"    {layer!r}" for layer in self.layers)
        return f"Sequential(\n{inner},\n    dtype={self.dtype.name}, backend={self.backend!r})"

    # ---- summary, saving, hardening (pynn.summary, pynn.persistence, pynn.harden) ----------
    def summary(self, batch_size=32, optimizer=None, memory=None):
        """The layers, parameter counts, the memory training needs at this batch size
        (`optimizer` defaults to the model's own) and the memory predict uses within the
        budget `memory` (default 64 MiB); print it. See pynn.summary."""
        return summarize(self, batch_size, optimizer, memory)

    def save(self, path):
        """Write the model to the .npz file `path` (atomically); `pynn.load(path)` reads it."""
        with self._lock:
            save(self, path)

    def harden(self):
        """An inference-only copy with hard output nonlinearities (softmax -> argmax,
        sigmoid -> unit step, tanh -> signum) that predicts what this model predicts."""
        with self._lock:
            return harden(self)


def load(path):
    """The Sequential model saved at `path` by `model.save(path)` (pynn.load). The file and
    its checks are pynn.persistence's; the model is built here, where Sequential is."""
    return read_model(path, Sequential)
