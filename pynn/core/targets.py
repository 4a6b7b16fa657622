"""Targets: turning a user's y into what a loss kernel reads, and outputs back into predictions.

One `Targets` object per trained model, chosen from the loss and the shape of y:

kind            loss                         y                         model output
"labels"        softmax_cross_entropy        (n,) any labels           K = number of classes
"probabilities" softmax_cross_entropy        (n, K) rows of weights    K
"binary"        binary_cross_entropy, hinge  (n,) two labels           1
"indicator"     binary_cross_entropy, hinge  (n, K) 0/1 (or -1/+1)     K (multi-label)
"values"        mse, l1                      (n,) or (n, K) numbers    1 or K
"rates"         poisson                      (n,) or (n, K) >= 0       1 or K log-rates z

Classifiers keep `classes_` (sorted, as scikit-learn does) and predict labels from the
logits: argmax, or logit > 0, which is exactly "probability > 0.5" without the rounding
of the sigmoid near 0. The per-epoch metric is accuracy for classifiers (every label of a
row right, for multi-label) and R² for regressors. A "rates" model predicts the rates
exp(z) (scikit-learn's MLPRegressor with loss="poisson" does the same), and its R² is that
of the rates, as scikit-learn's score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from pynn.core.sample_weights import accumulate_weighted, weighted_sum_of_squares
from pynn.core.target_checks import (
    as_y,
    check_classes,
    check_finite,
    check_non_negative,
    columns_kind,
    first_values,
    labels_kind,
    values_kind,
)

if TYPE_CHECKING:
    from types import ModuleType

    from pynn.core.losses import Loss

KINDS = ("labels", "probabilities", "binary", "indicator", "values", "rates")
REGRESSION_KINDS = ("values", "rates")


class Targets:
    """How a model's targets are encoded and decoded; see the module docstring.

    Parameters
    ----------
    kind : {"labels", "probabilities", "binary", "indicator", "values", "rates"}
        The kind of targets (KINDS).
    n_outputs : int
        The model's outputs.
    classes : array_like or None, default None
        The sorted class labels of a classifier.
    squeeze : bool, default False
        values: y was 1-D (predictions are 1-D too).
    negative : float, default 0.0
        indicator: the "off" value of y and of predictions (0 or -1).
    hinge : bool, default False
        binary/indicator: encode as -1/+1 (hinge) rather than 0/1.

    Raises
    ------
    ValueError
        An unknown kind.
    """

    def __init__(
        self,
        kind: str,
        n_outputs: int,
        classes: ArrayLike | None = None,
        squeeze: bool = False,
        negative: float = 0.0,
        hinge: bool = False,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown target kind {kind!r}")
        self.kind = kind
        self.n_outputs = n_outputs
        self.classes_ = None if classes is None else np.asarray(classes)
        self.squeeze = squeeze  # values: y was 1-D
        self.negative = negative  # indicator: the "off" value of y and of predictions (0 or -1)
        self.hinge = hinge  # binary/indicator: encode as -1/+1 (hinge) rather than 0/1

    @property
    def is_classifier(self) -> bool:
        """Whether the targets are labels (every kind but "values" and "rates")."""
        return self.kind not in REGRESSION_KINDS

    @property
    def metric_name(self) -> str:
        """ "accuracy" for classifiers, "r2" for regressors."""
        return "accuracy" if self.is_classifier else "r2"

    # ---- choosing and encoding ------------------------------------------------------------
    @classmethod
    def for_loss(
        cls, loss: Loss, y: Any, n_outputs: int, classes: ArrayLike | None = None
    ) -> Targets:
        """The Targets of `loss` (a pynn.losses.Loss) for training data y.

        Parameters
        ----------
        loss : Loss
            fit's loss.
        y : array_like
            The training targets.
        n_outputs : int
            The model's outputs.
        classes : array_like or None, default None
            All the labels, when y may not show them all.

        Returns
        -------
        Targets

        Raises
        ------
        ValueError
            y that the loss cannot train on, or that does not match the outputs.
        """
        n = len(y) if not hasattr(y, "shape") else y.shape[0]
        y = as_y(y, n)
        classes = check_classes(loss, classes)
        if not loss.classifies:
            return cls(**values_kind(y, n_outputs, loss.target_kinds[0]))
        if y.ndim == 2:
            return cls(**columns_kind(loss, y, n_outputs, classes))
        return cls(**labels_kind(loss, y, n_outputs, classes))

    def encode(self, y: Any, dtype: DTypeLike) -> NDArray[Any]:
        """y in the form the loss kernel reads: int64 labels (n,), or (n, K) of `dtype`.

        Parameters
        ----------
        y : array_like
            Targets of this kind.
        dtype : numpy dtype
            The model's dtype.

        Returns
        -------
        numpy.ndarray

        Raises
        ------
        ValueError
            y of another shape, labels the model was not trained on, or values that are
            not finite, or negative for "rates".
        """
        y = as_y(y, len(y) if not hasattr(y, "shape") else y.shape[0])
        if self.kind in ("labels", "binary"):
            if y.ndim != 1:
                raise ValueError(f"y must be 1-D labels for this model, got shape {y.shape}")
            index = self._label_index(y)
            if self.kind == "labels":
                return index.astype(np.int64)
            on = index.astype(dtype).reshape(-1, 1)
            return 2 * on - 1 if self.hinge else on
        if not self.is_classifier:
            check_finite(y)
            if self.kind == "rates":
                check_non_negative(y)
            y2 = y.reshape(-1, 1) if y.ndim == 1 else y
            if y2.shape[1] != self.n_outputs:
                raise ValueError(f"y must have {self.n_outputs} column(s), got shape {y.shape}")
            return np.ascontiguousarray(y2, dtype=dtype)
        if y.ndim != 2 or y.shape[1] != self.n_outputs:
            raise ValueError(f"y must have shape (n, {self.n_outputs}), got {y.shape}")
        check_finite(y)
        t = np.ascontiguousarray(y, dtype=dtype)
        if self.kind == "probabilities" and (t < 0).any():
            raise ValueError(
                f"y for softmax_cross_entropy must be non-negative class weights "
                f"(probabilities or one-hot), got {first_values(t[t < 0])}"
            )
        if self.kind == "indicator" and not self.hinge and ((t < 0) | (t > 1)).any():
            raise ValueError(
                f"y for binary_cross_entropy must be in [0, 1], got "
                f"{first_values(t[(t < 0) | (t > 1)])}"
            )
        if self.kind == "indicator" and self.hinge:
            allowed = (-1, 1) if self.negative == -1 else (0, 1)
            if not np.isin(t, allowed).all():
                raise ValueError(
                    f"y for hinge must hold only {allowed[0]} and {allowed[1]}, as in training"
                )
            return t if self.negative == -1 else 2 * t - 1
        return t

    def _label_index(self, y):
        index = np.searchsorted(self.classes_, y)
        index = np.minimum(index, len(self.classes_) - 1)
        bad = self.classes_[index] != y
        if bad.any():
            unknown = np.unique(np.asarray(y)[bad])[:5].tolist()
            raise ValueError(
                f"y has labels the model was not trained on: {unknown} "
                f"(classes_ are {self.classes_[:10].tolist()})"
            )
        return index

    # ---- predictions -----------------------------------------------------------------------
    def decode(self, out: NDArray[Any]) -> NDArray[Any]:
        """Predictions from the model's outputs (logits for the classification losses, the
        log-rates for "rates", whose predictions are exp(out): inf beyond the dtype's range).

        Parameters
        ----------
        out : numpy.ndarray of shape (n, n_outputs)
            The model's outputs.

        Returns
        -------
        numpy.ndarray
            Labels, indices, 0/1 (or -1/+1) rows, or values.
        """
        if self.kind == "rates":
            with np.errstate(over="ignore"):
                out = np.exp(out)
        if not self.is_classifier:
            return out[:, 0].copy() if self.squeeze else out
        if self.kind in ("labels", "probabilities"):
            index = np.argmax(out, axis=1)
            return self.classes_[index] if self.kind == "labels" else index  # type: ignore[index]
        on = out > 0
        if self.kind == "binary":
            return self.classes_[on[:, 0].astype(np.intp)]  # type: ignore[index]
        return np.where(on, 1, int(self.negative)).astype(np.int64)

    # ---- metric ----------------------------------------------------------------------------
    def scratch_shapes(self, n: int) -> dict[str, tuple[tuple[int, ...], Any]]:
        """{name: (shape, dtype)} of the buffers `accumulate` needs for a batch of n.

        Parameters
        ----------
        n : int
            Rows of the batch.

        Returns
        -------
        dict of str to (tuple of int, numpy dtype or None)
        """
        k = self.n_outputs
        if not self.is_classifier:
            return {"residual": ((n, k), None), "squares": ((n, k), np.float64)}
        if self.kind == "labels":
            return {}  # count_argmax_hits needs none
        shapes: dict[str, tuple[tuple[int, ...], Any]] = {
            "hit": ((n, k), np.bool_),
            "row": ((n,), np.bool_),
        }
        if self.kind == "probabilities":
            shapes = {
                "row": ((n,), np.bool_),
                "argmax": ((n,), np.intp),
                "target_argmax": ((n,), np.intp),
            }
        elif self.kind == "binary" or self.kind == "indicator":
            shapes["target_on"] = ((n, k), np.bool_)
        return shapes

    def new_total(self, weighted: bool = False) -> NDArray[Any]:
        """The running sum `accumulate` adds to: correct rows (their weights' sum when
        weighted), or (weighted) squared errors per output.

        Parameters
        ----------
        weighted : bool, default False
            For an `accumulate` with weights.

        Returns
        -------
        numpy.ndarray
            Zeros: (1,) int64 ((1,) float64 when weighted), or (n_outputs,) float64.
        """
        if not self.is_classifier:
            return np.zeros(self.n_outputs)
        return np.zeros(1) if weighted else np.zeros(1, np.int64)

    def accumulate(
        self,
        kernels: ModuleType,
        total: NDArray[Any],
        out: NDArray[Any],
        target: NDArray[Any],
        scratch: dict[str, NDArray[Any]],
        weights: NDArray[Any] | None = None,
    ) -> None:
        """Add one batch's count of correct rows (or per-output squared errors) to `total`,
        using only the preallocated `scratch` buffers (labels: one kernel call); with
        `weights`, the sum of the correct rows' weights (or of w_i times the squared
        errors), as scikit-learn's accuracy_score and r2_score weight them.

        Parameters
        ----------
        kernels : module
            The backend's kernels.
        total : numpy.ndarray
            The running sum (new_total), updated in place.
        out : numpy.ndarray
            The batch's outputs.
        target : numpy.ndarray
            The batch's encoded targets.
        scratch : dict of str to numpy.ndarray
            The buffers of scratch_shapes.
        weights : numpy.ndarray of shape (n,) or None, default None
            The batch's sample weights (a total from new_total(weighted=True)).
        """
        if weights is not None:
            accumulate_weighted(self.kind, total, out, target, weights)
            return
        if self.kind == "labels":
            total[0] += kernels.count_argmax_hits(out, target)
            return
        if not self.is_classifier:
            # Summed row after row in float64, continuing from `total`: the same sum however
            # the rows are split into batches (evaluate's blocks follow a memory budget).
            # (One cast copy: a ufunc that casts its operands allocates a buffer.)
            if self.kind == "rates":  # the residuals of the rates exp(out)
                with np.errstate(over="ignore"):
                    out = np.exp(out, out=scratch["residual"])
            np.subtract(out, target, out=scratch["residual"])
            squares = scratch["squares"]
            np.copyto(squares, scratch["residual"])
            np.multiply(squares, squares, out=squares)
            squares[0] += total
            np.add.accumulate(squares, axis=0, out=squares)
            total[...] = squares[-1]
            return
        row = scratch["row"]
        if self.kind == "probabilities":
            np.argmax(out, axis=1, out=scratch["argmax"])
            target = np.argmax(target, axis=1, out=scratch["target_argmax"])
            np.equal(scratch["argmax"], target, out=row)
        else:
            hit = scratch["hit"]
            np.greater(out, 0, out=hit)
            np.greater(target, 0, out=scratch["target_on"])
            np.equal(hit, scratch["target_on"], out=hit)
            np.logical_and.reduce(hit, axis=1, out=row)
        total[0] += np.count_nonzero(row)

    def r2_denominator(
        self, target: ArrayLike, weights: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Σ w (y - mean y)² per output over encoded targets (n, K), the mean weighted too
        (w = 1 without weights): R²'s denominator, as scikit-learn's r2_score.

        Parameters
        ----------
        target : array_like of shape (n, K)
            Encoded targets.
        weights : array_like of shape (n,) or None, default None
            The sample weights.

        Returns
        -------
        numpy.ndarray of shape (K,), float64
        """
        if weights is not None:
            return weighted_sum_of_squares(target, weights)
        t = np.asarray(target, dtype=np.float64)
        return ((t - t.mean(axis=0)) ** 2).sum(axis=0)

    def metric(self, total: NDArray[Any], n: float, denominator: Any = None) -> float:
        """The metric from an accumulated total over n samples.

        Parameters
        ----------
        total : numpy.ndarray
            The accumulated total.
        n : int or float
            The samples it covers (the sum of their weights, for a weighted total).
        denominator : numpy.ndarray or None, default None
            r2_denominator of the targets (regressors).

        Returns
        -------
        float
            Accuracy, or R² averaged over the outputs.
        """
        if self.is_classifier:
            return float(total[0]) / n
        # As scikit-learn's r2_score: an output with constant targets scores 1 if fit
        # exactly, else 0.
        sse = np.asarray(total, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(
                denominator > 0,
                1 - sse / np.where(denominator > 0, denominator, 1),
                np.where(sse == 0, 1.0, 0.0),
            )
        return float(np.mean(r2))

    # ---- saving ----------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The JSON-able description a saved model keeps (classes are saved apart).

        Returns
        -------
        dict of str to object
        """
        return {
            "kind": self.kind,
            "n_outputs": self.n_outputs,
            "squeeze": self.squeeze,
            "negative": self.negative,
            "hinge": self.hinge,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], classes: ArrayLike | None) -> Targets:
        """The Targets a saved model described (config()), with its classes.

        Parameters
        ----------
        config : dict
            What config() gave.
        classes : array_like or None
            The saved classes.

        Returns
        -------
        Targets
        """
        return cls(
            config["kind"],
            config["n_outputs"],
            classes=classes,
            squeeze=config["squeeze"],
            negative=config["negative"],
            hinge=config["hinge"],
        )
