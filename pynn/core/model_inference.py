"""Sequential's inference: decision_function (forward), predict, predict_proba, evaluate
and score, run on the model's inference plans' networks (pynn.core.plans, pynn.core.network) in
blocks whose buffers fit a memory budget. pynn.core.model's Sequential inherits these methods
from InferenceMixin.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pynn.core.inputs import as_features, check_values, check_width, y_checked
from pynn.core.plans import check_memory
from pynn.core.sample_weights import check_sample_weight

if TYPE_CHECKING:
    from pynn.core.losses import Loss
    from pynn.core.targets import Targets


class InferenceMixin:
    """The inference methods of pynn.core.model.Sequential: the model's outputs, predictions,
    probabilities, and its loss and metric on labelled data."""

    dtype: np.dtype[Any]
    n_features_in_: int
    n_outputs_: int
    loss_: Loss | None
    targets_: Targets | None
    _kernels: ModuleType
    _lock: threading.RLock

    if TYPE_CHECKING:  # PlansMixin's, which Sequential also inherits

        def _inference_plan(
            self, n_rows: int, mode: str, memory: int | None = None
        ) -> tuple[Any, int]: ...

    # ---- the computation: the plans' networks (pynn.core.network) -------------------------------
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
        pynn.core.plans.PREDICT_MEMORY, 64 MiB), whatever the model's width and depth: beyond
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

    def __call__(self, X: ArrayLike, *, memory: int | None = None) -> NDArray[Any]:
        """model(X): the raw outputs, as `decision_function` (PyTorch's and Keras's call).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Numeric features.
        memory : int or None, default None
            The budget in bytes for the forward pass's buffers (None: 64 MiB).

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_outputs_)
            The last layer's outputs (logits for the classification losses).
        """
        return self.decision_function(X, memory=memory)

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
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        memory: int | None = None,
    ) -> dict[str, float]:
        """{"loss": mean loss, metric: value}, the metric being accuracy or R².
        `memory`: as decision_function.

        With sample_weight the loss is sum_i w_i l_i / sum_i w_i and the metric is
        scikit-learn's accuracy_score or r2_score with that sample_weight (docs/model.md,
        "Sample weights").

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Numeric features, as for `decision_function`.
        y : array_like of shape (n_samples,) or (n_samples, n_outputs)
            Targets of the kind the model was trained on (labels from `classes_` for a
            classifier).
        sample_weight : array_like of shape (n_samples,) or None, default None
            One finite weight >= 0 per sample, not all zero (None: every sample 1).
        memory : int or None, default None
            The budget in bytes for the forward pass's buffers (None: 64 MiB).

        Returns
        -------
        dict of str to float
            "loss", the (weighted) mean loss, and "accuracy" (classifiers) or "r2"
            (regressors).

        Raises
        ------
        ValueError
            An untrained model, a label the model was not trained on, y of the wrong
            length, a bad sample_weight, or X as in `decision_function`.
        """
        self._require_fitted("evaluate")
        check_memory(memory)
        X = self._check_X(X)
        target = self.targets_.encode(  # type: ignore[union-attr]  # fitted: checked above
            y_checked(y, X.shape[0]), self.dtype
        )
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0], self.dtype)
        with self._lock:
            return self._evaluate(X, None, target, sample_weight, memory)

    def score(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        memory: int | None = None,
    ) -> float:
        """Accuracy for a classifier, R² for a regressor (scikit-learn's convention), each
        weighted by sample_weight as scikit-learn's accuracy_score and r2_score.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features_in_)
            Numeric features, as for `decision_function`.
        y : array_like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, as for `evaluate`.
        sample_weight : array_like of shape (n_samples,) or None, default None
            As for `evaluate`.
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
        scores = self.evaluate(X, y, sample_weight=sample_weight, memory=memory)
        return scores[self.targets_.metric_name]  # type: ignore[union-attr]  # fitted: evaluate checks

    def _evaluate(self, X, rows, target, weights=None, memory=None):
        """Loss and metric over X[rows] (all of X when rows is None) against encoded
        targets, weighted by the float64 weights of those rows when given."""
        n = X.shape[0] if rows is None else len(rows)
        t = self.targets_
        total, loss_sum = t.new_total(weights is not None), 0.0
        plan, block = self._inference_plan(n, "eval", memory)
        for part in self._batches(X, n, block):
            view = plan.rows(part.stop - part.start, self)
            out = view.forward(X, part if rows is None else rows[part])
            np.copyto(view.target, target[part])
            self.loss_(self._kernels, out, view.target, sample_loss=view.sample_loss)
            # row after row in float64, continuing from the blocks before: the same sum
            # whatever the block size (the memory budget sets it)
            prefix = view.loss_prefix
            if weights is None:
                np.copyto(prefix, view.sample_loss)
            else:
                np.multiply(view.sample_loss, weights[part], out=prefix)
            prefix[0] += loss_sum
            np.add.accumulate(prefix, out=prefix)
            loss_sum = float(prefix[-1])
            w = None if weights is None else weights[part]
            t.accumulate(self._kernels, total, out, view.target, view.scratch, w)
        denominator = None if t.is_classifier else t.r2_denominator(target, weights)
        if weights is not None:  # the divisor of the weighted means: sum_i w_i
            n = float(np.add.accumulate(weights)[-1])
        return {"loss": loss_sum / n, t.metric_name: t.metric(total, n, denominator)}
