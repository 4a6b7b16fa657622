"""One measurement of the threads benchmark in a fresh process:
`python -m pynn.bench.threads_worker SPEC_JSON ANSWER_PATH`.

Started by pynn.bench.threads. The spec's "arm" is "default" (pynn's thread count is left
as it is: no set_num_threads call at all) or "1" (set_num_threads(1) before anything else).
It runs one case (see CASES), timing only the measured part, and writes its answer as JSON:
the wall and process CPU seconds of the timed part, the units done (steps or calls), the
per-call latencies for the idle-gap case, the thread count in effect, the share of the
machine other processes used meanwhile and the neighbour process's CPU seconds meanwhile.
"""

import json
import os
import sys
import time

import numpy as np

import pynn
from pynn.bench.data import make_classification
from pynn.bench.timing import OtherLoad

SMALL_SIZES = (64, 32, 10)
MLP_SIZES = (784, 256, 128, 10)


def process_cpu_seconds(pid):
    """User + system CPU seconds of process `pid` (/proc/PID/stat), or None."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _model(sizes, seed):
    hidden = [
        pynn.Dense(n_in, n_out, activation="relu") for n_in, n_out in zip(sizes[:-2], sizes[1:-1])
    ]
    return pynn.Sequential(*hidden, pynn.Dense(sizes[-2], sizes[-1]), random_state=seed)


def _fit(model, X, y, batch, epochs=1):
    model.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=pynn.SGD(lr=0.05, momentum=0.9),
        epochs=epochs,
        batch_size=batch,
        classes=np.arange(10),
    )


def _training(spec, sizes):
    """SGD training at spec["batch"]: one untimed epoch on a few batches, then `epochs`
    epochs over `samples` rows, timed as a whole; the unit is a step."""
    batch = spec["batch"]
    X, y = make_classification(spec["samples"], sizes[0], sizes[-1], seed=spec["seed"])
    model = _model(sizes, spec["seed"])
    _fit(model, X[: 2 * batch], y[: 2 * batch], batch)  # warm-up: plan, buffers, threads

    def timed():
        _fit(model, X, y, batch, spec["epochs"])

    steps = spec["epochs"] * -(-len(X) // batch)
    return timed, steps


def _predict_calls(spec):
    """`calls` predict calls at batch spec["batch"] on MLP_SIZES; the unit is a call."""
    batch = spec["batch"]
    X, y = make_classification(max(batch, 256), MLP_SIZES[0], MLP_SIZES[-1], seed=spec["seed"])
    model = _model(MLP_SIZES, spec["seed"])
    _fit(model, X[:256], y[:256], 128)  # a trained classifier, as a server would hold
    rows = X[:batch]
    model.predict(rows)  # warm-up

    def timed():
        for _ in range(spec["calls"]):
            model.predict(rows)

    return timed, spec["calls"], model, rows


def run(spec):
    if spec["arm"] == "1":
        pynn.set_num_threads(1)
    elif spec["arm"] != "default":
        raise ValueError(f"arm must be 'default' or '1', got {spec['arm']!r}")
    case = spec["case"]
    latencies = None
    if case == "small_train":
        timed, units = _training(spec, SMALL_SIZES)
    elif case == "mlp_train":
        timed, units = _training(spec, MLP_SIZES)
    elif case == "predict":
        timed, units, _, _ = _predict_calls(spec)
    elif case == "gap":
        _, units, model, rows = _predict_calls(spec)
        latencies = []
        gap = spec["gap_ms"] / 1000

        def timed():
            for _ in range(units):
                if gap:
                    time.sleep(gap)
                started = time.perf_counter()
                model.predict(rows)
                latencies.append(time.perf_counter() - started)
    else:
        raise ValueError(f"unknown case {case!r}")
    neighbour = spec.get("neighbour_pid")
    neighbour_before = process_cpu_seconds(neighbour) if neighbour else None
    load = OtherLoad().start()
    cpu_before, started = time.process_time(), time.perf_counter()
    timed()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    others = load.stop()
    neighbour_after = process_cpu_seconds(neighbour) if neighbour else None
    answer = {
        "case": case,
        "arm": spec["arm"],
        "num_threads": pynn.get_num_threads(),
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "units": units,
        "others_share": others,
        "neighbour_cpu_seconds": None,
    }
    if neighbour_before is not None and neighbour_after is not None:
        answer["neighbour_cpu_seconds"] = neighbour_after - neighbour_before
    if latencies is not None:
        answer["latencies"] = latencies
    return answer


def main(argv):
    spec, answer_path = json.loads(argv[1]), argv[2]
    answer = run(spec)
    with open(answer_path, "w") as out:
        json.dump(answer, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
