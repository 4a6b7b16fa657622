"""Sequential.summary(): parameter counts, and training memory checked against hand
arithmetic and against the buffers the training loop really allocates
(pynn.core.plans.TrainingPlan)."""

import numpy as np
import pytest

import pynn
from pynn.core.memory import format_bytes
from pynn.core.plans import TrainingPlan
from pynn.core.summary import BATCH_KEYS, MEMORY_KEYS

DTYPES = (np.float32, np.float64)


def notes_network(**kwargs):
    """The notes' 3-4-2 network: 3 inputs, 4 sigmoid hidden units, 2 outputs."""
    return pynn.Sequential(pynn.Dense(3, 4, "sigmoid"), pynn.Dense(4, 2), random_state=0, **kwargs)


def labelled(model, rng, n=12):
    """`model` given a softmax loss and targets, without training (epochs=0)."""
    X = rng.normal(size=(n, model.n_features_in_))
    y = np.arange(n) % model.n_outputs_
    return model.fit(X, y, loss="softmax_cross_entropy", epochs=0), X, y


def plan_bytes(plan):
    """Bytes of every array a plan holds (found generically, so a new buffer counts)."""
    total = 0
    for value in vars(plan).values():
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, dict):
            total += sum(v.nbytes for v in value.values() if isinstance(v, np.ndarray))
        elif isinstance(value, list):
            total += sum(v.nbytes for d in value for v in d.values())
    return total


# ---- parameter counts ------------------------------------------------------------------
def test_notes_network_has_26_parameters():
    summary = notes_network().summary()
    assert summary.total_params == summary.trainable_params == 26
    assert [row[3] for row in summary.layers] == [3 * 4 + 4, 4 * 2 + 2]
    assert [row[2] for row in summary.layers] == [(None, 4), (None, 2)]


@pytest.mark.parametrize(
    "layers,counts",
    [
        ([pynn.Dense(5, 3, bias=False)], [15]),
        ([pynn.Dense(3, 4), pynn.PReLU()], [16, 1]),
        ([pynn.Dense(3, 4), pynn.PReLU(4)], [16, 4]),
        ([pynn.Maxout(3, 2, pieces=4)], [2 * 4 * (3 + 1)]),
        ([pynn.Maxout(3, 2, pieces=4, bias=False)], [2 * 4 * 3]),
        ([pynn.Dense(3, 4), pynn.ReLU(), pynn.Dense(4, 1, "tanh")], [16, 0, 5]),
    ],
)
def test_per_layer_counts(layers, counts):
    summary = pynn.Sequential(*layers).summary()
    assert [row[3] for row in summary.layers] == counts
    assert summary.total_params == sum(counts)


def test_table_text():
    text = str(notes_network().summary(batch_size=32))
    for piece in (
        "Dense(3 -> 4, sigmoid)",
        "Dense(4 -> 2)",
        "(None, 4)",
        "(None, 2)",
        "Total parameters: 26",
        "batch_size=32",
        "no optimizer",
    ):
        assert piece in text
    assert repr(notes_network().summary()) == text
    layers = (
        pynn.Sequential(
            pynn.Dense(3, 4, bias=False), pynn.LeakyReLU(0.2), pynn.Maxout(4, 2, 3), pynn.PReLU(2)
        )
        .summary()
        .layers
    )
    assert [row[1] for row in layers] == [
        "Dense(3 -> 4, no bias)",
        "LeakyReLU(0.2)",
        "Maxout(4 -> 2, pieces=3)",
        "PReLU(2)",
    ]


def test_format_bytes():
    assert format_bytes(0) == "0 B"
    assert format_bytes(1023) == "1023 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(3 * 2**30) == "3.0 GiB"


# ---- memory ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_parameter_and_gradient_bytes(dtype):
    memory = notes_network(dtype=dtype).summary().memory
    itemsize = np.dtype(dtype).itemsize
    assert memory["parameters"] == memory["gradients"] == 26 * itemsize
    assert memory["optimizer_state"] == 0
    assert memory["total"] == sum(memory[k] for k in MEMORY_KEYS if k != "total")


@pytest.mark.parametrize(
    "optimizer,copies",
    [
        (pynn.SGD(), 0),
        (pynn.SGD(momentum=0.9), 1),
        (pynn.Adam(), 2),
        (pynn.AdamW(), 2),
    ],
)
def test_optimizer_state_is_copies_of_the_parameters(optimizer, copies):
    summary = notes_network().summary(optimizer=optimizer)
    assert summary.memory["optimizer_state"] == copies * 26 * 4
    assert summary.optimizer == type(optimizer).__name__


def test_optimizer_defaults_to_the_models_own(rng):
    model, X, y = labelled(notes_network(), rng)
    assert notes_network().summary().optimizer is None
    model.fit(X, y, optimizer=pynn.SGD(momentum=0.5), epochs=1)
    assert model.summary().memory["optimizer_state"] == 26 * 4
    assert model.summary(optimizer=pynn.Adam()).memory["optimizer_state"] == 2 * 26 * 4
    with pytest.raises(TypeError, match="optimizer"):
        model.summary(optimizer="adam")


def test_activation_bytes_by_hand(rng):
    """Per sample, float32, softmax labels, no workspace (reference backend):
    input 3 floats; layer 0 its output (sigmoid's backward reads it) 4 floats, no input
    gradient; layer 1 output 2 and input gradient 4 floats; target one int64; sample
    loss and sample weight 1 float each; no metric scratch (labels are counted by
    count_argmax_hits); output gradient 2 floats."""
    model, _, _ = labelled(notes_network(backend="reference"), rng)
    per_sample = 4 * 3 + 4 * 4 + 4 * (2 + 4) + 8 + 4 * 2 + 4 * 2
    for n in (1, 7, 32):
        summary = model.summary(batch_size=n)
        assert summary.memory["activations"] == n * per_sample
        assert summary.batch_memory["workspace"] == 0
        assert summary.batch_memory["input"] == n * 3 * 4


@pytest.mark.parametrize("backend", ["c", "reference"])
def test_activation_bytes_scale_linearly_with_batch_size(backend, rng):
    model, _, _ = labelled(
        pynn.Sequential(
            pynn.Dense(5, 8, "elu"),
            pynn.Maxout(8, 4, 3),
            pynn.PReLU(4),
            pynn.Dense(4, 3),
            backend=backend,
        ),
        rng,
    )

    # The workspace holds tiles of fixed size, not rows: everything else is per sample.
    def rows_part(n):
        parts = model.summary(batch_size=n).batch_memory
        return sum(parts.values()) - parts["workspace"]

    assert rows_part(10) == 10 * rows_part(1)
    assert rows_part(640) == 640 * rows_part(1)
    assert (
        model.summary(batch_size=640).memory["activations"]
        > model.summary(batch_size=10).memory["activations"]
    )


def test_float64_doubles_every_float_buffer(rng):
    X = rng.normal(size=(8, 3))
    y = rng.normal(size=(8, 2))  # regression: the buffers are of the model's dtype, but
    # R²'s squared errors, summed in float64 whatever the model's dtype
    small, large = (
        notes_network(dtype=d, backend="reference")
        .fit(X, y, loss="mse", epochs=0)
        .summary(batch_size=16, optimizer=pynn.Adam())
        for d in DTYPES
    )
    for key in MEMORY_KEYS:
        if key not in ("activations", "total"):
            assert large.memory[key] == 2 * small.memory[key], key
    squares = 16 * 2 * 8
    for key in BATCH_KEYS:
        assert large.batch_memory[key] - (key == "metric") * squares == 2 * (
            small.batch_memory[key] - (key == "metric") * squares
        ), key


CASES = {
    "labels": (
        lambda: pynn.Sequential(pynn.Dense(4, 6, "tanh"), pynn.Dense(6, 3)),
        "softmax_cross_entropy",
        lambda r, n: np.arange(n) % 3,
    ),
    "probabilities": (
        lambda: pynn.Sequential(pynn.Dense(4, 6, "softplus"), pynn.Dense(6, 3)),
        "softmax_cross_entropy",
        lambda r, n: r.dirichlet(np.ones(3), n),
    ),
    "binary": (
        lambda: pynn.Sequential(pynn.Maxout(4, 5, 2), pynn.Dense(5, 1)),
        "binary_cross_entropy",
        lambda r, n: np.arange(n) % 2,
    ),
    "indicator": (
        lambda: pynn.Sequential(pynn.Dense(4, 5), pynn.PReLU(5), pynn.Dense(5, 2)),
        "hinge",
        lambda r, n: r.integers(0, 2, (n, 2)),
    ),
    "values": (
        lambda: pynn.Sequential(
            pynn.Dense(4, 5, "leaky_relu", activation_param=-0.2), pynn.ELU(), pynn.Dense(5, 2)
        ),
        "mse",
        lambda r, n: r.normal(size=(n, 2)),
    ),
}


@pytest.mark.parametrize("kind", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", ["c", "reference"])
def test_activation_bytes_equal_what_training_allocates(kind, dtype, backend, rng):
    make, loss, target = CASES[kind]
    model = make()
    model = pynn.Sequential(*model.layers, dtype=dtype, backend=backend)
    X = rng.normal(size=(10, 4))
    model.fit(X, target(rng, 10), loss=loss, epochs=0)
    assert model.targets_.kind == kind
    for n in (1, 10, 300):
        assert model.summary(batch_size=n).memory["activations"] == plan_bytes(
            TrainingPlan(model, n)
        ), n


def test_untrained_model_assumes_regression_targets(rng):
    model = pynn.Sequential(pynn.Dense(4, 6, "relu"), pynn.Dense(6, 2))
    before = model.summary(batch_size=20)
    assert before.targets_assumed and "untrained" in str(before)
    model.fit(rng.normal(size=(5, 4)), rng.normal(size=(5, 2)), loss="mse", epochs=0)
    after = model.summary(batch_size=20)
    assert not after.targets_assumed
    assert before.batch_memory == after.batch_memory
    assert after.memory["activations"] == plan_bytes(TrainingPlan(model, 20))
    assert set(after.batch_memory) == set(BATCH_KEYS)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, None, "32"])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        notes_network().summary(batch_size=batch_size)


def test_training_memory_counts_fits_copy_of_the_parameters():
    model = pynn.Sequential(pynn.Dense(3, 4, "sigmoid"), pynn.Dense(4, 2), dtype=np.float64)
    memory = model.summary(batch_size=8, optimizer=pynn.SGD()).memory
    assert memory["parameter_copy"] == 26 * 8
    assert memory["total"] == 26 * 8 * 3 + memory["activations"]
