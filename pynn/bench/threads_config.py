"""The threads benchmark's settings (pynn.bench.threads): its goal, its two arms, the
spinning neighbour's code, the cases and idle gaps it measures, their labels and units, and
the FULL and QUICK sizes (settings picks one and applies the options)."""

import json

GOAL = 1.3  # default / 1 thread, at most (issue 14)
ARMS = ("default", "1")
NEIGHBOUR_CODE = "while True: pass"
NEIGHBOUR_MIN_SHARE = 0.2  # below this share of a core the neighbour barely ran: say so
CASES = ("small_train", "mlp_train", "predict_1", "predict_128", "cli")
GAPS_MS = (0, 5, 100, 1000)

# name -> (label, unit, scale from seconds to the unit)
LABELS = {
    "small_train": ("train 64-32-10, batch 32, SGD", "µs/step", 1e6),
    "mlp_train": ("train 784-256-128-10, batch 128, SGD", "ms/step", 1e3),
    "predict_1": ("predict 784-256-128-10, batch 1", "µs/call", 1e6),
    "predict_128": ("predict 784-256-128-10, batch 128", "µs/call", 1e6),
    "cli_train": ("`pynn train` (digits), training part", "s", 1.0),
    "cli_command": ("`pynn train` (digits), whole command", "s", 1.0),
}

# Sizes: a 1-thread run lasts a fraction of a second to a few seconds; the default arm may
# be 10-60x slower under the neighbour today, so the counts stay small.
FULL = {
    "repeats": 5,
    "gap_repeats": 3,
    "small": {"samples": 3200, "epochs": 3},  # 300 steps
    "mlp": {"samples": 2560, "epochs": 1},  # 20 steps
    "predict_1_calls": 500,
    "predict_128_calls": 50,
    "gaps_ms": list(GAPS_MS),
    "gap_calls": {"0": 150, "5": 90, "100": 60, "1000": 30},
}  # per arm, over gap_repeats
QUICK = {
    "repeats": 1,
    "gap_repeats": 1,
    "small": {"samples": 640, "epochs": 2},
    "mlp": {"samples": 768, "epochs": 1},
    "predict_1_calls": 100,
    "predict_128_calls": 10,
    "gaps_ms": list(GAPS_MS),
    "gap_calls": {"0": 20, "5": 20, "100": 10, "1000": 3},
}
DEFAULT_GAP_CALLS = 30  # a gap the tables do not name


def settings(quick, repeats=None, gaps_ms=None, gap_calls=None, cases=None):
    chosen = json.loads(json.dumps(QUICK if quick else FULL))  # a deep copy
    if repeats is not None:
        chosen["repeats"] = repeats
        chosen["gap_repeats"] = min(chosen["gap_repeats"], repeats)  # full 3, quick 1
    if gaps_ms is not None:
        chosen["gaps_ms"] = list(gaps_ms)
    for gap in chosen["gaps_ms"]:
        chosen["gap_calls"].setdefault(str(gap), DEFAULT_GAP_CALLS)
    if gap_calls is not None:
        chosen["gap_calls"] = {str(gap): gap_calls for gap in chosen["gaps_ms"]}
    chosen["cases"] = list(CASES if cases is None else cases)
    chosen["quick"] = quick
    return chosen
