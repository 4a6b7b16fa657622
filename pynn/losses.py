"""Losses: which kernel computes loss and gradient, and which output nonlinearity goes with it.

Every loss is the mean over samples of a per-sample loss summed over outputs
(docs/kernels.md). The classification losses read the model's last layer as logits and
apply their nonlinearity themselves, fused with the loss for stability:

name                    output the model should end in      predict_proba
"mse"                   identity (regression)               (not a classifier)
"l1"                    identity (regression)               (not a classifier)
"binary_cross_entropy"  logits; sigmoid applied by the loss sigmoid(logits)
"softmax_cross_entropy" logits; softmax applied by the loss softmax(logits)
"hinge"                 a score (identity or tanh)          (no probabilities)
"""


class Loss:
    """One entry of LOSSES."""

    def __init__(self, name, kernel, grad_name, proba):
        self.name = name
        self.kernel = kernel        # function name in pynn._kernels / pynn.reference
        self.grad_name = grad_name  # its keyword for the gradient output
        self.proba = proba          # "softmax", "sigmoid" or None

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
    "mse": Loss("mse", "mse", "dpred", None),
    "l1": Loss("l1", "l1", "dpred", None),
    "binary_cross_entropy": Loss("binary_cross_entropy", "sigmoid_binary_cross_entropy",
                                 "dlogits", "sigmoid"),
    "softmax_cross_entropy": Loss("softmax_cross_entropy", "softmax_cross_entropy", "dlogits",
                                  "softmax"),
    "hinge": Loss("hinge", "hinge", "dpred", None),
}


def get_loss(loss):
    """The Loss named `loss` (or `loss` itself when it is one)."""
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got {loss!r}")
    return LOSSES[loss]
