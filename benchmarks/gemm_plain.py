"""The fast GEMM against the plain one (issue 16), at the C level, one thread.

    python benchmarks/gemm_plain.py [--paths avx512,generic] [--dtype float32,float64]
                                    [--layouts NT,NN,TN] [--repeats 7] [--batch-seconds 0.02]

Compiles gemm_plain.c with pynn's csrc/*.c (setup.py's flags, no -march) and runs it: for each
shape rows x in -> out (m x k -> n) and layout (NT: C = A·Bᵀ, a dense layer's forward; NN:
C = A·B, its input gradient; TN: C = Aᵀ·B, its weight gradient), each SIMD path and dtype, the
two GEMMs alternate in batches of about --batch-seconds of process CPU time, and the table
gives the median time per call over --repeats batches, and plain / fast as a speed ratio
(above 1: the plain GEMM is faster). Timing in C leaves out Python's call overhead (about a
microsecond, more than the smallest products take). The load (uptime) before and after is
printed: the machine is shared.
"""

import argparse
import os
import subprocess
import sys
import sysconfig
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIMD_CODES = {"generic": 0, "avx2": 1, "avx512": 2}  # pynn_simd of csrc/pynn.h

# (m, k, n): tiny products, one-row products (batch-1 inference), skinny ones (n or k tiny),
# a small network's layer, and two dense layers at batch 32/128 for scale.
SHAPES = (
    (1, 1, 1),
    (1, 3, 3),
    (2, 3, 4),
    (4, 20, 32),
    (32, 3, 2),
    (1000, 2, 2),
    (128, 10, 3),
    (1, 128, 10),
    (1, 784, 128),
    (1, 784, 256),
    (1, 1024, 1024),
    (8, 784, 256),
    (32, 64, 32),
    (128, 784, 10),
    (128, 10, 784),
    (128, 784, 256),
)


def uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "uptime not available"


def build(scratch):
    exe = os.path.join(scratch, "gemm_plain")
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC").split()[0] or "cc"
    sources = sorted(
        os.path.join(ROOT, "csrc", f)
        for f in os.listdir(os.path.join(ROOT, "csrc"))
        if f.endswith(".c")
    )
    cmd = [
        cc,
        "-O3",
        "-std=c11",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-pthread",
        "-I" + os.path.join(ROOT, "csrc"),
        *sources,
        os.path.join(HERE, "gemm_plain.c"),
        "-o",
        exe,
        "-lm",
    ]
    subprocess.run(cmd, check=True)
    return exe


def supported_paths():
    sys.path.insert(0, ROOT)
    import pynn._kernels as K

    return K.simd_paths()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--paths",
        default=None,
        help="comma-separated SIMD paths (default: the best one and generic)",
    )
    parser.add_argument("--dtype", default="float32,float64")
    parser.add_argument("--layouts", default="NT,NN,TN")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch-seconds", type=float, default=0.02)
    args = parser.parse_args()
    have = supported_paths()
    paths = args.paths.split(",") if args.paths else list(dict.fromkeys([have[-1], "generic"]))
    for p in paths:
        if p not in have:
            parser.error(f"path {p!r} is not supported here (supported: {', '.join(have)})")
    lines = "".join(
        f"{dt} {lay} {m} {k} {n}\n"
        for dt in args.dtype.split(",")
        for lay in args.layouts.split(",")
        for (m, k, n) in SHAPES
    )
    print(f"load before: {uptime()}")
    with tempfile.TemporaryDirectory() as scratch:
        exe = build(scratch)
        results = {}
        for path in paths:
            out = subprocess.run(
                [exe, str(SIMD_CODES[path]), str(args.repeats), str(args.batch_seconds)],
                input=lines,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for row in out.split("\n"):
                if row:
                    dt, lay, m, k, n, fast, plain = row.split()
                    results[(path, dt, lay, m, k, n)] = (float(fast), float(plain))
    print(f"load after:  {uptime()}")
    print(
        f"\nmedian us per call over {args.repeats} interleaved batches, 1 thread; "
        f"ratio = plain speed / fast speed"
    )
    for path in paths:
        for dt in args.dtype.split(","):
            print(f"\n{path}, {dt}")
            print(
                "| m x k -> n | "
                + " | ".join(
                    f"{lay} fast | {lay} plain | {lay} ratio" for lay in args.layouts.split(",")
                )
                + " |"
            )
            print("|---" * (1 + 3 * len(args.layouts.split(","))) + "|")
            for m, k, n in SHAPES:
                cells = []
                for lay in args.layouts.split(","):
                    fast, plain = results[(path, dt, lay, str(m), str(k), str(n))]
                    cells += [f"{fast / 1e3:.3g}", f"{plain / 1e3:.3g}", f"{fast / plain:.2f}"]
                print(f"| {m} x {k} -> {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
