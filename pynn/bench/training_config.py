"""The training benchmark's settings (pynn.bench.training): the epoch every figure is given
for, the batch sizes and thread counts, the libraries it runs (with the OpenBLAS kernel each
process gets), the targets, the flops of a training step, and the FULL and QUICK sizes
(settings picks one and applies the options)."""

from pynn.bench import processes
from pynn.bench.libraries import MLP_SIZES

EPOCH_SAMPLES = 60000  # the epoch every figure is given for (MNIST's training set)
BATCH_SIZES = (32, 128, 512)
THREADS = (1, 2)
WARMUP_STEPS = 10  # untimed batches on each new model before its timed epoch
EVAL_SAMPLES = 10000  # the training accuracy after the epoch is measured on this many rows
# full: about 3 minutes on the project's 2-core machine (165 s measured, quiet); quick: a
# smoke run (about 20 s).
# busy_retries: extra rounds at most for the runs other work disturbed (see run).
FULL = {
    "samples": 60000,
    "repeats": 3,
    "reference_samples": 12000,
    "small_samples": 3200,
    "small_epochs": 7,
    "inference_calls": 100,
    "inference_repeats": 5,
    "busy_retries": 3,
}
QUICK = {
    "samples": 6000,
    "repeats": 1,
    "reference_samples": 6000,
    "small_samples": 1600,
    "small_epochs": 3,
    "inference_calls": 40,
    "inference_repeats": 3,
    "busy_retries": 1,
}

# name -> (worker library, peer module needed or None, OPENBLAS_CORETYPE: None removes it,
# "env" is the environment's, or Haswell when it sets none)
LIBRARIES = {
    "pynn": ("pynn", None, None),
    "reference": ("reference", None, None),
    "torch": ("torch", "torch", None),
    "sklearn": ("sklearn", "sklearn", None),
    "sklearn_env": ("sklearn", "sklearn", "env"),
}
# Targets at 1 thread, pynn's epoch time over the peer's: (peer, batch) -> at most this.
TARGETS = {("torch", 32): 0.25, ("torch", 128): 0.33, ("torch", 512): 0.4, ("sklearn", 128): 0.6}
SCALING_BATCHES = (128, 512)  # at t > 1 threads pynn must be faster than at 1 there
SMALL_TARGET_US = 20.0  # pynn's small-network step, at most (1 thread)
INFERENCE_TARGET = 2.0  # pynn's samples/s over torch's, at least (1 thread)
MEMORY_TARGET = 1.0  # pynn's peak memory over torch's, at most


def flops_per_sample(sizes):
    """Flops of one training step per sample: forward 2·in·out per layer, backward 2·in·out
    for the weight gradient and 2·in·out for the input gradient (not for the first layer).
    About 1.0 MFLOP for 784-256-128-10, as BENCHMARKS.md says."""
    layers = list(zip(sizes[:-1], sizes[1:]))
    return sum((6 if i > 0 else 4) * n_in * n_out for i, (n_in, n_out) in enumerate(layers))


# An epoch at the data sheet's fp32 peak per core (BENCHMARKS.md: 256 GFLOP/s; on this VM
# kind benchmarks/fma_peak.c measures about 115).
DATA_SHEET_PEAK_GFLOPS = 256.0
FLOPS = flops_per_sample(MLP_SIZES)


def settings(quick, repeats=None, samples=None, reference_samples=None, busy_retries=None):
    chosen = dict(QUICK if quick else FULL)
    if busy_retries is not None:
        chosen["busy_retries"] = busy_retries
    if repeats is not None:
        chosen["repeats"] = repeats
    if samples is not None:
        chosen["samples"] = samples
    if reference_samples is not None:
        chosen["reference_samples"] = reference_samples
    chosen["reference_samples"] = min(chosen["reference_samples"], chosen["samples"])
    chosen["quick"] = quick
    return chosen


def coretype(name):
    """The OPENBLAS_CORETYPE library `name`'s processes get (None: removed)."""
    choice = LIBRARIES[name][2]
    return processes.environment_coretype() if choice == "env" else choice
