"""pynn's own exceptions."""


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss, or an update made the parameters non-finite.
    The message names the epoch (and step); the model keeps finite parameters: those before
    the failing step, or those from the start of the epoch when an earlier update overflowed."""


class DivergenceError(NonFiniteLossError):
    """Training diverged while the loss stayed finite: an epoch's mean loss grew by more than
    the `divergence` factor over the best loss of the fit (docs/model.md). The message names
    the epoch, its loss, the best loss and the factor; the model is back at its parameters
    from the start of that epoch, as the last completed epoch left them.

    A subclass of NonFiniteLossError: a finite divergence is the same failure caught
    earlier (left alone, the loss overflows a few epochs later), so the handlers written
    for that failure (`except NonFiniteLossError`, the command line's one-line error) catch
    this one too."""


class ConvergenceWarning(UserWarning):
    """A solver stopped before it converged: L-BFGS reached its iteration or evaluation
    limit, or its line search failed (the message gives scipy's reason). A UserWarning, as
    scikit-learn's ConvergenceWarning is."""
