"""Saving, opening and fitting without harm (issue 15, first part): a save replaces only
a regular file (a device node or FIFO at the path is refused and left as it was), follows a
symlink to its target, keeps the replaced file's mode, and removes temporary files left by
killed saves; loading a model or a data file from a FIFO or a device is refused at once
instead of blocking; a fit that runs out of memory leaves a trained model as it was. Device
nodes and FIFOs are made in tmp_path, never at a system path."""

import os
import stat
import subprocess
import sys

import pytest
from helpers import ADDRESS_CAP, HANG_SECONDS, assert_bitwise_equal, needs_address_cap, run_python

import pynn

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file types")


def _model(seed=0):
    return pynn.Sequential(pynn.Dense(4, 3, "relu"), pynn.Dense(3, 2), random_state=seed)


def _char_device(path):
    """A character device node like /dev/null (1, 3), or skip where mknod is not allowed."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError) as error:
        pytest.skip(f"cannot make a device node here: {error}")


@posix_only
def test_save_refuses_a_device_node_and_leaves_it(tmp_path):
    node = tmp_path / "null"
    _char_device(node)
    with pytest.raises(ValueError, match="is a device: pynn saves over regular files only"):
        _model().save(node)
    assert stat.S_ISCHR(os.stat(node).st_mode)
    assert os.listdir(tmp_path) == ["null"]  # no temporary file left


@posix_only
def test_save_refuses_a_fifo_and_a_directory(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ValueError, match="is a FIFO"):
        _model().save(tmp_path / "pipe")
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        _model().save(tmp_path / "folder")


@posix_only
def test_save_writes_through_a_symlink(tmp_path):
    target = tmp_path / "models" / "m.npz"
    target.parent.mkdir()
    _model(0).save(target)
    link = tmp_path / "current.npz"
    link.symlink_to(target)
    _model(1).save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert_bitwise_equal(pynn.load(target).flat_params, _model(1).flat_params, "target")
    dangling = tmp_path / "later.npz"
    dangling.symlink_to(tmp_path / "models" / "new.npz")
    _model(2).save(dangling)  # a dangling link's target is created
    assert_bitwise_equal(pynn.load(dangling).flat_params, _model(2).flat_params, "new")


@posix_only
def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "secret.npz"
    _model(0).save(path)
    os.chmod(path, 0o600)
    _model(1).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o640)
    _model(2).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


@posix_only
def test_a_hard_link_keeps_the_old_model(tmp_path):
    """An atomic save makes a new file: the path gets the new model, another hard link to
    the old file keeps the old one (docs/model.md)."""
    path, other = tmp_path / "m.npz", tmp_path / "backup.npz"
    _model(0).save(path)
    os.link(path, other)
    _model(1).save(path)
    assert_bitwise_equal(pynn.load(path).flat_params, _model(1).flat_params, "path")
    assert_bitwise_equal(pynn.load(other).flat_params, _model(0).flat_params, "other link")


def _unused_pid():
    """A pid no process can have (Linux: pid_max is above every pid), else one of a
    process that has exited."""
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            return int(f.read())
    except OSError:
        done = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
            timeout=HANG_SECONDS,
        )
        return int(done.stdout)


def test_a_save_removes_temporaries_of_killed_saves_only(tmp_path):
    dead_pid = _unused_pid()
    left = tmp_path / f".m.npz.{dead_pid}.0a1b2c3d4e5f.tmp"
    live = tmp_path / f".m.npz.{os.getppid()}.0a1b2c3d4e5f.tmp"  # a running process's
    other = tmp_path / f".other.npz.{dead_pid}.0a1b2c3d4e5f.tmp"  # another file's
    for stale in (left, live, other):
        stale.write_bytes(b"half a model")
    _model().save(tmp_path / "m.npz")
    assert sorted(os.listdir(tmp_path)) == sorted([live.name, other.name, "m.npz"])


# A reader of a FIFO with no writer blocks in open() unless it opens non-blocking; a
# child process does the reads, so that a regression fails on the deadlock guard instead
# of hanging the suite.
FIFO_READS = r"""
import os, sys
import pynn
from pynn import datasets
from pynn.cli import data_sources
fifo = sys.argv[1]
for name, read in [("load", lambda: pynn.load(fifo)),
                   ("load_idx", lambda: datasets.load_idx(fifo)),
                   ("load_csv", lambda: datasets.load_csv(fifo)),
                   ("npz", lambda: data_sources._npz_arrays(fifo, ["X"]))]:
    try:
        read()
    except ValueError as error:
        assert "is a FIFO" in str(error) and repr(fifo) in str(error), (name, error)
        print(name, "refused", flush=True)
    else:
        sys.exit(f"{name} read a FIFO")
"""


@posix_only
def test_reading_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    run = run_python(FIFO_READS, tmp_path, fifo)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == [
        "load",
        "refused",
        "load_idx",
        "refused",
        "load_csv",
        "refused",
        "npz",
        "refused",
    ]


@posix_only
def test_reading_a_device_is_refused(tmp_path):
    node = tmp_path / "zero"
    _char_device(node)
    with pytest.raises(ValueError, match="is a device: pynn reads regular files only"):
        pynn.load(node)
    with pytest.raises(ValueError, match="is a device"):
        pynn.datasets.load_idx(node)


def test_a_regular_file_still_round_trips(tmp_path):
    path = tmp_path / "m.npz"
    _model(3).save(path)
    assert_bitwise_equal(pynn.load(path).flat_params, _model(3).flat_params, "round trip")


# In a fresh interpreter: train a model, then cap the address space 64 MB above what the
# process maps and fit it again on a batch whose buffers need about 1.6 GB. The fit must
# raise MemoryError and leave the trained model exactly as it was (parameters, history,
# loss and targets), then, the cap lifted, predict as before.
OUT_OF_MEMORY_FIT = (
    ADDRESS_CAP
    + r"""
import numpy as np
import pynn

rng = np.random.default_rng(0)
X = rng.standard_normal((200_000, 100))
y = rng.integers(0, 2, 200_000)
model = pynn.Sequential(pynn.Dense(100, 2000, "relu"), pynn.Dense(2000, 2), random_state=0)
for warm in (False, True):
    model.fit(X[:64], y[:64], loss="softmax_cross_entropy", epochs=1, batch_size=32)
    params, history = model.flat_params.copy(), dict(model.history_)
    loss, targets, expected = model.loss_, model.targets_, model.predict(X[:64])
    lift = cap_address_space(64 << 20)
    try:
        if warm:
            model.partial_fit(X, y, batch_size=200_000)
        else:
            model.fit(X, y, loss="softmax_cross_entropy", epochs=1, batch_size=200_000)
    except MemoryError:
        print("MemoryError", flush=True)
    else:
        raise SystemExit("the fit did not run out of memory")
    finally:
        lift()
    assert model.flat_params.tobytes() == params.tobytes(), "parameters changed"
    assert model.history_ == history, "history changed"
    assert model.loss_ is loss and model.targets_ is targets
    assert (model.predict(X[:64]) == expected).all()
print("done", flush=True)
"""
)


@needs_address_cap
def test_a_fit_that_runs_out_of_memory_leaves_the_model(tmp_path):
    run = run_python(OUT_OF_MEMORY_FIT, tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["MemoryError", "MemoryError", "done"], run.stdout
