"""Losses: everything pynn keys on a loss, in one record per loss (LOSSES).

Every loss is the mean over samples of a per-sample loss summed over outputs
(docs/kernels.md). The classification losses read the model's last layer as logits and
apply their nonlinearity themselves, fused with the loss for stability:

name                    output the model should end in      predict_proba
"mse"                   identity (regression)               (not a classifier)
"l1"                    identity (regression)               (not a classifier)
"binary_cross_entropy"  logits; sigmoid applied by the loss sigmoid(logits)
"softmax_cross_entropy" logits; softmax applied by the loss softmax(logits)
"hinge"                 a score (identity or tanh)          (no probabilities)

Who reads the record: the training step and evaluation (kernel, grad_name), the fused
whole-step kernel (kernel: DenseStackStep takes the kernel's name as its loss code),
pynn.targets (target_kinds, signed_targets), pynn.persistence (target_kinds,
signed_targets: a saved model's targets must go with its loss), pynn.harden
(hard_replaces, hard_after) and predict_proba (proba).
"""


class Loss:
    """One entry of LOSSES."""

    def __init__(self, name, kernel, grad_name, proba, target_kinds, *, signed_targets=False,
                 hard_replaces=None, hard_after=None):
        self.name = name
        self.kernel = kernel        # function name in pynn._kernels / pynn.reference
        self.grad_name = grad_name  # its keyword for the gradient output
        self.proba = proba          # "softmax", "sigmoid" or None
        # The pynn.targets kinds it trains: (1-D y's kind, 2-D y's kind), or ("values",)
        self.target_kinds = target_kinds
        self.signed_targets = signed_targets  # the kernel reads -1/+1 targets, not 0/1
        # Sequential.harden: {soft activation of the last layer: hard activation replacing
        # it}, and the hard activation to add after any other last layer (None: refuse)
        self.hard_replaces = {} if hard_replaces is None else hard_replaces
        self.hard_after = hard_after

    @property
    def classifies(self):
        """True for the classification losses (their targets are labels)."""
        return self.target_kinds != ("values",)

    def __call__(self, kernels, out, target, *, grad=None, sample_loss=None):
        """The mean loss as a float; the gradient w.r.t. `out` is written into `grad` when given."""
        loss, _ = getattr(kernels, self.kernel)(out, target, None, grad=grad is not None,
                                                 sample_loss=sample_loss,
                                                 **{self.grad_name: grad})
        return loss

    def probabilities(self, kernels, logits):
        if self.proba == "softmax":
            return kernels.softmax(logits)
        if self.proba == "sigmoid":
            return kernels.activation_forward(logits, "sigmoid")
        raise ValueError(f"loss {self.name!r} gives no probabilities: use predict() or "
                         f"decision_function()")

    def __repr__(self):
        return f"Loss({self.name!r})"


LOSSES = {
    "mse": Loss("mse", "mse", "dpred", None, ("values",),
                hard_replaces={"tanh": "sign", "sigmoid": "step"}),
    "l1": Loss("l1", "l1", "dpred", None, ("values",),
               hard_replaces={"tanh": "sign", "sigmoid": "step"}),
    "binary_cross_entropy": Loss("binary_cross_entropy", "sigmoid_binary_cross_entropy",
                                 "dlogits", "sigmoid", ("binary", "indicator"),
                                 hard_replaces={"identity": "step"}, hard_after="step"),
    # softmax's hard counterpart is the argmax that predict takes of the logits already
    "softmax_cross_entropy": Loss("softmax_cross_entropy", "softmax_cross_entropy", "dlogits",
                                  "softmax", ("labels", "probabilities")),
    "hinge": Loss("hinge", "hinge", "dpred", None, ("binary", "indicator"), signed_targets=True,
                  hard_replaces={"identity": "sign", "tanh": "sign"}, hard_after="sign"),
}


def get_loss(loss):
    """The Loss named `loss` (or `loss` itself when it is one)."""
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got {loss!r}")
    return LOSSES[loss]
