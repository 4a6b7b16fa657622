"""pynn's GEMM and dense-layer kernels against NumPy, as ratios measured in the same run.

    python benchmarks/gemm.py [--threads 1,2] [--dtype float32,float64] [--repeats 7]
                              [--quick] [--json PATH] [--peak-fp32 GFLOPS] [--coretype Haswell]

Prints, for every GEMM shape of shared/BENCHMARKS.md (C = A·Bᵀ, M·K·N) and the dense layers of
the MLP 784-256-128-10 at batch 32/128/512 (forward: relu(x·Wᵀ + b); backward: dW, db, dx),
at each thread count and dtype: pynn's GFLOP/s, its percentage of the machine's peak (measured
by fma_peak.c), NumPy's GFLOP/s with two OpenBLAS kernels, the ratio pynn speed / NumPy speed
(above 1: pynn is faster) against NumPy with its AVX-512 kernels, the ceiling (the ratio a
library running at the peak would reach), and the issue's target next to it at 1 thread.

Method (BENCHMARKS.md): at 1 thread, a subprocess of this script whose environment sets
OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = 1 (OpenBLAS reads them only when it loads) times NumPy
with OPENBLAS_CORETYPE as the environment has it (or --coretype, Haswell = AVX2 kernels, when the
environment does not set it); a second, with the variable removed (OpenBLAS picks its kernel for
the CPU: AVX-512 here), alternates pynn and NumPy calls (interleaved, so the noise of this shared
machine hits both alike). Each repeat times a batch of calls of about REPEAT_SECONDS after a
warm-up call, and the tables give the MEDIAN over repeats (fewer repeats for calls slower than
SLOW_CALL_SECONDS). pynn's outputs and workspaces are preallocated (out=, workspace=), so
allocation is not timed.

At t > 1 threads, each library runs in its own long-lived process in which the other library is
single-threaded: pynn's (OPENBLAS_NUM_THREADS=1, pynn.set_num_threads(t)), NumPy's
(OPENBLAS_NUM_THREADS=t, OMP_NUM_THREADS=1), and NumPy's with OPENBLAS_CORETYPE. The parent
interleaves them at the process level, one batch per turn over a pipe, same batches and medians.
Before each turn it waits until the other processes' threads all sleep (OpenBLAS's idle workers
spin ~0.1 s after a call, GOMP's ~9 ms: two libraries' spinning threads in one process took
the cores from each other) and, up to QUIET_WAIT_SECONDS, until nothing else on the machine is
runnable; the tables count the turns that started with other work running.
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time

import numpy as np

# cases first: it puts this source tree's pynn on sys.path
from cases import KINDS, QUICK_SHAPES, shape_label

import pynn  # noqa: E402
from pynn import _kernels as K  # noqa: E402
from pynn.bench.blas import numpy_config  # noqa: E402
from pynn.bench.processes import AVX2_CORETYPE  # noqa: E402
from pynn.bench.timing import (  # noqa: E402
    REPEAT_SECONDS,
    SLOW_CALL_SECONDS,
    SLOW_REPEATS,
    measure,
    seconds_per_call,
    wait_for_quiet_machine,
)

# The machine's limit is measured: fma_peak.c, compiled and run by this script, times
# independent FMA chains on one core (a VM's vCPU may issue fewer vector FMAs per cycle than
# the chip's data sheet says). Where it cannot run (no C compiler, not x86-64), the data
# sheet's figure (BENCHMARKS.md): 2 FMA pipes x 16 fp32 lanes x 2 flops x ~4.0 GHz per core,
# float64 half. Peak at t threads = t x the per-core figure.
PEAK_FP32_PER_CORE = 256.0  # GFLOP/s
PEAK_PROBE_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fma_peak.c")
PEAK_PROBE_RUNS = 3  # the best of a few runs: noise only ever lowers a peak
# AVX2_CORETYPE (pynn.bench.processes): the OpenBLAS core type with AVX2 kernels, used when
# the environment sets none. REPEAT_SECONDS, SLOW_CALL_SECONDS, SLOW_REPEATS, measure() and
# seconds_per_call(): pynn.bench.timing, shared with `pynn bench`.
# With several threads, the process that just ran keeps its idle worker threads spinning for a
# while (OpenBLAS: 2^28 TSC cycles, ~0.1 s here; GOMP: ~9 ms), stealing the cores from the
# other: before each turn, wait until they sleep (at most IDLE_WAIT_LIMIT_SECONDS), or sleep
# SWITCH_PAUSE_SECONDS where the threads' states cannot be read (no /proc).
IDLE_WAIT_LIMIT_SECONDS = 1.0
SWITCH_PAUSE_SECONDS = 0.15
# Other processes on the machine wreck 2-thread figures (a thread that loses its core stalls the
# whole parallel region, both libraries' ~100x): each turn also waits up to QUIET_WAIT_SECONDS
# (pynn.bench.timing) for no other runnable thread, and the tables count the turns that
# started with some.
# target (float32): 2 threads >= 1.8x 1 thread
SCALING_SHAPES = [(1024, 1024, 1024), (2048, 2048, 2048)]
SCALING_TARGET = 1.8
DTYPES = ("float32", "float64")


def simd_paths():
    """pynn's selectable SIMD paths, or None when this pynn cannot switch paths."""
    if not (hasattr(K, "simd_paths") and hasattr(K, "set_simd_path")):
        return None
    paths = K.simd_paths() if callable(K.simd_paths) else K.simd_paths
    return list(paths)


def comma_list(convert, allowed=None):
    def parse(text):
        items = [convert(item) for item in text.split(",") if item]
        bad = [item for item in items if allowed is not None and item not in allowed]
        if not items or bad:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {allowed}")
        return items

    return parse


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 2)[2],
    )
    parser.add_argument(
        "--threads",
        type=comma_list(positive_int),
        default=[1, 2],
        help="thread counts, comma-separated (default 1,2)",
    )
    parser.add_argument(
        "--dtype",
        type=comma_list(str, DTYPES),
        default=list(DTYPES),
        help="float32, float64 or both (default both)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=7,
        help=f"timed repeats per case (default 7; at most {SLOW_REPEATS} for "
        f"calls slower than {SLOW_CALL_SECONDS} s)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="two small shapes per kernel and 3 repeats: a smoke run",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    parser.add_argument(
        "--peak-fp32",
        type=float,
        default=None,
        metavar="GFLOPS",
        help="fp32 peak per core in GFLOP/s (default: measured by fma_peak.c, "
        f"else {PEAK_FP32_PER_CORE:g}; fp64 is half when given; the peak "
        "at t threads is t times this)",
    )
    parser.add_argument(
        "--coretype",
        default=None,
        help="OPENBLAS_CORETYPE of the first NumPy run (default: the "
        f"environment's value, or {AVX2_CORETYPE} when it sets none)",
    )
    paths = simd_paths()
    if paths is not None:
        parser.add_argument(
            "--simd",
            choices=paths,
            default=None,
            help="force pynn's SIMD path (default: the one chosen at import)",
        )
    # Internal: what a subprocess (one thread count, one NumPy setting) does.
    parser.add_argument(
        "--worker",
        choices=("interleaved", "numpy", "serve-pynn", "serve-numpy"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = min(args.repeats, 3)
    if not hasattr(args, "simd"):
        args.simd = None
    return args


# ---------------------------------------------------------------- worker (one subprocess)


def pynn_config():
    try:
        return {str(key): str(value) for key, value in pynn.show_config(mode="dicts").items()}
    except TypeError:  # a show_config without modes: keep what it prints
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            pynn.show_config()
        return {"show_config": printed.getvalue().strip(), "simd": K.simd_path()}


def planned_cases(args):
    for kind, (make, shapes, _) in KINDS.items():
        for dtype in args.dtype:
            for shape in QUICK_SHAPES[kind] if args.quick else shapes:
                yield kind, make, dtype, shape


def run_worker(args):
    threads = args.threads[0]
    pynn.set_num_threads(threads)
    if args.simd is not None:
        K.set_simd_path(args.simd)
    rng = np.random.default_rng(0)
    results = []
    for kind, make, dtype, shape in planned_cases(args):
        run_pynn, run_numpy, flops = make(rng, np.dtype(dtype).type, *shape)
        fns = {"numpy": run_numpy}
        if args.worker == "interleaved":
            fns = {"pynn": run_pynn, "numpy": run_numpy}
        seconds, repeats = measure(fns, args.repeats)
        results.append(
            {
                "kind": kind,
                "shape": list(shape),
                "dtype": dtype,
                "threads": threads,
                "flops": flops,
                "repeats": repeats,
                "seconds": seconds,
            }
        )
    report = {
        "numpy": numpy_config(),
        "pynn": pynn_config(),
        "pynn_threads": pynn.get_num_threads(),
        "results": results,
    }
    with open(args.worker_out, "w") as out:
        json.dump(report, out)


def serve(args):
    """A long-lived worker timing one library for the parent, which alternates such workers
    (pynn's, NumPy's, NumPy's with OPENBLAS_CORETYPE) at several threads. Reads commands on
    stdin, answers one JSON line each:
    "next" builds the next planned case (the same seeded data in both workers), makes a warm-up
    call and answers the seconds of one call; "time CALLS" answers seconds per call over CALLS
    calls; "config" answers this process's NumPy and pynn configuration."""
    library = args.worker.split("-", 1)[1]
    pynn.set_num_threads(args.threads[0] if library == "pynn" else 1)
    if args.simd is not None:
        K.set_simd_path(args.simd)
    rng = np.random.default_rng(0)
    cases = planned_cases(args)
    fn = None
    for line in sys.stdin:
        command = line.split()
        if command[0] == "next":
            kind, make, dtype, shape = next(cases)
            run_pynn, run_numpy, flops = make(rng, np.dtype(dtype).type, *shape)
            fn = run_pynn if library == "pynn" else run_numpy
            fn()  # warm-up: first touch of the outputs, thread pools, packing buffers
            answer = {"one": seconds_per_call(fn, 1), "flops": flops}
        elif command[0] == "time":
            answer = {"seconds": seconds_per_call(fn, int(command[1]))}
        else:
            answer = {
                "numpy": numpy_config(),
                "pynn": pynn_config(),
                "pynn_threads": pynn.get_num_threads(),
            }
        print(json.dumps(answer), flush=True)


# ---------------------------------------------------------------- parent (orchestration)


def worker_command(args, threads, mode, out_path=None):
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--threads",
        str(threads),
        "--dtype",
        ",".join(args.dtype),
        "--repeats",
        str(args.repeats),
        "--worker",
        mode,
    ]
    if out_path is not None:
        command += ["--worker-out", out_path]
    if args.quick:
        command.append("--quick")
    if args.simd is not None:
        command += ["--simd", args.simd]
    return command


def worker_env(threads, coretype, blas_threads=None):
    blas_threads = threads if blas_threads is None else blas_threads
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(blas_threads),
        MKL_NUM_THREADS=str(blas_threads),
    )
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    return env


def run_subprocess(args, threads, mode, coretype):
    with tempfile.TemporaryDirectory() as tmp:
        out_path = os.path.join(tmp, "results.json")
        subprocess.run(
            worker_command(args, threads, mode, out_path),
            env=worker_env(threads, coretype),
            check=True,
        )
        with open(out_path) as report:
            return json.load(report)


class Server:
    """One serving worker (see serve) and its command pipe."""

    def __init__(self, args, threads, library, coretype=None):
        # The other library stays single-threaded in this process, so no idle worker threads
        # of it can spin on the cores (pynn: OpenBLAS 1 thread; NumPy: OpenMP 1 thread).
        env = (
            worker_env(threads, coretype, blas_threads=1)
            if library == "pynn"
            else worker_env(1, coretype, blas_threads=threads)
        )
        command = worker_command(args, threads, f"serve-{library}")
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def running_threads(self):
        """How many of the worker's threads are running or runnable (state R); None without
        /proc."""
        tasks = f"/proc/{self.process.pid}/task"
        if not os.path.isdir(tasks):
            return None
        count = 0
        for task in os.listdir(tasks):
            try:
                with open(f"{tasks}/{task}/stat") as stat:
                    count += stat.read().rsplit(")", 1)[1].split()[0] == "R"
            except OSError:  # the thread ended while we listed
                pass
        return count

    def wait_until_idle(self):
        """Return when the worker's threads all sleep (its idle workers stopped spinning)."""
        deadline = time.perf_counter() + IDLE_WAIT_LIMIT_SECONDS
        while time.perf_counter() < deadline:
            running = self.running_threads()
            if running is None:
                time.sleep(SWITCH_PAUSE_SECONDS)
                return
            if running == 0:
                return
            time.sleep(0.001)

    def ask(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(
                f"benchmark worker {self.process.args} exited (code {self.process.wait()})"
            )
        return json.loads(answer)

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def run_separate_processes(args, threads, env_coretype):
    """pynn, NumPy (kernel chosen by OpenBLAS) and NumPy with env_coretype at several threads,
    each in its own process (see Server), taking turns: the same interleaving, batches and
    medians as measure(), at the process level. Returns the reports of an "interleaved" and a
    "numpy" worker."""
    servers = {
        "pynn": Server(args, threads, "pynn"),
        "numpy": Server(args, threads, "numpy"),
        "numpy_env": Server(args, threads, "numpy", env_coretype),
    }

    def wait_until_others_idle(name):
        for other_name, other in servers.items():
            if other_name != name:
                other.wait_until_idle()

    try:
        results = []
        for kind, _, dtype, shape in planned_cases(args):
            calls, slowest, flops = {}, 0.0, None
            for name, server in servers.items():
                wait_until_others_idle(name)
                answer = server.ask("next")
                calls[name] = max(1, int(REPEAT_SECONDS / answer["one"]))
                slowest, flops = max(slowest, answer["one"]), answer["flops"]
            repeats = (
                min(args.repeats, SLOW_REPEATS) if slowest > SLOW_CALL_SECONDS else args.repeats
            )
            samples, busy_turns = {name: [] for name in servers}, 0
            for _ in range(repeats):
                for name, server in servers.items():
                    wait_until_others_idle(name)
                    busy_turns += wait_for_quiet_machine()
                    samples[name].append(server.ask(f"time {calls[name]}")["seconds"])
            medians = {name: statistics.median(times) for name, times in samples.items()}
            results.append(
                {
                    "kind": kind,
                    "shape": list(shape),
                    "dtype": dtype,
                    "threads": threads,
                    "flops": flops,
                    "repeats": repeats,
                    "busy_turns": busy_turns,
                    "seconds": medians,
                }
            )
        configs = {name: server.ask("config") for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.close()
    interleaved = {
        "numpy": configs["numpy"]["numpy"],
        "pynn": configs["pynn"]["pynn"],
        "pynn_threads": configs["pynn"]["pynn_threads"],
        "results": results,
    }
    env_numpy = {
        "numpy": configs["numpy_env"]["numpy"],
        "results": [{"seconds": {"numpy": result["seconds"]["numpy_env"]}} for result in results],
    }
    return interleaved, env_numpy


def measure_peak():
    """(ISA, fp32, fp64 GFLOP/s per core) of the fastest vector FMAs, measured by
    fma_peak.c; None where it cannot be compiled or run."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    with tempfile.TemporaryDirectory() as scratch:
        probe = os.path.join(scratch, "fma_peak")
        try:
            subprocess.run(
                [compiler, "-O2", PEAK_PROBE_SOURCE, "-o", probe], check=True, capture_output=True
            )
            best = {}
            for _ in range(PEAK_PROBE_RUNS):
                lines = subprocess.run(
                    [probe], check=True, capture_output=True, text=True
                ).stdout.split("\n")
                for line in filter(None, lines):
                    isa, fp32, fp64 = line.split()
                    old = best.get(isa, (0.0, 0.0))
                    best[isa] = (max(old[0], float(fp32)), max(old[1], float(fp64)))
        except (OSError, subprocess.CalledProcessError, ValueError):
            return None
    if not best:
        return None
    isa = max(best, key=lambda name: best[name][0])
    return isa, best[isa][0], best[isa][1]


def set_peak(args):
    """args.peak_fp32 / args.peak_fp64 per core, and a line saying where they come from."""
    if args.peak_fp32 is not None:
        args.peak_fp64 = args.peak_fp32 / 2
        return (
            f"peak per core {args.peak_fp32:g} / {args.peak_fp64:g} GFLOP/s fp32 / fp64 "
            "(--peak-fp32)"
        )
    measured = measure_peak()
    if measured is None:
        args.peak_fp32, args.peak_fp64 = PEAK_FP32_PER_CORE, PEAK_FP32_PER_CORE / 2
        return (
            f"peak per core {args.peak_fp32:g} / {args.peak_fp64:g} GFLOP/s fp32 / fp64 "
            "(data sheet: the FMA probe could not run)"
        )
    isa, args.peak_fp32, args.peak_fp64 = measured
    return (
        f"peak per core {args.peak_fp32:g} / {args.peak_fp64:g} GFLOP/s fp32 / fp64, "
        f"measured ({isa} FMA chains, benchmarks/fma_peak.c)"
    )


def peak_gflops(args, dtype, threads):
    per_core = args.peak_fp32 if dtype == "float32" else args.peak_fp64
    return per_core * threads


def merge(args, env_runs, auto_runs):
    """One record per case: pynn and NumPy (auto kernel) from the interleaved run, NumPy with
    the environment's core type from the other run."""
    rows = []
    for threads in args.threads:
        env_results = env_runs[threads]["results"]
        for auto, env in zip(auto_runs[threads]["results"], env_results):
            gflops = lambda seconds, auto=auto: auto["flops"] / seconds / 1e9  # noqa: E731
            rows.append(
                {
                    "kind": auto["kind"],
                    "shape": auto["shape"],
                    "dtype": auto["dtype"],
                    "threads": threads,
                    "flops": auto["flops"],
                    "repeats": auto["repeats"],
                    "busy_turns": auto.get("busy_turns"),
                    "pynn_seconds": auto["seconds"]["pynn"],
                    "numpy_auto_seconds": auto["seconds"]["numpy"],
                    "numpy_env_seconds": env["seconds"]["numpy"],
                    "pynn_gflops": gflops(auto["seconds"]["pynn"]),
                    "numpy_auto_gflops": gflops(auto["seconds"]["numpy"]),
                    "numpy_env_gflops": gflops(env["seconds"]["numpy"]),
                    "percent_of_peak": 100
                    * gflops(auto["seconds"]["pynn"])
                    / peak_gflops(args, auto["dtype"], threads),
                    "ratio": auto["seconds"]["numpy"] / auto["seconds"]["pynn"],
                    # The ratio a library at the peak would reach: no ratio above it is possible.
                    "ceiling": peak_gflops(args, auto["dtype"], threads)
                    / gflops(auto["seconds"]["numpy"]),
                }
            )
    return rows


TITLES = {
    "gemm": "GEMM C = A·Bᵀ (M·K·N)",
    "dense_forward": "dense_forward relu(x·Wᵀ+b) vs np.maximum(x @ w.T + b, 0) (batch×in→out)",
    "dense_backward": "dense_backward ReLU: dW, db, dx vs NumPy (batch×in→out; 4·b·i·o flops)",
}


def print_tables(args, rows, env_label, auto_label):
    header = (
        f"{'shape':<16} {'pynn GF/s':>9} {'%peak':>6} {env_label:>16} {auto_label:>16} "
        f"{'pynn/numpy':>10} {'ceiling':>7}  target (1 thread)"
    )
    for kind in KINDS:
        for threads in args.threads:
            for dtype in args.dtype:
                selected = [
                    row
                    for row in rows
                    if (row["kind"], row["threads"], row["dtype"]) == (kind, threads, dtype)
                ]
                print(
                    f"\n{TITLES[kind]}, {dtype}, {threads} thread(s), "
                    f"peak {peak_gflops(args, dtype, threads):g} GFLOP/s"
                )
                print(header)
                target = KINDS[kind][2][dtype]
                for row in selected:
                    verdict = ""
                    if threads == 1 and target is None:
                        verdict = "(none)"
                    elif threads == 1:
                        verdict = f">= {target:.2f} " + (
                            "ok" if row["ratio"] >= target else "MISS"
                        )
                        if row["ceiling"] < target:
                            verdict += " (out of reach: ceiling below target)"
                    elif row["busy_turns"]:
                        verdict = (
                            f"busy: {row['busy_turns']} of {3 * row['repeats']} turns "
                            "started with other work running"
                        )
                    print(
                        f"{shape_label(kind, row['shape']):<16} {row['pynn_gflops']:>9.1f} "
                        f"{row['percent_of_peak']:>5.0f}% {row['numpy_env_gflops']:>16.1f} "
                        f"{row['numpy_auto_gflops']:>16.1f} {row['ratio']:>9.2f}x "
                        f"{row['ceiling']:>6.2f}x  {verdict}"
                    )


def print_scaling(args, rows):
    if not {1, 2} <= set(args.threads):
        return
    by_key = {
        (row["kind"], tuple(row["shape"]), row["dtype"], row["threads"]): row for row in rows
    }
    print(
        "\nGEMM speed-up, 2 threads over 1 thread "
        f"(target: pynn >= {SCALING_TARGET}x at 1024³ and 2048³ in float32)"
    )
    print(f"{'shape':<16} {'dtype':<8} {'pynn':>6} {'numpy':>6}  target")
    for (kind, shape, dtype, threads), two in by_key.items():
        if kind != "gemm" or threads != 2 or (kind, shape, dtype, 1) not in by_key:
            continue
        one = by_key[(kind, shape, dtype, 1)]
        ours = two["pynn_gflops"] / one["pynn_gflops"]
        theirs = two["numpy_auto_gflops"] / one["numpy_auto_gflops"]
        verdict = ""
        if shape in SCALING_SHAPES and dtype == "float32":  # the issue sets it for float32
            verdict = f">= {SCALING_TARGET} " + ("ok" if ours >= SCALING_TARGET else "MISS")
        print(
            f"{shape_label(kind, shape):<16} {dtype:<8} {ours:>5.2f}x {theirs:>5.2f}x  {verdict}"
        )


def numpy_label(config, fallback):
    return f"numpy[{config['corename'] or fallback}]"


def main(args):
    peak_line = set_peak(args)
    env_coretype = args.coretype or os.environ.get("OPENBLAS_CORETYPE") or AVX2_CORETYPE
    env_runs, auto_runs = {}, {}
    started = time.perf_counter()
    for threads in args.threads:
        if threads > 1:
            print(
                f"... {threads} thread(s): pynn, NumPy without and with OPENBLAS_CORETYPE="
                f"{env_coretype}, each in its own process, interleaved",
                file=sys.stderr,
                flush=True,
            )
            auto_runs[threads], env_runs[threads] = run_separate_processes(
                args, threads, env_coretype
            )
            continue
        print(
            f"... {threads} thread(s): NumPy with OPENBLAS_CORETYPE={env_coretype}",
            file=sys.stderr,
            flush=True,
        )
        env_runs[threads] = run_subprocess(args, threads, "numpy", env_coretype)
        print(
            f"... {threads} thread(s): pynn and NumPy without OPENBLAS_CORETYPE, interleaved",
            file=sys.stderr,
            flush=True,
        )
        auto_runs[threads] = run_subprocess(args, threads, "interleaved", None)
    rows = merge(args, env_runs, auto_runs)

    first = args.threads[0]
    env_numpy, auto_numpy = env_runs[first]["numpy"], auto_runs[first]["numpy"]
    env_label, auto_label = numpy_label(env_numpy, "env"), numpy_label(auto_numpy, "auto")
    print(f"NumPy {auto_numpy['numpy']}, BLAS {auto_numpy['blas']}")
    print(
        f"  {env_label}: OPENBLAS_CORETYPE={env_coretype}, OpenBLAS kernel {env_numpy['corename']}"
    )
    print(
        f"  {auto_label}: OPENBLAS_CORETYPE unset, OpenBLAS kernel {auto_numpy['corename']} "
        "(the ratios use this one)"
    )
    print(
        "pynn "
        + ", ".join(
            f"{key}: {value}"
            for key, value in auto_runs[first]["pynn"].items()
            if key not in ("num_threads", "OMP_NUM_THREADS")
        )
    )
    print(
        f"threads {args.threads} (1: one process, OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = 1; "
        "t > 1: one process per library, the other library single-threaded in it); "
        f"repeats {args.repeats} (median)"
    )
    print(peak_line)
    print(
        "GF/s: GFLOP/s; %peak: pynn's share of the peak at that thread count; "
        "pynn/numpy: pynn's speed over NumPy's with OPENBLAS_CORETYPE unset "
        "(above 1: pynn is faster); "
        "ceiling: the ratio of a library running at the peak (no ratio can exceed it)"
    )
    print_tables(args, rows, env_label, auto_label)
    print_scaling(args, rows)
    print(f"\n(measured in {time.perf_counter() - started:.0f} s)")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    "numpy": {"env": env_numpy, "auto": auto_numpy},
                    "pynn": auto_runs[first]["pynn"],
                    "peak_fp32_per_core": args.peak_fp32,
                    "peak_fp64_per_core": args.peak_fp64,
                    "repeats": args.repeats,
                    "results": rows,
                },
                out,
                indent=1,
            )


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS.worker in ("serve-pynn", "serve-numpy"):
        serve(ARGS)
    elif ARGS.worker:
        run_worker(ARGS)
    else:
        main(ARGS)
