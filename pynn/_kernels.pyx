# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Python bindings of pynn's C kernels (csrc/).

Every function checks its arguments (dtype, shape, layout, overlap, values),
picks the float32 or float64 kernel and runs it with the GIL released. The
functions, their arguments and their maths are documented in docs/kernels.md;
pynn.reference implements the same functions in plain NumPy.
"""
cimport numpy as cnp
from libc.math cimport isfinite
from libc.stdint cimport int64_t, intptr_t

import numpy as np

from pynn._capi cimport *

cnp.import_array()

include "_checks.pxi"

# ---- threads ----------------------------------------------------------------
# The user's thread count lives here, not in C: each kernel is handed it.
cdef int _num_threads_set = 0


def set_num_threads(n):
    """Use n threads in every kernel (n >= 1). Results do not depend on n."""
    global _num_threads_set
    cdef int64_t value = _count(n, "n")
    if value < 1:
        raise ValueError(f"n must be at least 1, got {value}")
    if value > 4096:
        raise ValueError(f"n must be at most 4096, got {value}")
    _num_threads_set = <int>value


def get_num_threads():
    """The thread count kernels use: set_num_threads's value, else OpenMP's
    default (OMP_NUM_THREADS, else the cores this process may use)."""
    return _nthreads()


def openmp_enabled():
    """Whether pynn was built with OpenMP (else every kernel runs on one thread)."""
    return bool(pynn_openmp_enabled())


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
    if _num_threads_set > 0:
        return _num_threads_set
    return pynn_default_num_threads()


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


include "_matrix.pxi"
include "_elementwise.pxi"
include "_losses.pxi"
include "_optim.pxi"
include "_metrics.pxi"
include "_dense_stack.pxi"
