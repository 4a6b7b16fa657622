"""Running one measurement in a worker process (pynn.bench.worker) and reading its answer.

Each library is timed in a process of its own, with its thread count set in the
environment before any library loads (OpenBLAS and OpenMP read it only then) and, for the
NumPy-based ones, OpenBLAS's core type chosen: nothing of one library (thread pools,
spinning idle threads, allocator caches, peak memory) reaches another's figures.
"""

import json
import os
import site
import subprocess
import sys
import tempfile

import pynn

# The OpenBLAS core type with AVX2 kernels, used for the "as the environment has it" NumPy
# run when the environment sets none (shared/BENCHMARKS.md: this machine kind sets Haswell).
AVX2_CORETYPE = "Haswell"


class WorkerError(RuntimeError):
    """A worker process failed; the message holds the end of its error output."""


def environment_coretype():
    """OPENBLAS_CORETYPE as the environment sets it, or AVX2_CORETYPE when it sets none."""
    return os.environ.get("OPENBLAS_CORETYPE") or AVX2_CORETYPE


def pynn_root():
    """The directory that holds the imported pynn package (a source tree or site-packages)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(pynn.__file__)))


def worker_env(threads, coretype):
    """This process's environment with every library's thread count set to `threads`,
    OPENBLAS_CORETYPE set to `coretype` (None: removed), and the imported pynn first on the
    worker's path when it is not an installed one (a source tree built in place)."""
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
    )
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    root = pynn_root()
    installed = {os.path.abspath(path) for path in site.getsitepackages()}
    if root not in installed:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def run_in(scratch, command, env, what, timeout=None):
    """subprocess.run of `command` with the environment `env`, in the directory `scratch`,
    its output captured; WorkerError naming `what` when it does not finish in `timeout` s.
    The working directory is a neutral one: `-m` puts it first on the path, and a checkout
    there must not shadow the pynn this process imported."""
    try:
        return subprocess.run(
            command, env=env, cwd=scratch, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise WorkerError(f"{what} did not finish in {timeout} s") from None


def read_answer(done, answer_path, what):
    """The JSON answer a worker wrote to `answer_path`, or WorkerError naming `what` with the
    end of its stderr when it failed or wrote none."""
    if done.returncode != 0 or not os.path.exists(answer_path):
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise WorkerError(f"{what} exited with code {done.returncode}: {tail}")
    with open(answer_path) as answer:
        return json.load(answer)


def run_worker(spec, *, threads, coretype, timeout=None):
    """Run `python -m pynn.bench.worker` on `spec` (a JSON-ready dict) with `threads`
    threads for every library and OPENBLAS_CORETYPE `coretype` (None: removed); return
    the worker's answer (a dict). WorkerError when it fails or times out."""
    what = f"worker {spec.get('task')} {spec.get('library', '')}"
    with tempfile.TemporaryDirectory(prefix="pynn-bench-") as scratch:
        answer_path = os.path.join(scratch, "answer.json")
        command = [sys.executable, "-m", "pynn.bench.worker", json.dumps(spec), answer_path]
        done = run_in(scratch, command, worker_env(threads, coretype), what, timeout)
        return read_answer(done, answer_path, what)
