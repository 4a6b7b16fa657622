"""The same training and inference written for each library (run inside a worker process).

Every trainer builds an MLP of `sizes` (ReLU hidden layers, linear output, softmax
cross-entropy on the logits) for one batch size, and offers:
- start(X, y, steps): the first `steps` batches, untimed (builds buffers, thread pools,
  scikit-learn's classes);
- epoch(X, y): one pass over X in shuffled batches, continuing from there (timed);
- accuracy(X, y): training accuracy, a check that every library learned the same task.
Each library is used as its users would: pynn's fit/partial_fit, a plain PyTorch loop over
a shuffled index tensor, scikit-learn's MLPClassifier.partial_fit. PyTorch and
scikit-learn are imported only when used.
"""

import warnings

import numpy as np

MLP_SIZES = (784, 256, 128, 10)  # shared/BENCHMARKS.md's training network
SMALL_SIZES = (64, 32, 10)  # the overhead-bound network of the per-step cost
LR, MOMENTUM = 0.05, 0.9  # SGD, as BENCHMARKS.md
ADAM_LR = 1e-3


def _pynn_model(sizes, backend, seed):
    import pynn

    hidden = [
        pynn.Dense(n_in, n_out, activation="relu") for n_in, n_out in zip(sizes[:-2], sizes[1:-1])
    ]
    return pynn.Sequential(
        *hidden, pynn.Dense(sizes[-2], sizes[-1]), backend=backend, random_state=seed
    )


def _pynn_optimizer(name):
    import pynn

    return pynn.SGD(lr=LR, momentum=MOMENTUM) if name == "sgd" else pynn.Adam(lr=ADAM_LR)


class PynnTrainer:
    def __init__(self, sizes, batch, seed=0, backend="c", optimizer="sgd"):
        self.model = _pynn_model(sizes, backend, seed)
        self.batch, self.optimizer, self.classes = batch, optimizer, np.arange(sizes[-1])

    def start(self, X, y, steps):
        rows = slice(0, min(len(X), steps * self.batch))
        self.model.fit(
            X[rows],
            y[rows],
            loss="softmax_cross_entropy",
            optimizer=_pynn_optimizer(self.optimizer),
            epochs=1,
            batch_size=self.batch,
            classes=self.classes,
        )

    def epoch(self, X, y):
        self.model.partial_fit(X, y, batch_size=self.batch)

    def epoch_seconds(self, X, y, epochs):
        """Seconds of each of `epochs` epochs of a fresh fit (pynn's own epoch clock)."""
        self.model.fit(
            X,
            y,
            loss="softmax_cross_entropy",
            optimizer=_pynn_optimizer(self.optimizer),
            epochs=epochs,
            batch_size=self.batch,
            classes=self.classes,
        )
        return list(self.model.history_["time"])

    def accuracy(self, X, y):
        return float(self.model.score(X, y))


class TorchTrainer:
    def __init__(self, sizes, batch, seed=0, optimizer="sgd"):
        import torch

        torch.manual_seed(seed)
        layers = []
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-2], sizes[-1]))
        parameters = self.model.parameters()
        self.optimizer = (
            torch.optim.SGD(parameters, lr=LR, momentum=MOMENTUM)
            if optimizer == "sgd"
            else torch.optim.Adam(parameters, lr=ADAM_LR)
        )
        self.loss = torch.nn.CrossEntropyLoss()
        self.batch, self.torch = batch, torch
        self.generator = torch.Generator().manual_seed(seed)

    def _steps(self, X, y, order):
        for start in range(0, len(order), self.batch):
            rows = order[start : start + self.batch]
            self.optimizer.zero_grad()
            loss = self.loss(self.model(X[rows]), y[rows])
            loss.backward()
            self.optimizer.step()

    def start(self, X, y, steps):
        X, y = self.torch.from_numpy(X), self.torch.from_numpy(y)
        self._steps(X, y, self.torch.arange(min(len(X), steps * self.batch)))

    def epoch(self, X, y):
        X, y = self.torch.from_numpy(X), self.torch.from_numpy(y)
        self._steps(X, y, self.torch.randperm(len(X), generator=self.generator))

    def epoch_seconds(self, X, y, epochs):
        import time

        X, y = self.torch.from_numpy(X), self.torch.from_numpy(y)
        seconds = []
        for _ in range(epochs):
            started = time.perf_counter()
            self._steps(X, y, self.torch.randperm(len(X), generator=self.generator))
            seconds.append(time.perf_counter() - started)
        return seconds

    def accuracy(self, X, y):
        with self.torch.no_grad():
            predicted = self.model(self.torch.from_numpy(X)).argmax(dim=1).numpy()
        return float(np.mean(predicted == y))


class SklearnTrainer:
    def __init__(self, sizes, batch, seed=0):
        from sklearn.neural_network import MLPClassifier

        self.model = MLPClassifier(
            hidden_layer_sizes=tuple(sizes[1:-1]),
            activation="relu",
            solver="sgd",
            learning_rate="constant",
            learning_rate_init=LR,
            momentum=MOMENTUM,
            nesterovs_momentum=False,
            alpha=0.0,
            batch_size=batch,
            shuffle=True,
            random_state=seed,
        )
        self.classes = np.arange(sizes[-1])

    def start(self, X, y, steps):
        rows = slice(0, min(len(X), steps * self.model.batch_size))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.partial_fit(X[rows], y[rows], classes=self.classes)

    def epoch(self, X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.partial_fit(X, y)

    def accuracy(self, X, y):
        return float(self.model.score(X, y))


def trainer(library, sizes, batch, seed=0):
    """A trainer of `library`: "pynn" (C kernels), "reference" (pynn on its NumPy kernels),
    "torch" or "sklearn"."""
    if library == "pynn":
        return PynnTrainer(sizes, batch, seed)
    if library == "reference":
        return PynnTrainer(sizes, batch, seed, backend="reference")
    if library == "torch":
        return TorchTrainer(sizes, batch, seed)
    if library == "sklearn":
        return SklearnTrainer(sizes, batch, seed)
    raise ValueError(f"library must be pynn, reference, torch or sklearn, got {library!r}")


def forward_pass(library, sizes, X, batch, seed=0):
    """A function running the model's forward pass over X in batches of `batch` rows, one
    call per batch as a server answering requests would: pynn's decision_function (the
    logits), PyTorch's module under torch.no_grad()."""
    starts = range(0, len(X) - batch + 1, batch)
    if library == "pynn":
        model = _pynn_model(sizes, "c", seed)

        def run():
            for start in starts:
                model.decision_function(X[start : start + batch])

        return run
    if library == "torch":
        import torch

        model = TorchTrainer(sizes, batch, seed).model
        X_tensor = torch.from_numpy(X)

        def run():
            with torch.no_grad():
                for start in starts:
                    model(X_tensor[start : start + batch])

        return run
    raise ValueError(f"forward_pass is measured for pynn and torch, got {library!r}")
