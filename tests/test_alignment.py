"""Kernels refuse arrays that are not aligned to their item size; models take such data.

C may not read a float64 at an address that is no multiple of 8 (undefined behaviour,
found by the UndefinedBehaviorSanitizer run, .ci/sanitize): NumPy makes such arrays only
as views of byte buffers at an odd offset. A model copies its batches into its own
buffers, so fit and predict take such data and give the same bits as on an aligned copy.
"""

import numpy as np
import pynn._kernels as K
import pytest

import pynn


def unaligned(a):
    """A copy of a whose data starts one byte past an aligned address."""
    a = np.ascontiguousarray(a)
    raw = np.zeros(a.nbytes + 1, np.uint8)[1:].view(a.dtype).reshape(a.shape)
    raw[...] = a
    assert not raw.flags.aligned
    return raw


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_refuse_unaligned_arrays(rng, dtype):
    x = rng.standard_normal((4, 3)).astype(dtype)
    labels = np.array([0, 1, 2, 0])
    calls = {
        "x": lambda: K.activation_forward(unaligned(x), "relu"),
        "out": lambda: K.activation_forward(x, "relu", out=unaligned(np.empty_like(x))),
        "b": lambda: K.gemm(x, unaligned(x.T)),
        "target": lambda: K.softmax_cross_entropy(x, unaligned(labels)),
        "labels": lambda: K.count_argmax_hits(x, unaligned(labels)),
        "param": lambda: K.sgd_update(unaligned(x), x.copy(), step=1, lr=0.1),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=f"^{name} is not aligned"):
            call()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["dense", "prelu"])
def test_models_fit_and_predict_unaligned_data(rng, dtype, kind):
    X = rng.standard_normal((64, 5)).astype(dtype)
    y = rng.integers(0, 3, 64)
    middle = [pynn.PReLU(8)] if kind == "prelu" else []

    def fitted(X, y):
        model = pynn.Sequential(
            pynn.Dense(5, 8, "tanh"), *middle, pynn.Dense(8, 3), dtype=dtype, random_state=0
        )
        return model.fit(X, y, loss="softmax_cross_entropy", epochs=2, batch_size=16)

    aligned, odd = fitted(X, y), fitted(unaligned(X), unaligned(y))
    assert aligned.flat_params.tobytes() == odd.flat_params.tobytes()
    assert aligned.predict_proba(X).tobytes() == odd.predict_proba(unaligned(X)).tobytes()
