"""scikit-learn's random streams in pynn.sklearn: one RandomState per fit call, drawn from
in scikit-learn's order (initial parameters, validation split, then each epoch's row order),
so that the same random_state gives the same initial network, split and batches as
scikit-learn's MLPClassifier / MLPRegressor."""

import numpy as np
from sklearn.utils import check_random_state

# scikit-learn's uniform bound sqrt(factor / (fan_in + fan_out)): factor 2 for the logistic
# hidden activation, else 6
_SKLEARN_FACTOR = {"sigmoid": 2.0}
_DEFAULT_FACTOR = 6.0


def fit_random_state(random_state):
    """The RandomState one fit or partial_fit call draws from, as scikit-learn makes it at
    each call: a new RandomState(random_state) for an int, the given RandomState itself, the
    global one for None; a numpy Generator (pynn's addition) seeds a new RandomState."""
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(int(random_state.integers(0, 2**32 - 1)))
    return check_random_state(random_state)


def draw_initial_parameters(model, activation, rng):
    """model's weights and biases drawn as scikit-learn's _init_coef draws them: layer by
    layer, the weight (fan_in, fan_out) then the bias, uniform in ±sqrt(factor / (fan_in +
    fan_out)), in float64 then rounded to the model's dtype."""
    factor = _SKLEARN_FACTOR.get(activation, _DEFAULT_FACTOR)
    for layer in model.layers:
        fan_in, fan_out = layer.in_features, layer.out_features
        bound = np.sqrt(factor / (fan_in + fan_out))
        layer.params["weight"][...] = rng.uniform(-bound, bound, (fan_in, fan_out)).T
        layer.params["bias"][...] = rng.uniform(-bound, bound, fan_out)


class RowOrder:
    """The row-order stream pynn's training loop shuffles each epoch with (its
    shuffle(order) gets the training rows sorted), drawing scikit-learn's orders: its
    sample_idx starts as 0..n-1 at each fit call and each epoch permutes the previous
    epoch's order with rng.shuffle."""

    def __init__(self, rng, n_rows):
        self.rng = rng
        self.index = np.arange(n_rows)

    def shuffle(self, order):
        if len(order) != len(self.index):  # model_ trained on other rows by hand: restart
            self.index = np.arange(len(order))
        permutation = np.arange(len(self.index))
        self.rng.shuffle(permutation)
        self.index = self.index[permutation]
        order[...] = order[self.index]
