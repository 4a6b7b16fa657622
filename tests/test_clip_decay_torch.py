"""Gradient clipping and the weight decay scope against torch (float64): the kernels against
torch.nn.utils.clip_grad_norm_ and clip_grad_value_ on a gradient split into a model's
tensors, and whole fits against torch's loop (zero_grad, backward, clip, step) with the
weights and the biases in two parameter groups (weight_decay=0 for the biases).

Measured here (both backends): the norm agrees with torch's to 2e-16 relative, the clipped
gradients to 1e-14 absolute (gradients up to 1e3); the fits' parameters to 2e-15 after 40
steps. TOL = 1e-9 is the issue's target."""

import numpy as np
import pytest
from helpers import IMPLS

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

import pynn  # noqa: E402

TOL = 1e-9
SHAPES = [(8, 5), (8,), (6, 8), (6,), (3, 6), (3,)]  # a 5-8-6-3 MLP's parameters
N, BATCH, EPOCHS = 40, 10, 10  # 4 steps an epoch, 40 in all


@pytest.fixture(autouse=True, scope="module")
def torch_single_thread():
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def split(flat):
    """The flat gradient as torch tensors of SHAPES, sharing nothing with it."""
    out, at = [], 0
    for shape in SHAPES:
        size = int(np.prod(shape))
        out.append(torch.tensor(flat[at : at + size].reshape(shape)))
        at += size
    return out


def torch_clip(flat, clip):
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in split(flat)]
    for p, g in zip(params, split(flat)):
        p.grad = g
    result = clip(params)
    return result, np.concatenate([p.grad.numpy().ravel() for p in params])


@pytest.mark.parametrize("max_norm", [0.01, 1.0, 100.0], ids=str)
@pytest.mark.parametrize("impl", IMPLS)
def test_clip_grad_norm_matches_torch(rng, impl, max_norm):
    flat = rng.standard_normal(sum(int(np.prod(s)) for s in SHAPES))
    norm, theirs = torch_clip(flat, lambda ps: torch.nn.utils.clip_grad_norm_(ps, max_norm))
    ours = flat.copy()
    our_norm = impl.clip_grad_norm(ours, max_norm)
    assert abs(our_norm - norm.item()) <= TOL * norm.item()
    assert np.max(np.abs(ours - theirs)) <= TOL
    if max_norm == 100.0:  # not clipped: both leave the gradient as it was
        np.testing.assert_array_equal(ours, flat)
        np.testing.assert_array_equal(theirs, flat)


@pytest.mark.parametrize("clip_value", [0.01, 0.5, 100.0], ids=str)
@pytest.mark.parametrize("impl", IMPLS)
def test_clip_grad_value_matches_torch_exactly(rng, impl, clip_value):
    flat = rng.standard_normal(sum(int(np.prod(s)) for s in SHAPES))
    flat[:3] = [np.nan, np.inf, -np.inf]
    _, theirs = torch_clip(flat, lambda ps: torch.nn.utils.clip_grad_value_(ps, clip_value))
    ours = flat.copy()
    impl.clip_grad_value(ours, clip_value)
    np.testing.assert_array_equal(ours, theirs)  # NaN where torch has NaN, too


# ---- whole fits ----------------------------------------------------------------------------
def make_data():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((N, 5)) * 3  # large inputs: large gradients, so clipping acts
    y = rng.integers(0, 3, size=N)
    y[:3] = [0, 1, 2]
    return X, y


def run_pynn(optimizer, backend, **fit_args):
    X, y = make_data()
    model = pynn.Sequential(
        pynn.Dense(5, 8, activation="tanh"),
        pynn.Dense(8, 6, activation="tanh"),
        pynn.Dense(6, 3),
        dtype=np.float64,
        backend=backend,
        random_state=3,
    )
    model.fit(X, y, loss="softmax_cross_entropy", optimizer=optimizer, epochs=0)
    initial = model.state_dict()
    model.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=optimizer,
        epochs=EPOCHS,
        batch_size=BATCH,
        shuffle=False,
        **fit_args,
    )
    return initial, model


def run_torch(initial, make_optimizer, clip=None):
    """The same run in torch; (final parameters by pynn's names, mean norm per epoch)."""
    X, y = make_data()
    net = torch.nn.Sequential(
        torch.nn.Linear(5, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 6),
        torch.nn.Tanh(),
        torch.nn.Linear(6, 3),
    ).double()
    names = {"0": "0", "1": "2", "2": "4"}  # pynn's layer index -> torch's
    net.load_state_dict({f"{names[k[0]]}{k[1:]}": torch.tensor(v) for k, v in initial.items()})
    weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in net.named_parameters() if n.endswith("bias")]
    optimizer = make_optimizer(weights, biases)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    norms = []
    for _ in range(EPOCHS):
        epoch_norms = []
        for start in range(0, N, BATCH):
            optimizer.zero_grad()
            F.cross_entropy(net(Xt[start : start + BATCH]), yt[start : start + BATCH]).backward()
            if clip is not None:
                epoch_norms.append(clip(list(net.parameters())))
            optimizer.step()
        clipped_by_norm = epoch_norms and None not in epoch_norms
        norms.append(float(np.mean(epoch_norms)) if clipped_by_norm else None)
    final = {
        f"{k}.{w}": getattr(net[int(names[k])], w).detach().numpy()
        for k in names
        for w in ("weight", "bias")
    }
    return final, norms


def max_difference(model, final):
    ours = model.state_dict()
    return max(float(np.max(np.abs(ours[name] - final[name]))) for name in final)


def groups(weight_decay, scope):
    """torch's parameter groups for pynn's scope: the biases undecayed for 'weights'."""
    bias_decay = weight_decay if scope == "all" else 0.0
    return lambda w, b: [
        {"params": w, "weight_decay": weight_decay},
        {"params": b, "weight_decay": bias_decay},
    ]


OPTIMIZERS = [
    (
        "sgd",
        lambda **kw: pynn.SGD(lr=0.1, momentum=0.9, **kw),
        lambda g: torch.optim.SGD(g, lr=0.1, momentum=0.9),
    ),
    (
        "sgd-nesterov",
        lambda **kw: pynn.SGD(lr=0.05, momentum=0.9, nesterov=True, **kw),
        lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, nesterov=True),
    ),
    ("adam", lambda **kw: pynn.Adam(lr=0.02, **kw), lambda g: torch.optim.Adam(g, lr=0.02)),
    ("adamw", lambda **kw: pynn.AdamW(lr=0.02, **kw), lambda g: torch.optim.AdamW(g, lr=0.02)),
]
IDS = [case[0] for case in OPTIMIZERS]


@pytest.mark.parametrize("backend", ["c", "reference"])
@pytest.mark.parametrize("scope", ["all", "weights"])
@pytest.mark.parametrize("case", OPTIMIZERS, ids=IDS)
def test_weight_decay_scope_matches_torch_parameter_groups(case, scope, backend):
    _, ours, theirs = case
    initial, model = run_pynn(ours(weight_decay=0.1, weight_decay_scope=scope), backend)
    final, _ = run_torch(initial, lambda w, b: theirs(groups(0.1, scope)(w, b)))
    assert max_difference(model, final) <= TOL
    other_scope = "all" if scope == "weights" else "weights"
    other, _ = run_torch(initial, lambda w, b: theirs(groups(0.1, other_scope)(w, b)))
    assert max_difference(model, other) > 1e-4, "the other scope must give another result"


@pytest.mark.parametrize("backend", ["c", "reference"])
@pytest.mark.parametrize(
    "fit_args",
    [dict(clip_norm=0.5), dict(clip_value=0.05), dict(clip_norm=0.5, clip_value=0.05)],
    ids=["norm", "value", "both"],
)
@pytest.mark.parametrize("case", OPTIMIZERS, ids=IDS)
def test_fit_clipping_matches_torch(case, fit_args, backend):
    _, ours, theirs = case
    initial, model = run_pynn(
        ours(weight_decay=0.01, weight_decay_scope="weights"), backend, **fit_args
    )
    max_norm, clip_value = fit_args.get("clip_norm"), fit_args.get("clip_value")

    def clip(params):
        norm = None
        if max_norm is not None:
            norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_(params, clip_value)
        return norm

    final, norms = run_torch(initial, lambda w, b: theirs(groups(0.01, "weights")(w, b)), clip)
    assert max_difference(model, final) <= TOL
    unclipped, _ = run_torch(initial, lambda w, b: theirs(groups(0.01, "weights")(w, b)))
    assert max_difference(model, unclipped) > 1e-3, "clipping must change this run"
    if max_norm is not None:
        np.testing.assert_allclose(model.history_["grad_norm"], norms, rtol=TOL, atol=0)
        assert max(norms) > max_norm  # the norm was above the bound: clipped
