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

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

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

if TYPE_CHECKING:
    from os import PathLike

    from pynn.early_stopping import EarlyStopping
    from pynn.harden import HardenedModel
    from pynn.losses import Loss
    from pynn.optim import LRScheduler, Optimizer
    from pynn.random_state import RandomState
    from pynn.summary import ModelSummary
    from pynn.targets import Targets

    #: fit's epoch callback: callback(model, epoch, logs), a true result stops training
    EpochCallback = Callable[["Sequential", int, dict[str, float]], Any]
    #: fit's step callback: batch_callback(model, epoch, step, n_steps)
    BatchCallback = Callable[["Sequential", int, int, int], Any]

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

    Parameters
    ----------
    *layers : Layer
        The layers, in order (or one list or tuple of them): instances of pynn's layer
        classes (pynn.layers), each object at one position only. A Dense or Maxout layer
        must fix the input width.
    dtype : numpy dtype, default numpy.float32
        The dtype of the parameters and of every computation: float32 or float64.
    backend : {"c", "reference"}, default "c"
        "c" runs pynn's C kernels, "reference" the plain-NumPy ones of pynn.reference.
    random_state : None, int, numpy.random.Generator or SeedSequence, default None
        Seeds the initial parameters, and is the default seed of `fit`.

    Raises
    ------
    ValueError
        No layers, the same layer object twice, no layer that fixes the input width, or
        widths that do not chain.
    TypeError
        A layer that is not one of pynn's layer classes, or a bad dtype or backend.

    Attributes
    ----------
    layers : list of Layer
        The layers.
    flat_params, flat_grads : numpy.ndarray
        The flat parameter and gradient buffers; every layer's parameters are views of them.
    n_features_in_, n_outputs_ : int
        The input and output widths.
    loss_, targets_, optimizer_ : Loss, Targets, Optimizer or None
        What the last fit trained with (None before the first fit).
    history_ : dict of str to list of float, or None
        Per-epoch logs of the last fit (docs/model.md).
    """

    layers: list[Layer]
    dtype: np.dtype[Any]
    backend: str
    flat_params: NDArray[Any]
    flat_grads: NDArray[Any]
    n_features_in_: int
    n_outputs_: int
    loss_: Loss | None
    targets_: Targets | None
    optimizer_: Optimizer | None
    history_: dict[str, list[float]] | None
    _plans: OrderedDict[tuple[Any, ...], Any]

    def __init__(
        self,
        *layers: Layer | list[Layer] | tuple[Layer, ...],
        dtype: DTypeLike = np.float32,
        backend: str = "c",
        random_state: RandomState = None,
    ) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a pynn layer, got {type(layer).__name__}")
        check_layers(layers)  # type: ignore[arg-type]  # a single list is unpacked above
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("the same layer object appears twice: create one per position")
        self.layers = list(layers)  # type: ignore[arg-type]  # a single list is unpacked above
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
        specs = [
            (i, name, shape)
            for i, layer in enumerate(self.layers)
            for name, shape in layer.parameter_shapes()
        ]
        total = sum(math.prod(shape) for _, _, shape in specs)
        self.flat_params = np.zeros(total, self.dtype) if flat_params is None else flat_params
        self.flat_grads = np.zeros(total, self.dtype) if flat_grads is None else flat_grads
        self._names = []
        offset = 0
        views = [({}, {}) for _ in self.layers]
        for i, name, shape in specs:
            size = math.prod(shape)
            views[i][0][name] = self.flat_params[offset : offset + size].reshape(shape)
            views[i][1][name] = self.flat_grads[offset : offset + size].reshape(shape)
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
    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return self.flat_params.size

    def named_parameters(self) -> list[tuple[str, NDArray[Any]]]:
        """[(name, view)] with PyTorch's names ("0.weight", "0.bias", ...).

        Returns
        -------
        list of (str, numpy.ndarray)
            Each parameter's name (layer index, dot, parameter name) and its view into
            `flat_params` (writing to it changes the model), in flat-buffer order.
        """
        return [(name, param) for name, param, _ in self._names]

    def parameters(self) -> list[NDArray[Any]]:
        """The parameter views, in flat-buffer order.

        Returns
        -------
        list of numpy.ndarray
            Views into `flat_params` (writing to them changes the model).
        """
        return [param for _, param, _ in self._names]

    def state_dict(self) -> dict[str, NDArray[Any]]:
        """{name: copy of the parameter}, PyTorch's names and shapes.

        Returns
        -------
        dict of str to numpy.ndarray
            A copy of each parameter, by the names of `named_parameters`, in the model's
            dtype; `load_state_dict` reads it back.
        """
        with self._lock:
            return {name: param.copy() for name, param, _ in self._names}

    def load_state_dict(self, state: Mapping[str, ArrayLike]) -> None:
        """Copy parameters in from a state_dict (the same names and shapes, any float dtype).

        Every value is checked before any is copied, so a bad state_dict leaves the model
        as it was. The divergence check's reference losses are forgotten.

        Parameters
        ----------
        state : mapping of str to array_like
            One array per parameter, by the names of `named_parameters` (PyTorch's), with
            the parameter's shape; numbers finite in the model's dtype.

        Raises
        ------
        ValueError
            Missing or unexpected names, a wrong shape, or NaN or infinity.
        TypeError
            A value that does not hold numbers.
        """
        names = [name for name, _, _ in self._names]
        if set(state) != set(names):
            missing, extra = sorted(set(names) - set(state)), sorted(set(state) - set(names))
            raise ValueError(
                f"state_dict does not match the model: missing {missing}, unexpected {extra}"
            )
        values = {}
        for name, param, _ in self._names:  # all checked before any is copied
            value = np.asarray(state[name])
            if value.dtype.kind not in "biuf":
                raise TypeError(f"state_dict[{name!r}] must hold numbers, got dtype {value.dtype}")
            if value.shape != param.shape:
                raise ValueError(
                    f"state_dict[{name!r}] has shape {value.shape}, the model's is {param.shape}"
                )
            with np.errstate(over="ignore"):
                finite = np.isfinite(value.astype(param.dtype)).all()
            if not finite:
                raise ValueError(
                    f"state_dict[{name!r}] holds NaN or infinity (in the model's {param.dtype})"
                )
            values[name] = value
        with self._lock:
            for name, param, _ in self._names:
                param[...] = values[name]
            self._loss_reference = None  # the losses were those of other parameters

    def reset_parameters(self, random_state: RandomState = None) -> Sequential:
        """Initialise every layer's parameters from one seed.

        The divergence check's reference losses are forgotten.

        Parameters
        ----------
        random_state : None, int, numpy.random.Generator or SeedSequence, default None
            The seed (None: fresh entropy, not the model's own `random_state`).

        Returns
        -------
        Sequential
            The model itself.
        """
        rng = spawn_generators(check_random_state(random_state), 1)[0]
        with self._lock:
            for layer in self.layers:
                layer.reset_parameters(rng)
            self._loss_reference = None  # the losses were those of other parameters
        return self

    def zero_grad(self) -> None:
        """Set every gradient in `flat_grads` to zero."""
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
            for old in training[: max(0, len(training) - MAX_PLANS)]:
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
        if plan is not None and plan.nbytes <= memory and plan.capacity >= min(n_rows, EVAL_BATCH):
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

    def _check_X(self, X: ArrayLike, name: str = "X") -> NDArray[Any]:
        X = as_features(X, name)
        check_width(X, self.n_features_in_, name)
        check_values(X, self.dtype, name)
        return X

    def decision_function(self, X: ArrayLike, *, memory: int | None = None) -> NDArray[Any]:
        """The model's raw outputs (the logits, for the classification losses), (n, outputs).

        Rows go through the model in blocks whose buffers fit `memory` bytes (default
        pynn.plans.PREDICT_MEMORY, 64 MiB), whatever the model's width and depth: beyond
        the result, that is all a prediction allocates (docs/model.md). Also `forward`.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Numeric features, finite in the model's dtype (a NumPy array or memmap is read
            in place).
        memory : int or None, default None
            The budget in bytes for the forward pass's buffers (None: 64 MiB).

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_outputs_)
            The last layer's outputs, in the model's dtype.

        Raises
        ------
        ValueError
            X of the wrong width, not 2-D, or holding NaN or infinity; a bad `memory`.
        """
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
            raise ValueError(
                f"{what} needs a trained model: call fit first (it fixes the "
                f"loss and, for classifiers, classes_)"
            )

    @property
    def classes_(self) -> NDArray[Any] | None:
        """The sorted class labels of a trained classifier; None for a regressor or before
        fit."""
        return None if self.targets_ is None else self.targets_.classes_

    def predict(self, X: ArrayLike, *, memory: int | None = None) -> NDArray[Any]:
        """Class labels for a classifier (argmax, or logit > 0 per label); values for a
        regressor (1-D when it was trained on a 1-D y). `memory`: as decision_function.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Numeric features, as for `decision_function`.
        memory : int or None, default None
            The budget in bytes for the forward pass's buffers (None: 64 MiB).

        Returns
        -------
        numpy.ndarray
            (n_samples,) labels from `classes_`, (n_samples, K) 0/1 for a multi-label
            classifier or argmax indices for one trained on probabilities, or the values a
            regressor predicts: (n_samples,) or (n_samples, n_outputs_) as its y was.

        Raises
        ------
        ValueError
            An untrained model, or X as in `decision_function`.
        """
        self._require_fitted("predict")
        return self.targets_.decode(  # type: ignore[union-attr]  # fitted: checked above
            self.decision_function(X, memory=memory)
        )

    def predict_proba(self, X: ArrayLike, *, memory: int | None = None) -> NDArray[Any]:
        """The loss's output nonlinearity applied: softmax rows, or sigmoid per label. For a
        binary classifier (one output) the columns are P(classes_[0]), P(classes_[1]).
        `memory`: as decision_function.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Numeric features, as for `decision_function`.
        memory : int or None, default None
            The budget in bytes for the forward pass's buffers (None: 64 MiB).

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_classes) or (n_samples, K)
            Probabilities, in the model's dtype.

        Raises
        ------
        ValueError
            An untrained model, a loss without probabilities (mse, l1, hinge), or X as in
            `decision_function`.
        """
        self._require_fitted("predict_proba")
        p = self.loss_.probabilities(  # type: ignore[union-attr]  # fitted: checked above
            self._kernels, self.decision_function(X, memory=memory)
        )
        if self.targets_.kind == "binary":  # type: ignore[union-attr]
            p = np.hstack([1 - p, p])
        return p

    def evaluate(
        self, X: ArrayLike, y: ArrayLike, *, memory: int | None = None
    ) -> dict[str, float]:
        """{"loss": mean loss, metric: value}, the metric being accuracy or R².
        `memory`: as decision_function.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Numeric features, as for `decision_function`.
        y : array_like of shape (n_samples,) or (n_samples, n_outputs)
            Targets of the kind the model was trained on (labels from `classes_` for a
            classifier).
        memory : int or None, default None
            The budget in bytes for the forward pass's buffers (None: 64 MiB).

        Returns
        -------
        dict of str to float
            "loss", the mean loss, and "accuracy" (classifiers) or "r2" (regressors).

        Raises
        ------
        ValueError
            An untrained model, a label the model was not trained on, y of the wrong
            length, or X as in `decision_function`.
        """
        self._require_fitted("evaluate")
        check_memory(memory)
        X = self._check_X(X)
        target = self.targets_.encode(  # type: ignore[union-attr]  # fitted: checked above
            y_checked(y, X.shape[0]), self.dtype
        )
        with self._lock:
            return self._evaluate(X, None, target, memory)

    def score(self, X: ArrayLike, y: ArrayLike, *, memory: int | None = None) -> float:
        """Accuracy for a classifier, R² for a regressor (scikit-learn's convention).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Numeric features, as for `decision_function`.
        y : array_like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, as for `evaluate`.
        memory : int or None, default None
            The budget in bytes for the forward pass's buffers (None: 64 MiB).

        Returns
        -------
        float
            The metric of `evaluate`.

        Raises
        ------
        ValueError
            As `evaluate`.
        """
        return self.evaluate(X, y, memory=memory)[self.targets_.metric_name]  # type: ignore[union-attr]  # fitted: evaluate checks

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
    def loss_and_grad(self, X: ArrayLike, target: NDArray[Any]) -> float:
        """The mean loss over (X, target) and its gradient, written into flat_grads.

        `target` is already encoded (`targets_.encode(y, dtype)`), X is checked. One batch,
        one forward and backward pass: this is what fit does per step, without the update
        (at a non-finite loss, as there, no gradient is written).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            The batch's features.
        target : numpy.ndarray of shape (n_samples, n_outputs_)
            The batch's encoded targets, in the model's dtype.

        Returns
        -------
        float
            The mean loss over the batch.

        Raises
        ------
        ValueError
            An untrained model (the loss is fit's), or X as in `decision_function`.
        """
        self._require_fitted("loss_and_grad")
        X = self._check_X(X)
        with self._lock:
            plan = self._plan(X.shape[0])
            plan.read(X, slice(0, X.shape[0]))
            np.copyto(plan.target, target)
            value, _ = plan.run()
        return value

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        loss: str | Loss | None = None,
        optimizer: Optimizer | None = None,
        epochs: int = 10,
        batch_size: int | None = 32,
        shuffle: bool = True,
        validation_data: tuple[ArrayLike, ArrayLike] | None = None,
        validation_split: float = 0.0,
        early_stopping: bool | EarlyStopping | None = None,
        lr_scheduler: LRScheduler | None = None,
        callback: EpochCallback | None = None,
        batch_callback: BatchCallback | None = None,
        verbose: int = 0,
        random_state: RandomState = None,
        classes: ArrayLike | None = None,
        divergence: float | None = None,
    ) -> Sequential:
        """Train from freshly initialised parameters; returns self.

        fit re-initialises the parameters from `random_state` (default: the model's own)
        and restarts the optimizer (zero state, its initial learning rate) and any
        schedule, so one seed gives one model and one training result, bit for bit,
        whatever the thread count. Every argument is checked before the model is touched.

        A call from another thread while this one runs waits for it (see the class
        docstring). Ctrl-C stops at the end of the step running, leaving the model as after
        that step (docs/model.md). `divergence` (None: off) is a factor: an epoch whose mean
        loss exceeds it times the best loss, and the loss before training and that of an
        all-zero output, raises pynn.DivergenceError, the model back as after the last good
        epoch (docs/model.md).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Training features: any 2-D numeric array-like. NumPy arrays and numpy.memmap
            are used in place (each batch is gathered into a reused buffer, so an on-disk X
            larger than memory is read batch by batch); X is checked for NaN and infinity
            before training.
        y : array_like of shape (n_samples,) or (n_samples, K)
            Targets, whose meaning the loss decides (docs/model.md, "Losses and targets"):
            labels (any integers or strings) or probabilities for softmax_cross_entropy,
            two labels or (n, K) 0/1 for binary_cross_entropy and hinge, numbers for mse
            and l1.
        loss : str, Loss or None, default None
            One of pynn.losses.LOSSES ("mse", "l1", "binary_cross_entropy",
            "softmax_cross_entropy", "hinge"). Required the first time; None keeps the
            model's loss. The classification losses read the last layer as logits: do not
            end a binary_cross_entropy model in a sigmoid (ValueError).
        optimizer : Optimizer or None, default None
            An instance of pynn.optim (SGD, Adam, AdamW), bound to this model's buffers for
            the fit (give each concurrently running fit its own).
            None: Adam(). Every fit restarts the optimizer (zero state, its initial
            learning rate).
        epochs : int, default 10
            Passes over the training rows (0 is allowed and trains nothing).
        batch_size : int or None, default 32
            Rows per optimizer step (the last batch of an epoch takes the rest); 1 is
            per-sample (online) SGD, None one full batch per epoch.
        shuffle : bool, default True
            Draw a new row order each epoch from the seeded row-order stream; False keeps
            the rows in order.
        validation_data : (X_val, y_val) or None, default None
            A separate validation set, evaluated after each epoch (val_loss and
            val_accuracy or val_r2 in `history_`). Not together with validation_split.
        validation_split : float, default 0.0
            A share in [0, 1) of X's rows held out for validation, drawn at random from the
            seed (read in place, never copied); each part must keep at least one row.
        early_stopping : bool, EarlyStopping or None, default None
            True for pynn.EarlyStopping() (patience 10, monitoring val_loss when there is
            validation data, else loss; the best epoch's parameters put back), an
            EarlyStopping to choose its settings, None or False for none.
        lr_scheduler : LRScheduler or None, default None
            A pynn.optim schedule (StepLR, InverseScalingLR, ReduceLROnPlateau) stepped at
            each epoch's end; None keeps a constant learning rate.
            Every fit restarts the schedule.
        callback : callable or None, default None
            callback(model, epoch, logs) after each epoch, logs being that epoch's dict
            (loss, accuracy or r2, the val_ values, lr, time); a true return value stops
            training.
        batch_callback : callable or None, default None
            batch_callback(model, epoch, step, n_steps) after each optimizer step (a
            progress bar: the command line uses it).
        verbose : {0, 1, 2}, default 0
            Nonzero prints one line per epoch (its logs).
        random_state : None, int, numpy.random.Generator or SeedSequence, default None
            The seed of the initial parameters, the validation split and the row
            order. None: the model's `random_state`, so one seed gives one result, bit
            for bit, whatever the thread count.
        classes : array_like or None, default None
            All the class labels of a classifier, for when y may not show them all (the
            first partial_fit of a stream); later calls must give the same classes.
        divergence : float or None, default None
            None (or False) turns the divergence check off; a finite factor > 1 (1e4 is
            the scikit-learn estimators' default) turns it on: an epoch whose mean loss is
            more than `divergence` times the best loss (the minimum of the loss before
            training and every completed epoch's), and above both the loss before training
            and that of an all-zero output, raises pynn.DivergenceError with the model back
            at its parameters from the start of that epoch (docs/model.md).
        Returns
        -------
        Sequential
            The model itself, trained; `history_` holds the per-epoch logs.

        Raises
        ------
        ValueError
            A bad argument value (checked before the model is touched, so a bad call leaves
            a trained model as it was): no loss the first time, X or y of the wrong shape or
            with NaN or infinity, a label outside `classes`, a bad split, and so on.
        TypeError
            An argument of the wrong type (a class, Adam, where an instance, Adam(), is
            wanted; a callback that is not callable; ...).
        RuntimeError
            The optimizer, lr_scheduler or EarlyStopping is in use by another running fit.
        pynn.NonFiniteLossError
            The loss became NaN or infinite, or an update made the parameters non-finite;
            the model keeps finite parameters (the message says which).
        pynn.DivergenceError
            With `divergence` set, an epoch diverged (see above).
        KeyboardInterrupt
            Ctrl-C, acted on at the end of the step running: the model is left as that step
            left it (docs/model.md).
        """
        with self._lock:
            return fit(
                self,
                X,
                y,
                loss=loss,
                optimizer=optimizer,
                epochs=epochs,
                batch_size=batch_size,
                shuffle=shuffle,
                validation_data=validation_data,
                validation_split=validation_split,
                early_stopping=early_stopping,
                lr_scheduler=lr_scheduler,
                callback=callback,
                batch_callback=batch_callback,
                verbose=verbose,
                random_state=random_state,
                classes=classes,
                warm_start=False,
                divergence=divergence,
            )

    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        loss: str | Loss | None = None,
        optimizer: Optimizer | None = None,
        epochs: int = 1,
        batch_size: int | None = 32,
        shuffle: bool = True,
        validation_data: tuple[ArrayLike, ArrayLike] | None = None,
        validation_split: float = 0.0,
        early_stopping: bool | EarlyStopping | None = None,
        lr_scheduler: LRScheduler | None = None,
        callback: EpochCallback | None = None,
        batch_callback: BatchCallback | None = None,
        verbose: int = 0,
        random_state: RandomState = None,
        classes: ArrayLike | None = None,
        divergence: float | None = None,
    ) -> Sequential:
        """Continue training from the current parameters and optimizer state (one epoch by
        default); the first call may set the loss, optimizer and classes. Returns self.
        Threads and Ctrl-C: as fit.

        partial_fit continues the parameters, the optimizer's state, a schedule already
        driving that optimizer and the row-order stream: `fit(epochs=1)` then
        `partial_fit()` is `fit(epochs=2)`. With the same loss it keeps the model's
        targets (and classes_); `history_` grows. A first call (an untrained model)
        starts from the parameters made at construction.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Training features: any 2-D numeric array-like. NumPy arrays and numpy.memmap
            are used in place (each batch is gathered into a reused buffer, so an on-disk X
            larger than memory is read batch by batch); X is checked for NaN and infinity
            before training.
        y : array_like of shape (n_samples,) or (n_samples, K)
            Targets, whose meaning the loss decides (docs/model.md, "Losses and targets"):
            labels (any integers or strings) or probabilities for softmax_cross_entropy,
            two labels or (n, K) 0/1 for binary_cross_entropy and hinge, numbers for mse
            and l1.
        loss : str, Loss or None, default None
            One of pynn.losses.LOSSES ("mse", "l1", "binary_cross_entropy",
            "softmax_cross_entropy", "hinge"). Required the first time; None keeps the
            model's loss. The classification losses read the last layer as logits: do not
            end a binary_cross_entropy model in a sigmoid (ValueError).
        optimizer : Optimizer or None, default None
            An instance of pynn.optim (SGD, Adam, AdamW), bound to this model's buffers for
            the fit (give each concurrently running fit its own).
            None: the model's optimizer when it has one, continued (its state, step
            count and learning rate), else Adam().
        epochs : int, default 1
            Passes over the training rows (0 is allowed and trains nothing).
        batch_size : int or None, default 32
            Rows per optimizer step (the last batch of an epoch takes the rest); 1 is
            per-sample (online) SGD, None one full batch per epoch.
        shuffle : bool, default True
            Draw a new row order each epoch from the seeded row-order stream; False keeps
            the rows in order.
        validation_data : (X_val, y_val) or None, default None
            A separate validation set, evaluated after each epoch (val_loss and
            val_accuracy or val_r2 in `history_`). Not together with validation_split.
        validation_split : float, default 0.0
            A share in [0, 1) of X's rows held out for validation, drawn at random from the
            seed (read in place, never copied); each part must keep at least one row.
        early_stopping : bool, EarlyStopping or None, default None
            True for pynn.EarlyStopping() (patience 10, monitoring val_loss when there is
            validation data, else loss; the best epoch's parameters put back), an
            EarlyStopping to choose its settings, None or False for none.
        lr_scheduler : LRScheduler or None, default None
            A pynn.optim schedule (StepLR, InverseScalingLR, ReduceLROnPlateau) stepped at
            each epoch's end; None keeps a constant learning rate.
            A schedule already driving the model's optimizer continues its schedule.
        callback : callable or None, default None
            callback(model, epoch, logs) after each epoch, logs being that epoch's dict
            (loss, accuracy or r2, the val_ values, lr, time); a true return value stops
            training.
        batch_callback : callable or None, default None
            batch_callback(model, epoch, step, n_steps) after each optimizer step (a
            progress bar: the command line uses it).
        verbose : {0, 1, 2}, default 0
            Nonzero prints one line per epoch (its logs).
        random_state : None, int, numpy.random.Generator or SeedSequence, default None
            The seed of the validation split and of a new row-order stream (the
            parameters are not re-initialised). None: the row order continues the
            previous call's stream, and the split is drawn from the model's
            `random_state`: with an int seed, the same rows each call, so the model
            never trains on the rows it validates on.
        classes : array_like or None, default None
            All the class labels of a classifier, for when y may not show them all (the
            first partial_fit of a stream); later calls must give the same classes.
        divergence : float or None, default None
            None (or False) turns the divergence check off; a finite factor > 1 (1e4 is
            the scikit-learn estimators' default) turns it on: an epoch whose mean loss is
            more than `divergence` times the best loss (the minimum of the loss before
            training and every completed epoch's), and above both the loss before training
            and that of an all-zero output, raises pynn.DivergenceError with the model back
            at its parameters from the start of that epoch (docs/model.md).
            Consecutive calls with the check on keep the reference losses.
        Returns
        -------
        Sequential
            The model itself, trained; `history_` holds the per-epoch logs.

        Raises
        ------
        ValueError
            A bad argument value (checked before the model is touched, so a bad call leaves
            a trained model as it was): no loss the first time, X or y of the wrong shape or
            with NaN or infinity, a label outside `classes`, a bad split, and so on.
        TypeError
            An argument of the wrong type (a class, Adam, where an instance, Adam(), is
            wanted; a callback that is not callable; ...).
        RuntimeError
            The optimizer, lr_scheduler or EarlyStopping is in use by another running fit.
        pynn.NonFiniteLossError
            The loss became NaN or infinite, or an update made the parameters non-finite;
            the model keeps finite parameters (the message says which).
        pynn.DivergenceError
            With `divergence` set, an epoch diverged (see above).
        KeyboardInterrupt
            Ctrl-C, acted on at the end of the step running: the model is left as that step
            left it (docs/model.md).
        """
        with self._lock:
            return fit(
                self,
                X,
                y,
                loss=loss,
                optimizer=optimizer,
                epochs=epochs,
                batch_size=batch_size,
                shuffle=shuffle,
                validation_data=validation_data,
                validation_split=validation_split,
                early_stopping=early_stopping,
                lr_scheduler=lr_scheduler,
                callback=callback,
                batch_callback=batch_callback,
                verbose=verbose,
                random_state=random_state,
                classes=classes,
                warm_start=True,
                divergence=divergence,
            )

    def __repr__(self):
        inner = ",\n".join(f"    {layer!r}" for layer in self.layers)
        return f"Sequential(\n{inner},\n    dtype={self.dtype.name}, backend={self.backend!r})"

    # ---- summary, saving, hardening (pynn.summary, pynn.persistence, pynn.harden) ----------
    def summary(
        self, batch_size: int = 32, optimizer: Optimizer | None = None, memory: int | None = None
    ) -> ModelSummary:
        """The layers, parameter counts, the memory training needs at this batch size
        (`optimizer` defaults to the model's own) and the memory predict uses within the
        budget `memory` (default 64 MiB); print it. See pynn.summary.

        Parameters
        ----------
        batch_size : int, default 32
            The training batch size the memory is counted for.
        optimizer : Optimizer or None, default None
            The optimizer whose state is counted (None: the model's own, as fit would use).
        memory : int or None, default None
            predict's memory budget in bytes (None: 64 MiB).

        Returns
        -------
        ModelSummary
            The summary; printing it (str) gives the table.
        """
        return summarize(self, batch_size, optimizer, memory)

    def save(self, path: str | PathLike[str]) -> None:
        """Write the model to the .npz file `path` (atomically); `pynn.load(path)` reads it.

        The parameters, layers, dtype, backend and, when trained, the loss and classes are
        saved; the optimizer state and history are not (pynn.persistence.save).

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (exactly this name), replaced atomically if it exists.

        Raises
        ------
        ValueError
            Parameters holding NaN or infinity, or a path that exists and is not a regular
            file (a directory: IsADirectoryError).
        OSError
            The file cannot be written.
        """
        with self._lock:
            save(self, path)

    def harden(self) -> HardenedModel:
        """An inference-only copy with hard output nonlinearities (softmax -> argmax,
        sigmoid -> unit step, tanh -> signum) that predicts what this model predicts.

        Returns
        -------
        HardenedModel
            The copy (pynn.harden): its parameters are copied, so later training of this
            model does not change it.

        Raises
        ------
        ValueError
            An untrained model, or a regressor whose output has no hard counterpart.
        """
        with self._lock:
            return harden(self)


def load(path: str | PathLike[str]) -> Sequential:
    """The Sequential model saved at `path` by `model.save(path)` (pynn.load). The file and
    its checks are pynn.persistence's; the model is built here, where Sequential is.

    Parameters
    ----------
    path : str or os.PathLike
        The .npz file written by `Sequential.save`.

    Returns
    -------
    Sequential
        The model, with its parameters and, when it was trained, its loss and classes_
        (ready to predict; partial_fit starts a fresh optimizer).

    Raises
    ------
    ValueError
        The file is not a pynn model, is damaged, or has another format version (the
        message names the file).
    OSError
        The file cannot be opened.
    """
    return read_model(path, Sequential)
