"""A progress bar over the batches of each epoch, for terminals only.

`EpochProgress` is driven by fit's batch_callback. It draws with tqdm when it can be
imported, else with the small `TextBar` below; it draws nothing when told to be quiet or
when its stream is not a terminal (a file or a pipe gets no carriage returns).
"""

import sys
import time


def is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class TextBar:
    """One line redrawn in place: `epoch 3/30 [#########-----------]  21/42 batches`."""

    WIDTH = 30
    MIN_INTERVAL = 0.1  # seconds between redraws, so a fast epoch does not flood the terminal

    def __init__(self, stream, description, total):
        self.stream, self.description, self.total = stream, description, total
        self.last_draw = None
        self.length = 0  # characters drawn, to erase them on close

    def update(self, done):
        now = time.perf_counter()
        if (
            done < self.total
            and self.last_draw is not None
            and now - self.last_draw < self.MIN_INTERVAL
        ):
            return
        self.last_draw = now
        filled = self.WIDTH * done // self.total
        line = (
            f"{self.description} [{'#' * filled}{'-' * (self.WIDTH - filled)}] "
            f"{done:>{len(str(self.total))}}/{self.total} batches"
        )
        self.stream.write("\r" + line.ljust(self.length))
        self.stream.flush()
        self.length = len(line)

    def close(self):
        if self.last_draw is not None:
            self.stream.write("\r" + " " * self.length + "\r")
            self.stream.flush()


class TqdmBar:
    """tqdm's bar, removed when the epoch ends (the epoch's summary line replaces it)."""

    def __init__(self, tqdm, stream, description, total):
        self.bar = tqdm(
            total=total,
            desc=description,
            file=stream,
            leave=False,
            unit="batch",
            dynamic_ncols=True,
        )

    def update(self, done):
        self.bar.update(done - self.bar.n)

    def close(self):
        self.bar.close()


def _tqdm():
    """tqdm's class, or None when tqdm is not installed."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class EpochProgress:
    """The bar of the current epoch: `batch(model, epoch, step, n_steps)` is fit's
    batch_callback, `end_epoch()` removes the bar before the epoch's line is printed."""

    def __init__(self, epochs, stream=None, quiet=False):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = not quiet and is_terminal(self.stream)
        self.tqdm = _tqdm() if self.enabled else None
        self.epochs = epochs
        self.bar = None

    def batch(self, model, epoch, step, n_steps):
        if not self.enabled:
            return
        if self.bar is None:
            description = f"epoch {epoch + 1}/{self.epochs}"
            self.bar = (
                TqdmBar(self.tqdm, self.stream, description, n_steps)
                if self.tqdm
                else TextBar(self.stream, description, n_steps)
            )
        self.bar.update(step + 1)

    def end_epoch(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
