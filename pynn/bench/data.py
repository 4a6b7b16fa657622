"""The benchmarks' synthetic data: seeded, learnable, in float32."""

import numpy as np

MNIST_SHAPE = (60000, 784)
N_CLASSES = 10


def make_classification(n_samples, n_features, n_classes, seed=0):
    """X (n_samples, n_features) float32, standard normal; y int64, the argmax of a random
    linear map of X (a task a network learns: about 80% accuracy after one epoch of the
    MNIST-shaped set)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    weights = rng.standard_normal((n_features, n_classes), dtype=np.float32)
    y = np.argmax(X @ weights, axis=1).astype(np.int64)
    return X, y


def make_mnist_like(n_samples=MNIST_SHAPE[0], seed=0):
    """MNIST's shapes: (n_samples, 784) float32 features and labels 0..9."""
    return make_classification(n_samples, MNIST_SHAPE[1], N_CLASSES, seed)
