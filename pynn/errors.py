"""pynn's own exception."""


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss, or an update made the parameters non-finite.
    The message names the epoch (and step); the model keeps finite parameters: those before
    the failing step, or those from the start of the epoch when an earlier update overflowed."""
