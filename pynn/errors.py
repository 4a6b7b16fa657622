"""pynn's own exception."""


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss. The message names the epoch and step; the
    model keeps the parameters of the last completed step."""
