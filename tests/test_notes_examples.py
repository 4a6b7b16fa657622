"""The worked examples of the course notes (shared/notes/), learned by pynn.

Each test builds its data here (seeded), trains a small model for a fraction of a second
and checks that it really learned: a known weight recovered, every XOR case right, a
non-linear red/blue boundary followed, a curve mapped better than any affine map can, and
so on. The notes' figures are missing, so the exact shapes of their examples are
reconstructed from the text; the data come from pynn.datasets, whose docstrings state
those choices.
"""

import numpy as np
import pytest

from pynn import SGD, Adam, Dense, Sequential, StepLR
from pynn.datasets import make_blobs, make_polynomial, make_red_blue, make_semicircle_to_parabola

# ---------------------------------------------------------------------------------------
# Data.


def line_data(seed, n, w):
    """The world's smallest perceptron (notes 001): y = w·x, x uniform on [-1, 1], no bias,
    no noise."""
    return make_polynomial(n, coef=[0.0, w], noise=0.0, random_state=seed)


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


BLOB_CENTERS = np.array([[0.0, 1.5], [-1.3, -0.75], [1.3, -0.75]])
BLOB_LABELS = np.array(["setosa", "versicolor", "virginica"])


def three_blobs(rng, n, spread=0.5):
    """Three Gaussian blobs on a triangle, as many points each (one more for the first when
    n is not a multiple of 3), labelled by name (softmax, 3 classes)."""
    X, which = make_blobs(n, centers=BLOB_CENTERS, cluster_std=spread, random_state=rng)
    return X, BLOB_LABELS[which]


def three_rules(rng, n):
    """Multi-label: three independent yes/no properties of a point of [-1, 1]²."""
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    Y = np.column_stack(
        [
            X[:, 0] > 0,  # right half
            X[:, 0] + X[:, 1] > 0.3,  # above a diagonal line
            (X**2).sum(axis=1) < 0.5,
        ]
    )  # inside a circle
    return X, Y.astype(np.int64)


CUBIC = np.array([0.3, 0.5, -1.0, 2.0])  # y = 0.3 + 0.5 x - x² + 2 x³ + noise
CUBIC_NOISE = 0.05


def noisy_cubic(seed, n):
    """Notes 001, polynomial regression: y = f(x) + ε with f a cubic, x uniform on [-1, 1]
    (returned 1-D)."""
    X, y = make_polynomial(n, coef=CUBIC, noise=CUBIC_NOISE, random_state=seed)
    return X[:, 0], y


def poly_features(x, degree):
    """[x, x², ..., x^degree] as columns: the notes' feature vector without the 1 (the
    layer's bias plays that part)."""
    return np.column_stack([x**k for k in range(1, degree + 1)])


def half_mse(pred, Y):
    """pynn's mse: the mean over samples of ½‖ŷ - y‖²."""
    pred = np.asarray(pred, dtype=np.float64).reshape(len(Y), -1)
    return 0.5 * float(np.mean(np.sum((pred - np.reshape(Y, pred.shape)) ** 2, axis=1)))


# ---------------------------------------------------------------------------------------
# The world's smallest perceptron (notes 001): y = w x, trained per sample.


def test_smallest_perceptron_learns_w():
    w_true = 0.7
    X, y = line_data(0, 50, w_true)
    model = Sequential(Dense(1, 1, bias=False), dtype=np.float64, random_state=1)
    model.fit(X, y, loss="mse", optimizer=SGD(lr=0.1), batch_size=1, epochs=20)
    w = model.state_dict()["0.weight"]
    assert w.shape == (1, 1)
    assert abs(w[0, 0] - w_true) < 1e-3
    assert model.history_["loss"][-1] < 1e-6


def test_smallest_perceptron_online_updates_follow_the_notes_rule():
    """w <- w + lr·(y - ŷ)·x after each sample, in order (shuffle=False): our mse has the
    ½, so its gradient is -(y - ŷ)·x and one SGD step is exactly the notes' rule."""
    lr = 0.1
    X, y = line_data(2, 10, 0.7)

    def start():
        model = Sequential(Dense(1, 1, bias=False), dtype=np.float64, random_state=3)
        model.fit(X, y, loss="mse", optimizer=SGD(lr=lr), epochs=0)  # same init as below
        return model, float(model.state_dict()["0.weight"][0, 0])

    # One sample, one step.
    model, w0 = start()
    model.fit(
        X[:1], y[:1], loss="mse", optimizer=SGD(lr=lr), batch_size=1, shuffle=False, epochs=1
    )
    expected = w0 + lr * (y[0] - w0 * X[0, 0]) * X[0, 0]
    assert model.state_dict()["0.weight"][0, 0] == pytest.approx(expected, rel=1e-14, abs=0)
    assert expected != pytest.approx(w0)  # the step did move w

    # One epoch of ten online steps, in the data's order.
    model, w = start()
    model.fit(X, y, loss="mse", optimizer=SGD(lr=lr), batch_size=1, shuffle=False, epochs=1)
    for x_i, y_i in zip(X[:, 0], y):
        w = w + lr * (y_i - w * x_i) * x_i
    assert model.state_dict()["0.weight"][0, 0] == pytest.approx(w, rel=1e-13, abs=0)


# ---------------------------------------------------------------------------------------
# XOR with a 2-2-1 network.
#
# A 2-2-1 network can solve XOR, but gradient descent from some initial weights ends in a
# local minimum (two of the four points stuck near 0.5). With binary_cross_entropy and tanh
# that happens for about 40% of the seeds, and torch.optim from the same initial weights
# gets stuck the same way, so it is the problem's, not pynn's. With tanh hidden units and
# mse the stuck seeds are rare (1 in 20 of seeds 0..19 for the setup below); seed 0 is
# one that converges. The setup starts every bias at zero, as the notes do: the output
# layer's default init ("torch_uniform") draws its bias, and 5 of those 20 seeds stick.
XOR_SEEDS = range(8)


def fit_xor(seed):
    model = Sequential(
        Dense(2, 2, activation="tanh"),
        Dense(2, 1, init="glorot_uniform"),
        dtype=np.float64,
        random_state=seed,
    )
    model.fit(
        XOR_X,
        XOR_Y.astype(np.float64),
        loss="mse",
        optimizer=SGD(lr=0.5, momentum=0.9),
        batch_size=None,
        epochs=500,
    )
    return model


def test_xor_2_2_1_seed_0():
    model = fit_xor(0)
    out = model.predict(XOR_X)
    assert out.shape == (4,)
    np.testing.assert_array_equal(out > 0.5, XOR_Y == 1)
    np.testing.assert_allclose(out, XOR_Y, atol=0.05)
    assert model.score(XOR_X, XOR_Y) > 0.99  # R² of the fit


def test_xor_2_2_1_most_seeds_succeed():
    solved = [np.array_equal(fit_xor(seed).predict(XOR_X) > 0.5, XOR_Y == 1) for seed in XOR_SEEDS]
    assert sum(solved) >= len(XOR_SEEDS) - 1, solved


def test_xor_2_2_1_binary_cross_entropy():
    """The classifier form: labels, logits out, BCE; seed 0 converges (see above)."""
    model = Sequential(
        Dense(2, 2, activation="tanh"),
        Dense(2, 1, init="glorot_uniform"),
        dtype=np.float64,
        random_state=0,
    )
    model.fit(
        XOR_X,
        XOR_Y,
        loss="binary_cross_entropy",
        optimizer=SGD(lr=0.5, momentum=0.9),
        batch_size=None,
        epochs=500,
    )
    np.testing.assert_array_equal(model.predict(XOR_X), XOR_Y)
    assert model.score(XOR_X, XOR_Y) == 1.0
    proba = model.predict_proba(XOR_X)
    assert np.all(proba[np.arange(4), XOR_Y] > 0.95)


# ---------------------------------------------------------------------------------------
# The red/blue classifier of notes 000 and 003 (tanh hidden layer).


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_red_blue_classifier(dtype):
    X, y = make_red_blue(400, random_state=4)
    model = Sequential(Dense(2, 16, activation="tanh"), Dense(16, 1), dtype=dtype, random_state=4)
    # The step decay lets the last epochs settle the points next to the boundary: with it
    # seeds 0-5 all reach >= 99.75% (a constant lr 0.03 left one of them at 98.25%).
    model.fit(
        X,
        y,
        loss="binary_cross_entropy",
        optimizer=Adam(lr=0.05),
        batch_size=32,
        epochs=300,
        lr_scheduler=StepLR(100, gamma=0.3),
    )
    assert list(model.classes_) == ["blue", "red"]
    pred = model.predict(X)
    assert pred.shape == (400,) and set(pred) <= {"red", "blue"}
    accuracy = np.mean(pred == y)
    assert accuracy >= 0.99
    assert model.score(X, y) == pytest.approx(accuracy)
    # The boundary is not a line: a linear classifier (least squares on ±1 targets) is
    # clearly worse, so the accuracy above needs the hidden layer.
    A = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, np.where(y == "red", 1.0, -1.0), rcond=None)
    linear_accuracy = np.mean((A @ coef > 0) == (y == "red"))
    assert accuracy > linear_accuracy + 0.05


# ---------------------------------------------------------------------------------------
# Semicircle -> parabola (notes 003, Example #2).


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_semicircle_to_parabola(activation):
    X, Y = make_semicircle_to_parabola(100)
    A = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, Y, rcond=None)
    best_affine = half_mse(A @ coef, Y)
    assert best_affine > 1e-3  # the map is not affine: the test means something

    model = Sequential(
        Dense(2, 8, activation=activation), Dense(8, 2), dtype=np.float64, random_state=0
    )
    model.fit(X, Y, loss="mse", optimizer=Adam(lr=0.02), batch_size=20, epochs=300)
    pred = model.predict(X)
    assert pred.shape == (100, 2)
    mse = half_mse(pred, Y)
    assert mse == pytest.approx(model.evaluate(X, Y)["loss"], rel=1e-9)
    assert mse < 0.1 * best_affine
    # The outputs lie on the parabola: y2 ≈ y1².
    assert np.max(np.abs(pred[:, 1] - pred[:, 0] ** 2)) < 0.1


# ---------------------------------------------------------------------------------------
# Three classes, softmax.


def test_three_class_softmax():
    rng = np.random.default_rng(5)
    X, y = three_blobs(rng, 300)
    model = Sequential(Dense(2, 8, activation="tanh"), Dense(8, 3), random_state=5)
    model.fit(
        X, y, loss="softmax_cross_entropy", optimizer=Adam(lr=0.05), batch_size=32, epochs=40
    )
    np.testing.assert_array_equal(model.classes_, BLOB_LABELS)
    # The Bayes classifier of equal-spread blobs picks the nearest centre; the model must be
    # about as good (the blobs overlap a little).
    nearest = BLOB_LABELS[np.argmin(((X[:, None, :] - BLOB_CENTERS) ** 2).sum(-1), axis=1)]
    bayes = np.mean(nearest == y)
    pred = model.predict(X)
    assert pred.shape == (300,) and set(pred) <= set(BLOB_LABELS)
    assert np.mean(pred == y) >= min(0.97, bayes - 0.01)

    X_test, y_test = three_blobs(rng, 300)
    assert model.score(X_test, y_test) >= 0.95
    proba = model.predict_proba(X_test)
    assert proba.shape == (300, 3)
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(BLOB_LABELS[np.argmax(proba, axis=1)], model.predict(X_test))


# ---------------------------------------------------------------------------------------
# Multi-label: independent sigmoid outputs with binary cross-entropy.


def test_multi_label_sigmoid():
    rng = np.random.default_rng(6)
    X, Y = three_rules(rng, 400)
    model = Sequential(Dense(2, 16, activation="tanh"), Dense(16, 3), random_state=6)
    model.fit(
        X, Y, loss="binary_cross_entropy", optimizer=Adam(lr=0.03), batch_size=32, epochs=100
    )
    pred = model.predict(X)
    assert pred.shape == (400, 3)
    assert set(np.unique(pred)) <= {0, 1}
    per_label = np.mean(pred == Y, axis=0)
    assert np.all(per_label >= 0.97), per_label
    assert model.score(X, Y) == pytest.approx(np.mean(np.all(pred == Y, axis=1)))

    X_test, Y_test = three_rules(rng, 400)
    assert np.all(np.mean(model.predict(X_test) == Y_test, axis=0) >= 0.95)
    proba = model.predict_proba(X_test)
    assert proba.shape == (400, 3)
    np.testing.assert_array_equal((proba > 0.5).astype(np.int64), model.predict(X_test))


# ---------------------------------------------------------------------------------------
# Polynomial regression (notes 001).


def test_polynomial_features_recover_cubic():
    """A linear layer on [x, x², x³] trained by full-batch gradient descent converges to the
    least-squares fit, which is close to the true coefficients."""
    x, y = noisy_cubic(7, 200)
    F = poly_features(x, 3)
    model = Sequential(Dense(3, 1), dtype=np.float64, random_state=7)
    model.fit(F, y, loss="mse", optimizer=SGD(lr=0.1, momentum=0.9), batch_size=None, epochs=2000)
    state = model.state_dict()
    learned = np.append(state["0.weight"][0], state["0.bias"][0])

    A = np.column_stack([F, np.ones(len(x))])
    least_squares, *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose(learned, least_squares, rtol=0, atol=1e-6)
    np.testing.assert_allclose(learned, np.append(CUBIC[1:], CUBIC[0]), rtol=0, atol=0.05)


def test_polynomial_capacity_degree_one_underfits():
    """Model capacity (notes 001): a straight line underfits the cubic; degree 3 reaches the
    noise level (mse ≈ ½σ²)."""
    x, y = noisy_cubic(8, 200)
    losses = {}
    for degree in (1, 3):
        model = Sequential(Dense(degree, 1), dtype=np.float64, random_state=8)
        model.fit(
            poly_features(x, degree),
            y,
            loss="mse",
            optimizer=SGD(lr=0.1, momentum=0.9),
            batch_size=None,
            epochs=2000,
        )
        losses[degree] = model.evaluate(poly_features(x, degree), y)["loss"]
    noise_level = 0.5 * CUBIC_NOISE**2
    assert losses[3] < 1.5 * noise_level
    assert losses[1] > 10 * noise_level


def test_mlp_on_x_fits_cubic():
    x, y = noisy_cubic(9, 200)
    model = Sequential(
        Dense(1, 16, activation="tanh"), Dense(16, 1), dtype=np.float64, random_state=9
    )
    model.fit(x[:, None], y, loss="mse", optimizer=Adam(lr=0.02), batch_size=20, epochs=200)
    pred = model.predict(x[:, None])
    assert pred.shape == (200,)
    noise_level = 0.5 * CUBIC_NOISE**2
    assert half_mse(pred, y) < 2 * noise_level
    assert model.score(x[:, None], y) > 0.99
