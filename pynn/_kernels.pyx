# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Python bindings of pynn's C kernels (csrc/).

Every function checks its arguments (dtype, shape, layout, overlap, values),
picks the float32 or float64 kernel and runs it with the GIL released. The
functions, their arguments and their maths are documented in docs/kernels.md;
pynn.reference implements the same functions in plain NumPy.

Each binding's body is written once, fused over real_t (float, double): see
_checks.pxi for how a call picks its dtype's version.
"""
cimport numpy as cnp
from libc.math cimport isfinite
from libc.stdint cimport int64_t, intptr_t

import numpy as np

from pynn._capi cimport *

cnp.import_array()

include "_checks.pxi"

# ---- threads ----------------------------------------------------------------
# Two counts live here, not in C (each kernel is handed its count): the process's
# (set_num_threads, threadpoolctl) and, per OS thread, the count of the work running
# in it (threads(n)), at most the process's. docs/kernels.md, "Threads".
cdef extern from *:
    """
    static _Thread_local int pynn_own_threads = 0;
    static int pynn_get_own_threads(void) { return pynn_own_threads; }
    static void pynn_set_own_threads(int n) { pynn_own_threads = n; }
    """
    int pynn_get_own_threads() noexcept nogil
    void pynn_set_own_threads(int n) noexcept nogil

MAX_THREADS = 256  # PYNN_MAX_THREADS of csrc/parallel.h


cdef int _thread_count(object n, str name) except -1:
    cdef int64_t value = _count(n, name)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    if value > MAX_THREADS:
        raise ValueError(f"{name} must be at most {MAX_THREADS}, got {value}")
    return <int>value


def _cgroup_cpus():
    """The CPUs a cgroup v2 quota allows this process (cpu.max), or None."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota == "max":
            return None
        return max(1, -(-int(quota) // int(period)))
    except (OSError, ValueError):
        return None


def default_num_threads():
    """The process's count when set_num_threads was never called: OMP_NUM_THREADS (its
    first entry) when it is a count, else the CPUs this process may run on (its affinity
    mask and cgroup quota), at most MAX_THREADS."""
    import os
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) >= 1:
        return min(int(env), MAX_THREADS)
    cpus = pynn_usable_cpus()
    quota = _cgroup_cpus()
    if quota is not None:
        cpus = min(cpus, quota)
    return max(1, min(cpus, MAX_THREADS))


cdef int _process_threads = default_num_threads()


def set_num_threads(n) -> None:
    """Use at most n threads in the kernels of every thread of this process (n >= 1).
    The threads are started now: a count the system cannot start raises ValueError and
    keeps the previous one. Results do not depend on n.

    Parameters
    ----------
    n : int
        The thread count, from 1 to MAX_THREADS.

    Raises
    ------
    TypeError
        n is not an integer.
    ValueError
        n out of range, or more threads than the system can start (the previous count
        is kept).
    """
    global _process_threads
    cdef int value = _thread_count(n, "n")
    cdef int started
    with nogil:
        started = pynn_threads_start(value)
    if started < value and pynn_threads_enabled():
        raise ValueError(f"n={value}: the system started only {started} of the threads "
                         f"(a limit on threads or memory); kept {_process_threads}")
    _process_threads = value


def get_num_threads() -> int:
    """The thread count the calling thread's kernels use: its threads(n) count when one
    is set, at most the process's (set_num_threads, else default_num_threads()).

    Returns
    -------
    int
    """
    return _nthreads()


def _process_num_threads():
    """The process-wide count alone (what threadpoolctl reads and restores)."""
    return _process_threads


class threads:
    """Run the calling thread's kernels on at most n threads within the block:

        with pynn.threads(1):
            model.fit(X, y)

    Other threads are not affected, and the count is put back on leaving the block (it
    nests). The process-wide count (set_num_threads, threadpoolctl's limits) still caps it.

    Parameters
    ----------
    n : int
        The calling thread's thread count within the block, from 1 to MAX_THREADS.

    Raises
    ------
    TypeError
        n is not an integer.
    ValueError
        n out of range.
    """

    def __init__(self, n):
        self.n = _thread_count(n, "n")
        self._saved = []

    def __enter__(self):
        self._saved.append(pynn_get_own_threads())
        pynn_set_own_threads(self.n)
        return self

    def __exit__(self, *exc_info):
        pynn_set_own_threads(self._saved.pop())
        return False

    def __repr__(self):
        return f"pynn.threads({self.n})"


def threads_enabled() -> bool:
    """Whether pynn was built with threads (else every kernel runs on one thread).

    Returns
    -------
    bool
    """
    return bool(pynn_threads_enabled())


# ---- SIMD path of the matrix kernels ------------------------------------------
# Like the thread count, the chosen path lives here and each matrix kernel is
# handed it. At import: the best path this CPU supports, unless PYNN_SIMD names
# another (an unknown or unsupported name warns and keeps the best).
SIMD_NAMES = ("generic", "avx2", "avx512")  # index = pynn_simd code


def simd_paths():
    """The SIMD paths this build and CPU can run, slowest first."""
    return tuple(name for code, name in enumerate(SIMD_NAMES) if pynn_simd_supported(code))


cdef int _simd_code(object name) except -1:
    """The code of a path name that this machine supports."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in SIMD_NAMES:
        raise ValueError(f"unknown SIMD path {name!r}; expected one of {', '.join(SIMD_NAMES)}")
    if name not in simd_paths():
        raise ValueError(f"SIMD path {name!r} is not supported by this CPU or build; "
                         f"supported: {', '.join(simd_paths())}")
    return SIMD_NAMES.index(name)


cdef int _initial_simd():
    import os
    import warnings
    requested = os.environ.get("PYNN_SIMD", "")
    if requested:
        try:
            return _simd_code(requested)
        except ValueError as err:
            warnings.warn(f"PYNN_SIMD: {err}; using {SIMD_NAMES[pynn_simd_best()]!r}",
                          RuntimeWarning, stacklevel=2)
    return pynn_simd_best()


cdef int _simd = _initial_simd()


def set_simd_path(name):
    """Run the matrix kernels on the SIMD path `name` (one of simd_paths())."""
    global _simd
    _simd = _simd_code(name)


def get_simd_path():
    """The name of the SIMD path the matrix kernels run on."""
    return SIMD_NAMES[_simd]


def simd_path():
    """The SIMD path the matrix kernels run on, with its description."""
    return f"{SIMD_NAMES[_simd]}: {pynn_simd_describe(_simd).decode()}"


cdef inline int _nthreads() noexcept nogil:
    cdef int own = pynn_get_own_threads()
    return own if 0 < own < _process_threads else _process_threads


# ---- activations by name ----------------------------------------------------
ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu",
               "step", "sign")
_ACTIVATION_CODES = {name: code for code, name in enumerate(ACTIVATIONS)}
_DEFAULT_PARAMS = {"leaky_relu": 0.01, "elu": 1.0}


cdef pynn_activation _activation(object name, object param, double *param_out) except *:
    """The C code of an activation name, with its parameter in param_out."""
    if not isinstance(name, str):
        raise TypeError(f"activation must be a str, got {type(name).__name__}")
    code = _ACTIVATION_CODES.get(name)
    if code is None:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    if name in _DEFAULT_PARAMS:
        param_out[0] = _DEFAULT_PARAMS[name] if param is None else _real(param, "param")
        if not isfinite(param_out[0]):
            raise ValueError(f"param of {name} must be finite, got {param}")
    elif param is not None:
        raise ValueError(f"activation {name!r} takes no param, got {param!r}")
    else:
        param_out[0] = 0.0
    return <pynn_activation>(<int>code)


def activation_saves(activation, param=None):
    """What the activation's derivative reads: "output", "input" or None."""
    cdef double p
    cdef pynn_activation act = _activation(activation, param, &p)
    return _saves_name(act, p, activation)


cdef object _saves_name(pynn_activation act, double param, str name):
    cdef pynn_saved saved = pynn_activation_saves(act, param)
    if saved == PYNN_NOT_DIFFERENTIABLE:
        raise ValueError(f"activation {name!r} is not differentiable: it is for inference only")
    if saved == PYNN_SAVES_OUTPUT:
        return "output"
    if saved == PYNN_SAVES_INPUT:
        return "input"
    return None


cdef int _check_saved(str saves, str activation, object a, object z) except -1:
    """The array that the derivative of `activation` reads must be given."""
    if saves == "output" and a is None:
        raise ValueError(f"activation {activation!r} needs a (the forward's output) for its derivative")
    if saves == "input" and z is None:
        raise ValueError(f"activation {activation!r} needs z (the forward's pre-activation) for its derivative")
    return 0


include "_gemm_plain.pxi"
include "_matrix.pxi"
include "_elementwise.pxi"
include "_losses.pxi"
include "_optim.pxi"
include "_metrics.pxi"
include "_network.pxi"
