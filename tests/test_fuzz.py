"""Fuzzing every public binding of pynn._kernels (issue 8, robustness).

Each test draws a valid call (random dtype, shapes including 0, NaN and infinities among
the values) and then up to two corruptions of its arguments: another dtype or byte order,
another shape or number of dimensions, a non-contiguous, negatively strided or read-only
array, a list instead of an array, an output that overlaps another argument, out-of-domain
values and labels, scalars of the wrong type or range, sizes whose products overflow.
The test knows, from the final arguments alone, which arguments are wrong (docs/kernels.md):
- none: the call must return, and every result and every array it writes must match
  pynn.reference run on copies of the same arguments (NaN and infinities included);
- some: the call must raise TypeError or ValueError whose message names one of them.
Any other exception, a crash, or a return from an invalid call fails the test.

EXAMPLES gives each test's number of examples (hypothesis's max_examples); their sum is
the count CI runs (CI=true makes the examples derandomized: the same every run).
"""

import re
import warnings

import numpy as np
import pytest
from helpers import K, R, activation_terms, arg, assert_close, fuzz_decorator, loss_terms

import pynn.reference_network as RN

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES = {}  # test name -> examples per run (hypothesis max_examples)
fuzz = fuzz_decorator(EXAMPLES)


FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# every other dtype a float argument may be given: each is a TypeError
WRONG_DTYPES = (np.float16, np.int32, np.int64, np.uint8, np.complex128, np.bool_, np.longdouble)
INT_DTYPES = (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64)
SPECIALS = (np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 1e-30)
SIZE = st.one_of(st.integers(0, 4), st.integers(0, 4), st.integers(5, 19))
POSITIVE = st.one_of(st.integers(1, 4), st.integers(1, 4), st.integers(5, 19))
NOT_A_NUMBER = ("0.5", None, [1.0], 1j, True, np.bool_(False))


class Case:
    """One generated call: its arguments, the dimension symbols of its arrays, and the
    names that the call must blame (empty: it must succeed)."""

    def __init__(self, data, dtype=None):
        self.draw = data.draw
        self.rng = np.random.default_rng(self.draw(st.integers(0, 2**32 - 1), label="seed"))
        self.dtype = np.dtype(
            self.draw(st.sampled_from(FLOATS), label="dtype") if dtype is None else dtype
        )
        self.special = self.draw(st.booleans(), label="special values")
        self.args = {}  # name -> value
        self.roles = {}  # name -> "in", "out" (written), "inout" (read and written)
        self.dims = {}  # name -> tuple of dimension symbols
        self.ignored = set()  # arguments the call does not read (passed as None to R)
        self.shape_only = set()  # arguments checked for shape and dtype but never read
        self.blame = set()

    # ---- valid arguments ----------------------------------------------------------------
    def values(self, shape, low=-2.0, high=2.0):
        x = self.rng.uniform(low, high, size=shape)
        if self.special and x.size:
            mask = self.rng.random(shape) < 0.3
            x[mask] = self.rng.choice(SPECIALS, size=int(mask.sum()))
        return x.astype(self.dtype)

    def add(self, name, value, role="in", dims=None):
        self.args[name] = value
        self.roles[name] = role
        if dims is not None:
            self.dims[name] = dims
        return value

    def arrays(self):
        return [n for n, v in self.args.items() if isinstance(v, np.ndarray)]

    # ---- corruptions --------------------------------------------------------------------
    def corrupt(self, names=None, kinds=None, max_count=2):
        """Apply up to max_count corruptions to the array arguments `names`."""
        kinds = kinds or (
            "dtype",
            "byteorder",
            "shape",
            "ndim",
            "layout",
            "readonly",
            "list",
            "overlap",
            "unaligned",
        )
        count = self.draw(st.integers(0, max_count), label="corruptions")
        for _ in range(count):
            arrays = [
                n for n in (names or self.arrays()) if isinstance(self.args.get(n), np.ndarray)
            ]
            if not arrays:
                return
            name = self.draw(st.sampled_from(arrays), label="corrupted")
            kind = self.draw(st.sampled_from(kinds), label="corruption")
            getattr(self, "_" + kind)(name)

    def _dtype(self, name):
        dtype = self.draw(st.sampled_from(WRONG_DTYPES + tuple(FLOATS)), label="wrong dtype")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            self.args[name] = self.args[name].astype(dtype)

    def _byteorder(self, name):
        a = self.args[name]
        self.args[name] = a.astype(a.dtype.newbyteorder())

    def _shape(self, name):
        a = self.args[name]
        if a.ndim == 0:
            return self._ndim(name)
        axis = self.draw(st.integers(0, a.ndim - 1), label="axis")
        shape = list(a.shape)
        shape[axis] = max(0, shape[axis] + self.draw(st.sampled_from((-1, 1, 2))))
        self.args[name] = self._like(a, tuple(shape))

    def _ndim(self, name):
        a = self.args[name]
        if a.ndim and self.draw(st.booleans(), label="drop axis"):
            shape = a.shape[:-1]
        else:
            shape = a.shape + (self.draw(st.integers(1, 2)),)
        self.args[name] = self._like(a, shape)

    def _like(self, a, shape):
        """A new array of `shape` with a's dtype and values where they fit."""
        new = np.zeros(shape, a.dtype)
        if a.ndim == len(shape):
            common = tuple(slice(0, min(s, t)) for s, t in zip(a.shape, shape))
            new[common] = a[common]
        if not a.flags.writeable:
            new.flags.writeable = False
        return new

    def _layout(self, name):
        """The same values, laid out otherwise: a column slice of a wider array (rows
        still contiguous), every other column, every other row, reversed rows, Fortran
        order."""
        a = self.args[name]
        kind = self.draw(st.sampled_from(("wide", "columns", "rows", "reversed", "fortran")))
        if a.ndim == 0:
            return
        if kind == "wide":
            base = np.zeros(a.shape[:-1] + (a.shape[-1] + 3,), a.dtype)
            view = base[..., : a.shape[-1]]
        elif kind == "columns":
            base = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
            view = base[..., ::2]
        elif kind == "rows":
            base = np.zeros((2 * a.shape[0],) + a.shape[1:], a.dtype)
            view = base[::2]
        elif kind == "reversed":
            base = np.zeros(a.shape, a.dtype)
            view = base[::-1]
        else:
            view = np.zeros(a.shape, a.dtype, order="F")
        view[...] = a
        if not a.flags.writeable:
            view.flags.writeable = False
        self.args[name] = view

    def _unaligned(self, name):
        """The same values in a view of a byte buffer at an odd offset."""
        a = self.args[name]
        buffer = np.zeros(a.nbytes + 1, np.uint8)
        view = buffer[1:].view(a.dtype).reshape(a.shape)
        view[...] = a
        if not a.flags.writeable:
            view.flags.writeable = False
        self.args[name] = view

    def _readonly(self, name):
        a = self.args[name].copy()
        a.flags.writeable = False
        self.args[name] = a

    def _list(self, name):
        self.args[name] = self.args[name].tolist()

    def _overlap(self, name):
        """Rebuild `name` and another array argument as overlapping views of one buffer
        (or as the same array)."""
        others = [n for n in self.arrays() if n != name]
        if not others:
            return
        other = self.draw(st.sampled_from(others), label="overlaps")
        a, b = self.args[name], self.args[other]
        if a.dtype != b.dtype or a.ndim == 0 or b.ndim == 0:
            return
        if a.shape == b.shape and self.draw(st.booleans(), label="same array"):
            self.args[name] = b
            return
        if a.size == 0 or b.size == 0:
            return
        shared = self.draw(st.integers(1, min(a.size, b.size)), label="shared")
        base = np.zeros(a.size + b.size - shared + 2, a.dtype)
        first, second = (a, b) if self.draw(st.booleans()) else (b, a)
        v1 = base[: first.size].reshape(first.shape)
        v2 = base[first.size - shared : first.size - shared + second.size].reshape(second.shape)
        v1[...] = first
        v2[...] = second
        if first is a:
            self.args[name], self.args[other] = v1, v2
        else:
            self.args[name], self.args[other] = v2, v1

    def scalar(self, name, valid, invalid=NOT_A_NUMBER, p_invalid=0.1):
        """A scalar argument drawn from `valid` (a strategy), or now and then a value of a
        wrong type."""
        if self.draw(st.floats(0, 1), label=f"{name} kind") < p_invalid:
            value = self.draw(st.sampled_from(invalid), label=name)
        else:
            value = self.draw(valid, label=name)
        self.args[name] = value
        self.roles[name] = "scalar"
        return value

    # ---- what is wrong ------------------------------------------------------------------
    def check_arrays(self, contiguous=True, rows_only=()):
        """Blame array arguments of a wrong type, dtype, layout or writeability, and
        outputs that overlap another argument. `rows_only`: arrays (gemm's) whose rows
        must be contiguous but whose row stride may be larger."""
        for name, value in self.args.items():  # labels and rows too
            if (
                isinstance(value, np.ndarray)
                and name not in self.ignored
                and not value.flags.aligned
            ):
                self.blame.add(name)
        floats = {}  # float dtype -> the arrays that have it
        for name, value in self.args.items():
            if self.roles[name] == "scalar" or value is None or name in self.ignored:
                continue
            if not isinstance(value, np.ndarray):
                self.blame.add(name)
                continue
            if value.dtype not in FLOATS or not value.dtype.isnative:
                self.blame.add(name)
            else:
                floats.setdefault(value.dtype, []).append(name)
            if name in rows_only:
                if not rows_contiguous(value):
                    self.blame.add(name)
            elif contiguous and not value.flags.c_contiguous:
                self.blame.add(name)
            if self.roles[name] in ("out", "inout") and not value.flags.writeable:
                self.blame.add(name)
        if len(floats) > 1:  # either side of a dtype mismatch may be named
            for names in floats.values():
                self.blame.update(names)
        elif floats:
            self.dtype = next(iter(floats))
        self.check_overlaps()

    def check_overlaps(self):
        live = {
            n: v
            for n, v in self.args.items()  # an unread input may overlap outputs
            if isinstance(v, np.ndarray) and n not in self.ignored | self.shape_only
        }
        for name, value in live.items():
            if self.roles[name] not in ("out", "inout"):
                continue
            for other, w in live.items():
                if other != name and np.may_share_memory(value, w):
                    self.blame.update((name, other))

    def check_dims(self):
        """Arrays sharing a dimension symbol must agree on it; each array must have as many
        dimensions as it has symbols (None: any number, as the activations' x)."""
        values = {}
        for name, dims in self.dims.items():
            value = self.args.get(name)
            if not isinstance(value, np.ndarray) or name in self.ignored:
                continue
            if dims is None:
                continue
            if value.ndim != len(dims):
                self.blame.add(name)
                continue
            for symbol, size in zip(dims, value.shape):
                values.setdefault(symbol, {}).setdefault(size, set()).add(name)
        for sizes in values.values():
            if len(sizes) > 1:
                for names in sizes.values():
                    self.blame.update(names)

    def check_same_shape(self, names):
        """The live arrays `names` must all have one shape (any shape)."""
        shapes = {}
        for name in names:
            value = self.args.get(name)
            if isinstance(value, np.ndarray) and name not in self.ignored:
                shapes.setdefault(value.shape, set()).add(name)
        if len(shapes) > 1:
            for group in shapes.values():
                self.blame.update(group)

    # ---- running ------------------------------------------------------------------------
    def call(self, kernel, reference, positional, compare=(), k=1, floor=1e-6, terms=None):
        """Run the call; check the outcome as the module docstring says. `compare` names
        the array arguments written in place whose final values must match too. `terms`,
        called (with the arguments, after a valid call returned), gives the size of the
        terms the results are made of (assert_close(terms=)): a dict with "return" (laid
        out like the return value) and the names of `compare`."""
        ref_args = {n: (None if n in self.ignored else copy(v)) for n, v in self.args.items()}
        # what is added into an output (beta * c, an update of param) is known
        # only to within the rounding of the output's first values: they set the floor
        for name, value in self.args.items():
            if (
                self.roles[name] == "inout"
                and isinstance(value, np.ndarray)
                and value.dtype.kind == "f"
                and name not in self.ignored
            ):
                finite = np.abs(value[np.isfinite(value)])
                floor = max(floor, float(finite.max()) if finite.size else 0.0)
        args = [self.args[n] for n in positional]
        kwargs = {n: v for n, v in self.args.items() if n not in positional}
        try:
            with np.errstate(all="ignore"):
                result = kernel(*args, **kwargs)
        except (TypeError, ValueError) as error:
            hypothesis.event("refused")
            message = str(error)
            assert self.blame, f"{kernel.__name__} raised for a valid call: {error!r}"
            assert any(re.search(arg(n), message) for n in blame_words(self.blame)), (
                f"{kernel.__name__}: {message!r} names none of {sorted(self.blame)}"
            )
            return None
        hypothesis.event("returned")
        assert not self.blame, (
            f"{kernel.__name__} returned although {sorted(self.blame)} are wrong"
        )
        terms = terms(ref_args) if terms is not None else {}
        ref_positional = [ref_args[n] for n in positional]
        ref_kwargs = {n: v for n, v in ref_args.items() if n not in positional}
        with np.errstate(all="ignore"):  # NaN and inf are compared, not warned about
            expected = reference(*ref_positional, **ref_kwargs)
            assert_same(
                result, expected, self.dtype, k, floor, kernel.__name__, terms.get("return")
            )
            for name in compare:
                if self.args.get(name) is not None and name not in self.ignored:
                    assert_close(
                        self.args[name],
                        ref_args[name],
                        self.dtype,
                        k=k,
                        floor=floor,
                        terms=terms.get(name),
                        what=f"{kernel.__name__} {name}",
                    )
        return result


def blame_words(names):
    """The words an error message may use for the blamed arguments (Network's
    layers[i]['weight'] is named by 'weight', the step's target buffer by 'targets' too)."""
    words = set()
    for name in names:
        words.add(re.sub(r".*\['(\w+)'\]$", r"\1", name))
    if "target" in words:
        words.add("targets")
    return words


def copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def rows_contiguous(a):
    """gemm's layout rule: a 2-D array whose rows are contiguous, with a positive row
    stride of at least one row (any layout when no element or one row is read)."""
    if a.ndim != 2 or a.size == 0:
        return True
    rows, cols = a.shape
    item = a.itemsize
    if cols > 1 and a.strides[1] != item:
        return False
    if rows == 1:
        return True
    return a.strides[0] > 0 and a.strides[0] % item == 0 and a.strides[0] // item >= cols


def assert_same(result, expected, dtype, k, floor, what, terms=None):
    """A kernel's return value against the reference's: arrays and floats within the
    tests' tolerance (NaN where NaN, the same infinities), ints and None exactly.
    `terms`: None, or the size of the terms of the results, laid out like them."""
    if isinstance(expected, tuple):
        assert isinstance(result, tuple) and len(result) == len(expected), what
        terms = (None,) * len(expected) if terms is None else terms
        for r, e, t in zip(result, expected, terms):
            assert_same(r, e, dtype, k, floor, what, t)
    elif expected is None:
        assert result is None, f"{what}: {result!r} instead of None"
    elif isinstance(expected, (int, np.integer)) and not isinstance(expected, bool):
        assert type(result) is int and result == expected, f"{what}: {result} != {expected}"
    elif isinstance(expected, float):
        assert type(result) is float, f"{what}: {type(result).__name__} instead of float"
        assert_close(result, expected, dtype, k=k, floor=floor, terms=terms, what=what)
    else:
        assert isinstance(result, np.ndarray), what
        assert_close(result, expected, dtype, k=k, floor=floor, terms=terms, what=what)


def activation_and_param(case, differentiable=False):
    """An activation name and param, now and then a wrong one; blames them."""
    names = tuple(K.ACTIVATIONS)
    if differentiable:
        names = names[:-2]
    name = case.draw(
        st.one_of(
            st.sampled_from(names),
            st.sampled_from(names),
            st.sampled_from(("softmax", "ReLU", 3, None)),
        ),
        label="activation",
    )
    case.args["activation"] = name
    case.roles["activation"] = "scalar"
    if name in ("leaky_relu", "elu"):
        param = case.scalar(
            "param", st.one_of(st.none(), st.floats(-3, 3), st.sampled_from((np.inf, np.nan)))
        )
    else:
        param = case.draw(st.one_of(st.none(), st.none(), st.none(), st.just(0.5)))
        case.args["param"] = param
        case.roles["param"] = "scalar"
    if not isinstance(name, str) or name not in K.ACTIVATIONS:
        case.blame.add("activation")
    elif name in ("leaky_relu", "elu"):
        if param is not None and (
            isinstance(param, (bool, np.bool_))
            or not isinstance(param, (int, float))
            or not np.isfinite(param)
        ):
            case.blame.add("param")
    elif param is not None:
        case.blame.update(("activation", "param"))
    return name, param


def saves(name, param):
    """What the derivative reads (reference.activation_saves), "none" for step/sign,
    or None for an invalid activation."""
    try:
        return R.activation_saves(name, param)
    except (ValueError, TypeError):
        return "none" if name in ("step", "sign") else "invalid"


def maybe_out(case, name, shape, dims, p=0.5, role="out"):
    """An output argument, given (with garbage in it) or None."""
    if case.draw(st.floats(0, 1), label=f"give {name}") < p:
        case.add(name, case.values(shape, -9, 9), role, dims)
    else:
        case.add(name, None, role, dims)


# ---- activations ---------------------------------------------------------------------------
@fuzz(700)
@given(data=st.data())
def test_fuzz_activation_forward(data):
    case = Case(data)
    activation_and_param(case)
    shape = tuple(case.draw(st.lists(SIZE, min_size=0, max_size=3), label="shape"))
    dims = tuple(f"d{i}" for i in range(len(shape)))
    case.add("x", case.values(shape), "in", None)
    maybe_out(case, "out", shape, dims)
    case.corrupt(["x", "out"])
    case.check_arrays()
    x, out = case.args["x"], case.args["out"]
    if isinstance(x, np.ndarray) and isinstance(out, np.ndarray) and x.shape != out.shape:
        case.blame.add("out")
    case.call(
        K.activation_forward, R.activation_forward, ["x", "activation", "param"], compare=["out"]
    )


@fuzz(800)
@given(data=st.data(), backward=st.booleans())
def test_fuzz_activation_derivative_and_backward(data, backward):
    case = Case(data)
    name, param = activation_and_param(case)
    shape = tuple(case.draw(st.lists(SIZE, min_size=0, max_size=3), label="shape"))
    if backward:
        case.add("dout", case.values(shape), "in")
    for source in ("a", "z"):
        if case.draw(st.floats(0, 1), label=f"give {source}") < 0.7:
            case.add(source, case.values(shape), "in")
        else:
            case.add(source, None, "in")
    maybe_out(case, "out", shape, None)
    case.corrupt()
    reads = saves(name, param)
    if reads == "none":
        case.blame.add("activation")
    if reads in ("output", "input", None):
        source = {"output": "a", "input": "z", None: None}[reads]
        if source is not None and case.args[source] is None:
            case.blame.add(source)
        # what the call does not read is not checked: the other of a and z, and for the
        # identity (which reads nothing) both unless one fixes the derivative's shape
        unread = {"a", "z"} - {source}
        if reads is None and not backward:
            first = "a" if case.args["a"] is not None else "z"
            if case.args[first] is None:
                case.blame.update(("a", "z"))
            unread.discard(first)
            case.shape_only.add(first)
        case.ignored.update(unread)
    case.check_arrays()
    case.check_same_shape(["dout", "a", "z", "out"])

    def terms(args):  # tanh' = 1 - a*a (helpers.activation_terms)
        t = activation_terms(args["activation"], args["a"], args.get("dout"))
        return {"return": t, "out": t}

    if backward:
        case.call(
            K.activation_backward,
            R.activation_backward,
            ["dout", "activation", "param"],
            compare=["out"],
            terms=terms,
        )
    else:
        case.call(
            K.activation_derivative,
            R.activation_derivative,
            ["activation", "param"],
            compare=["out"],
            terms=terms,
        )


def test_activation_backward_without_dout_names_dout():
    with pytest.raises(TypeError, match=arg("dout")):
        K.activation_backward(None, "tanh", a=np.zeros(3))


# ---- PReLU ---------------------------------------------------------------------------------
def prelu_slope_blame(case, slope_names, dslope=None):
    """slope has one value per feature of x, or one shared; dslope has slope's shape."""
    x, slope = case.args.get("x"), case.args.get("slope")
    if not isinstance(x, np.ndarray) or not isinstance(slope, np.ndarray) or x.ndim != 2:
        return
    if slope.ndim != 1 or slope.shape[0] not in (x.shape[1], 1):
        case.blame.update(slope_names)
    d = case.args.get(dslope) if dslope else None
    if isinstance(d, np.ndarray) and d.shape != slope.shape:
        case.blame.update((dslope, "slope"))


@fuzz(700)
@given(data=st.data())
def test_fuzz_prelu_forward(data):
    case = Case(data)
    n, f = case.draw(SIZE), case.draw(SIZE)
    shared = case.draw(st.booleans(), label="shared")
    case.add("x", case.values((n, f)), "in", ("n", "f"))
    case.add("slope", case.values((1 if shared else f,)), "in", None)
    maybe_out(case, "out", (n, f), ("n", "f"))
    case.corrupt()
    case.check_arrays()
    case.check_dims()
    prelu_slope_blame(case, ("slope", "x"))
    case.call(K.prelu_forward, R.prelu_forward, ["x", "slope"], compare=["out"], k=n)


@fuzz(800)
@given(data=st.data())
def test_fuzz_prelu_backward(data):
    case = Case(data)
    n, f = case.draw(SIZE), case.draw(SIZE)
    shared = case.draw(st.booleans(), label="shared")
    case.add("dout", case.values((n, f)), "in", ("n", "f"))
    case.add("x", case.values((n, f)), "in", ("n", "f"))
    case.add("slope", case.values((1 if shared else f,)), "in", None)
    case.scalar("input_grad", st.booleans(), invalid=(0, 1, None))
    maybe_out(case, "dx", (n, f), ("n", "f"))
    maybe_out(case, "dslope", (1 if shared else f,), None)
    case.corrupt()
    if not case.args["input_grad"]:
        case.ignored.add("dx")
    case.check_arrays()
    case.check_dims()
    prelu_slope_blame(case, ("slope", "x"), "dslope")
    case.call(
        K.prelu_backward,
        R.prelu_backward,
        ["dout", "x", "slope"],
        compare=["dx", "dslope"],
        k=n * f,
    )


# ---- softmax ---------------------------------------------------------------------------------
@fuzz(600)
@given(data=st.data(), log=st.booleans())
def test_fuzz_softmax(data, log):
    case = Case(data)
    n, k = case.draw(SIZE), case.draw(SIZE)
    case.add("x", case.values((n, k)), "in", ("n", "k"))
    maybe_out(case, "out", (n, k), ("n", "k"))
    case.corrupt()
    case.check_arrays()
    case.check_dims()
    x = case.args["x"]
    if isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[1] == 0:
        case.blame.add("x")
    kernel, reference = (K.log_softmax, R.log_softmax) if log else (K.softmax, R.softmax)
    case.call(kernel, reference, ["x"], compare=["out"], k=k)


# ---- matrix kernels --------------------------------------------------------------------------
def workspace_arg(case, needed):
    """A workspace of `needed` elements or a few more or fewer, or None; blames it when
    too small."""
    if case.draw(st.booleans(), label="give workspace"):
        size = max(0, needed + case.draw(st.sampled_from((0, 0, 5, -1))))
        case.add("workspace", np.zeros(size, case.dtype), "out")
    else:
        case.add("workspace", None, "out")


def check_workspace(case, size_function, *sizes):
    """Blames a workspace smaller than one thread's (a larger one runs on the threads it
    fits: docs/kernels.md)."""
    with K.threads(1):
        blame_small_workspace(case, size_function(*sizes, dtype=case.dtype))


def blame_small_workspace(case, needed):
    w = case.args.get("workspace")
    if isinstance(w, np.ndarray) and w.size < needed:
        case.blame.add("workspace")


@fuzz(800)
@given(data=st.data())
def test_fuzz_gemm(data):
    case = Case(data)
    m, n, k = case.draw(SIZE), case.draw(SIZE), case.draw(SIZE)
    ta = case.scalar("trans_a", st.booleans(), invalid=(0, 1, None, "yes"), p_invalid=0.2)
    tb = case.scalar("trans_b", st.booleans(), invalid=(0, 1, None, "yes"), p_invalid=0.2)
    case.add("a", case.values((k, m) if ta else (m, k)), "in", ("k", "m") if ta else ("m", "k"))
    case.add("b", case.values((n, k) if tb else (k, n)), "in", ("n", "k") if tb else ("k", "n"))
    numbers = st.one_of(
        st.sampled_from((0.0, 1.0, -0.5, 1e-46, np.nan, np.inf)),
        st.floats(-2, 2),
        st.integers(-2, 2),
        st.just(np.float32(0.5)),
    )
    case.scalar("alpha", numbers)
    beta = case.scalar("beta", numbers)
    read_c = isinstance(beta, (int, float, np.number)) and case.dtype.type(beta) != 0
    maybe_out(case, "c", (m, n), ("m", "n"), p=0.7, role="inout" if read_c else "out")
    workspace_arg(case, K.gemm_workspace_size(m, n, k, dtype=case.dtype))
    case.corrupt()
    for name in ("alpha", "beta"):
        value = case.args[name]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            case.blame.add(name)
    case.check_arrays(rows_only=("a", "b", "c"))
    case.check_dims()
    a, b = case.args["a"], case.args["b"]
    if isinstance(a, np.ndarray) and a.ndim != 2:
        case.blame.add("a")
    if isinstance(b, np.ndarray) and b.ndim != 2:
        case.blame.add("b")
    if case.args["c"] is None and "beta" not in case.blame and beta != 0:
        case.blame.add("beta")
    if all(isinstance(v, np.ndarray) and v.ndim == 2 for v in (a, b)):
        m, k = a.shape[::-1] if bool(case.args["trans_a"]) else a.shape
        n = b.shape[0] if bool(case.args["trans_b"]) else b.shape[1]
    check_workspace(case, K.gemm_workspace_size, m, n, k)
    case.call(K.gemm, R.gemm, ["a", "b", "c"], compare=["c"], k=k + 1)


def dense_sizes(case, n, i, o):
    """(n, in_features, out_features) as the call's x and weight give them (the drawn
    sizes when they are not 2-D arrays): what the binding sizes the workspace by."""
    x, w = case.args["x"], case.args["weight"]
    if all(isinstance(v, np.ndarray) and v.ndim == 2 for v in (x, w)):
        return x.shape[0], x.shape[1], w.shape[0]
    return n, i, o


@fuzz(800)
@given(data=st.data())
def test_fuzz_dense_forward(data):
    case = Case(data)
    n, i, o = case.draw(SIZE), case.draw(SIZE), case.draw(SIZE)
    case.add("x", case.values((n, i)), "in", ("n", "i"))
    case.add("weight", case.values((o, i)), "in", ("o", "i"))
    if case.draw(st.booleans(), label="bias"):
        case.add("bias", case.values((o,)), "in", ("o",))
    else:
        case.add("bias", None, "in", ("o",))
    activation_and_param(case)
    maybe_out(case, "out", (n, o), ("n", "o"))
    maybe_out(case, "z", (n, o), ("n", "o"))
    workspace_arg(case, K.dense_forward_workspace_size(n, i, o, dtype=case.dtype))
    case.corrupt()
    case.check_arrays()
    case.check_dims()
    check_workspace(case, K.dense_forward_workspace_size, *dense_sizes(case, n, i, o))
    case.call(
        K.dense_forward,
        R.dense_forward,
        ["x", "weight", "bias", "activation", "param"],
        compare=["out", "z"],
        k=i + 1,
    )


@fuzz(800)
@given(data=st.data())
def test_fuzz_dense_backward(data):
    case = Case(data)
    n, i, o = case.draw(SIZE), case.draw(SIZE), case.draw(SIZE)
    case.add("dout", case.values((n, o)), "in", ("n", "o"))
    case.add("x", case.values((n, i)), "in", ("n", "i"))
    case.add("weight", case.values((o, i)), "in", ("o", "i"))
    name, param = activation_and_param(case)
    for source in ("a", "z"):
        if case.draw(st.floats(0, 1), label=f"give {source}") < 0.8:
            case.add(source, case.values((n, o)), "in", ("n", "o"))
        else:
            case.add(source, None, "in", ("n", "o"))
    bias = case.scalar("bias", st.booleans(), invalid=(0, 1, None))
    input_grad = case.scalar("input_grad", st.booleans(), invalid=(0, 1, None))
    maybe_out(case, "dweight", (o, i), ("o", "i"))
    maybe_out(case, "dbias", (o,), ("o",))
    maybe_out(case, "dx", (n, i), ("n", "i"))
    workspace_arg(case, K.dense_backward_workspace_size(n, i, o, dtype=case.dtype))
    case.corrupt()
    reads = saves(name, param)
    if reads == "none":
        case.blame.add("activation")
    source = {"output": "a", "input": "z"}.get(reads)
    case.ignored.update({"a", "z"} - {source})
    if source is not None and case.args[source] is None:
        case.blame.add(source)
    if not bias:
        case.ignored.add("dbias")
    if not input_grad:
        case.ignored.add("dx")
    case.check_arrays()
    case.check_dims()
    check_workspace(case, K.dense_backward_workspace_size, *dense_sizes(case, n, i, o))
    case.call(
        K.dense_backward,
        R.dense_backward,
        ["dout", "x", "weight", "activation", "param"],
        compare=["dweight", "dbias", "dx"],
        k=max(n, i, o) + 1,
    )


# ---- losses ----------------------------------------------------------------------------------
LOSS_NAMES = ("softmax_cross_entropy", "sigmoid_binary_cross_entropy", "mse", "l1", "hinge")
FIRST = {
    "softmax_cross_entropy": "logits",
    "sigmoid_binary_cross_entropy": "logits",
    "mse": "pred",
    "l1": "pred",
    "hinge": "pred",
}
GRAD = {"logits": "dlogits", "pred": "dpred"}


def loss_target(case, loss, n, k, labels):
    """A valid target (most of the time), with now and then values outside its domain."""
    rng = case.rng
    if labels:
        dtype = case.draw(st.sampled_from(INT_DTYPES), label="label dtype")
        y = rng.integers(0, max(k, 1), size=n).astype(dtype)
        if n and case.draw(st.floats(0, 1), label="bad label") < 0.15:
            bad = (
                (k, k + 5, 2**63, 2**64 - 1)
                if dtype == np.uint64
                else (k, 255)
                if np.dtype(dtype).kind == "u"
                else (-1, k, 127)
            )
            y[rng.integers(n)] = case.draw(st.sampled_from(bad), label="label")
        return y
    if loss == "hinge":
        y = rng.choice((-1.0, 1.0), size=(n, k))
    elif loss == "softmax_cross_entropy":
        y = rng.dirichlet(np.ones(k), size=n) if k else np.zeros((n, k))
        y *= rng.choice((0.0, 1.0, 3.0), size=(n, 1))
    elif loss == "sigmoid_binary_cross_entropy":
        y = rng.choice((0.0, 0.3, 1.0), size=(n, k))
    else:
        y = rng.uniform(-2, 2, size=(n, k))
    if y.size and case.draw(st.floats(0, 1), label="bad target") < 0.2:
        y.flat[rng.integers(y.size)] = case.draw(st.sampled_from((np.nan, np.inf, -0.5, 1.5, 0.0)))
    return y.astype(case.dtype)


def target_blame(case, loss):
    """Blames a target outside the loss's domain (docs/kernels.md, losses)."""
    y, first = case.args["target"], case.args[FIRST[loss]]
    if not isinstance(y, np.ndarray) or not isinstance(first, np.ndarray):
        return
    if y.dtype.kind in "iu" and loss == "softmax_cross_entropy":
        if y.ndim != 1:
            case.blame.add("target")
        elif first.ndim == 2 and y.shape != first.shape[:1]:
            case.blame.add("target")
        elif y.size and (y.min() < 0 or (first.ndim == 2 and y.max() >= first.shape[1])):
            case.blame.add("target")
        return
    if y.dtype not in FLOATS or not y.dtype.isnative:
        case.blame.add("target")
        return
    if loss == "softmax_cross_entropy" and y.ndim not in (1, 2):
        case.blame.add("target")
    if loss == "softmax_cross_entropy" and y.ndim == 1:
        case.blame.add("target")  # float labels
        return
    if y.ndim != 2 or first.ndim != 2 or y.shape != first.shape:
        case.blame.add("target")
    with np.errstate(invalid="ignore"):
        if loss == "sigmoid_binary_cross_entropy" and not np.all((y >= 0) & (y <= 1)):
            case.blame.add("target")
        if loss == "softmax_cross_entropy" and not np.all((y >= 0) & np.isfinite(y)):
            case.blame.add("target")
        if loss == "hinge" and not np.all((y == 1) | (y == -1)):
            case.blame.add("target")


@pytest.mark.parametrize("row", [[np.nan, 0.0], [np.inf, 0.0], [-np.inf, -np.inf]])
def test_ce_probs_zero_row_nan_logits(row):
    """docs/kernels.md: terms with y_ij = 0 are 0, so an all-zero target row's loss is 0
    whatever its logits, as the reference says (the C kernel once gave 0 * NaN)."""
    logits = np.array([row, [0.0, 1.0]])
    target = np.array([[0.0, 0.0], [0.0, 1.0]])
    sample_loss = np.empty(2)
    with np.errstate(all="ignore"):
        K.softmax_cross_entropy(logits, target, sample_loss=sample_loss)
    assert sample_loss[0] == 0.0


@fuzz(1200)
@given(data=st.data(), loss=st.sampled_from(LOSS_NAMES))
def test_fuzz_losses(data, loss):
    case = Case(data)
    first, grad_name = FIRST[loss], GRAD[FIRST[loss]]
    n, k = case.draw(SIZE), case.draw(SIZE)
    case.add(first, case.values((n, k)), "in", ("n", "k"))
    labels = loss == "softmax_cross_entropy" and case.draw(st.booleans(), label="labels")
    case.add("target", loss_target(case, loss, n, k, labels), "in")
    if case.draw(st.booleans(), label="weights"):
        w = case.rng.choice((0.0, 0.5, 1.0, 2.0), size=n)
        if n and case.draw(st.floats(0, 1), label="bad weight") < 0.2:
            w[case.rng.integers(n)] = case.draw(st.sampled_from((np.nan, np.inf, -1.0)))
        case.add("sample_weight", w.astype(case.dtype), "in", ("n",))
    else:
        case.add("sample_weight", None, "in", ("n",))
    grad = case.scalar("grad", st.booleans(), invalid=(0, 1, None))
    maybe_out(case, grad_name, (n, k), ("n", "k"))
    maybe_out(case, "sample_loss", (n,), ("n",))
    case.corrupt()
    if not grad and case.args[grad_name] is not None:
        case.blame.add(grad_name)
    if not grad:
        case.ignored.add(grad_name)
    labels_given = (
        isinstance(case.args["target"], np.ndarray) and case.args["target"].dtype.kind in "iu"
    )
    if labels_given:  # labels: any integer dtype, byte order and layout
        case.roles["target"] = "scalar"
    case.check_arrays()
    if labels_given:
        case.roles["target"] = "in"
        case.check_overlaps()
    case.check_dims()
    p = case.args[first]
    if isinstance(p, np.ndarray) and p.ndim == 2 and 0 in p.shape:
        case.blame.add(first)
    target_blame(case, loss)
    w = case.args["sample_weight"]
    if isinstance(w, np.ndarray) and w.dtype in FLOATS:
        with np.errstate(all="ignore"):
            total = np.sum(w, dtype=np.float64)
            if not (np.all(np.isfinite(w) & (w >= 0)) and 0 < total < np.inf):
                case.blame.add("sample_weight")
    kernel, reference = getattr(K, loss), getattr(R, loss)
    k_eff = max(n, k) + 1

    def terms(args):  # a loss is a difference of larger terms (helpers.loss_terms)
        sample, total, gradient = loss_terms(
            loss, args[first], args["target"], args["sample_weight"]
        )
        return {"return": (total, gradient), grad_name: gradient, "sample_loss": sample}

    case.call(
        kernel,
        reference,
        [first, "target", "sample_weight"],
        compare=[grad_name, "sample_loss"],
        k=k_eff,
        terms=terms,
    )


# ---- optimizers ------------------------------------------------------------------------------
def spoiled(case, names):
    """The one hyperparameter of `names` that this example makes wrong (half the time),
    so that most calls are valid or wrong in one place."""
    return case.draw(st.sampled_from(names + ("",) * len(names)), label="spoiled")


def hyper(case, name, low, high, spoil, high_open=True):
    """A hyperparameter in [low, high) (as a float or an int), or, when `spoil` names it,
    one out of range, NaN, inf or of a wrong type; blames it when outside the range."""
    valid = st.one_of(
        st.floats(low, min(high, 10.0), exclude_max=True),
        st.just(low),
        st.integers(int(np.ceil(low)), 0 if high <= 1 else 2),
    )
    outside = st.sampled_from((low - 1.0, -1e-9, np.nan, np.inf, -np.inf, high) + NOT_A_NUMBER)
    value = case.scalar(name, outside if spoil == name else valid, p_invalid=0)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        case.blame.add(name)
    elif not (low <= value and (value < high if high_open else value <= high)):
        case.blame.add(name)
    return value


def step_arg(case, spoil):
    wrong = st.one_of(
        st.integers(-2, 0),
        st.sampled_from((2**63, 2**70, -(2**70), 1.0, "1", None, True, np.float64(2.0))),
    )
    value = case.scalar(
        "step",
        wrong
        if spoil == "step"
        else st.one_of(st.integers(1, 5), st.sampled_from((2**62, np.int32(3)))),
        p_invalid=0,
    )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        case.blame.add("step")
    elif not 1 <= value < 2**63:
        case.blame.add("step")


@fuzz(600)
@given(data=st.data())
def test_fuzz_sgd_update(data):
    case = Case(data)
    shape = tuple(case.draw(st.lists(SIZE, min_size=0, max_size=2), label="shape"))
    dims = tuple(f"d{i}" for i in range(len(shape)))
    case.add("param", case.values(shape), "inout", dims)
    case.add("grad", case.values(shape), "in", dims)
    maybe_out(case, "momentum_buffer", shape, dims, p=0.7, role="inout")
    spoil = spoiled(case, ("step", "lr", "momentum", "dampening", "weight_decay"))
    step_arg(case, spoil)
    hyper(case, "lr", 0.0, np.inf, spoil)
    mu = hyper(case, "momentum", 0.0, np.inf, spoil)
    damp = hyper(case, "dampening", 0.0, np.inf, spoil)
    hyper(case, "weight_decay", 0.0, np.inf, spoil)
    nesterov = case.scalar("nesterov", st.booleans(), invalid=(0, 1, None))
    case.corrupt()
    if nesterov and not ({"momentum", "dampening"} & case.blame) and (mu <= 0 or damp != 0):
        case.blame.update(("nesterov", "momentum", "dampening"))
    if "momentum" not in case.blame and mu == 0:
        case.ignored.add("momentum_buffer")
    elif case.args["momentum_buffer"] is None:
        case.blame.add("momentum_buffer")
    case.check_arrays()
    case.check_same_shape(["param", "grad", "momentum_buffer"])
    case.call(
        K.sgd_update,
        R.sgd_update,
        ["param", "grad", "momentum_buffer"],
        compare=["param", "momentum_buffer"],
    )


@fuzz(600)
@given(data=st.data())
def test_fuzz_adam_update(data):
    case = Case(data)
    shape = tuple(case.draw(st.lists(SIZE, min_size=0, max_size=2), label="shape"))
    dims = tuple(f"d{i}" for i in range(len(shape)))
    case.add("param", case.values(shape), "inout", dims)
    case.add("grad", case.values(shape), "in", dims)
    case.add("exp_avg", case.values(shape), "inout", dims)
    case.add("exp_avg_sq", np.abs(case.values(shape)), "inout", dims)
    spoil = spoiled(case, ("step", "lr", "beta1", "beta2", "eps", "weight_decay"))
    step_arg(case, spoil)
    hyper(case, "lr", 0.0, np.inf, spoil)
    hyper(case, "beta1", 0.0, 1.0, spoil)
    hyper(case, "beta2", 0.0, 1.0, spoil)
    hyper(case, "eps", 0.0, np.inf, spoil)
    hyper(case, "weight_decay", 0.0, np.inf, spoil)
    case.scalar("decoupled_weight_decay", st.booleans(), invalid=(0, 1, None))
    case.corrupt()
    case.check_arrays()
    case.check_same_shape(["param", "grad", "exp_avg", "exp_avg_sq"])
    case.call(
        K.adam_update,
        R.adam_update,
        ["param", "grad", "exp_avg", "exp_avg_sq"],
        compare=["param", "exp_avg", "exp_avg_sq"],
    )


# ---- metrics ---------------------------------------------------------------------------------
@fuzz(600)
@given(data=st.data())
def test_fuzz_count_argmax_hits(data):
    case = Case(data)
    n, k = case.draw(SIZE), case.draw(SIZE)
    case.add("out", case.values((n, k)), "in", ("n", "k"))
    dtype = case.draw(st.sampled_from(INT_DTYPES + (np.float64, np.bool_)), label="labels")
    labels = case.rng.integers(0, max(k, 1) + 1, size=n)
    if n and dtype in (np.int8, np.int64) and case.draw(st.booleans()):
        labels[0] = -1
    case.add("labels", labels.astype(dtype), "in", ("n",))
    if n and dtype == np.uint64 and case.draw(st.booleans()):
        case.args["labels"][0] = 2**64 - 1
    case.corrupt(
        kinds=("dtype", "byteorder", "shape", "ndim", "layout", "readonly", "list", "unaligned")
    )
    y = case.args["labels"]
    case.roles["labels"] = "scalar"  # any integer dtype, byte order and layout
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu":
        case.blame.add("labels")
    case.check_arrays()
    case.check_dims()
    o = case.args["out"]
    if isinstance(o, np.ndarray) and o.ndim == 2 and o.shape[1] == 0:
        case.blame.add("out")
    case.call(K.count_argmax_hits, R.count_argmax_hits, ["out", "labels"])


# ---- sizes, threads, SIMD paths --------------------------------------------------------------
SIZE_FUNCTIONS = {
    "gemm_workspace_size": ("m", "n", "k"),
    "dense_forward_workspace_size": ("n", "in_features", "out_features"),
    "dense_backward_workspace_size": ("n", "in_features", "out_features"),
}


@fuzz(600)
@given(
    function=st.sampled_from(sorted(SIZE_FUNCTIONS)),
    sizes=st.lists(
        st.one_of(
            st.integers(0, 50),
            st.integers(-3, 2**70),
            st.sampled_from((2**31, 2**32 + 1, 2**40, 2**62, 2**63 - 1)),
            st.sampled_from((1.0, "3", None, True, np.int32(4), np.uint64(2**63))),
        ),
        min_size=3,
        max_size=3,
    ),
    dtype=st.sampled_from(
        (
            np.float32,
            np.float64,
            "float32",
            np.float16,
            np.int64,
            None,
            "f8",
            "garbage",
            [1],
            np.dtype(">f8"),
        )
    ),
)
def test_fuzz_workspace_sizes(function, sizes, dtype):
    """An int >= 0 for sizes that fit; TypeError/ValueError naming the size (or dtype)
    otherwise, in particular for sizes whose products overflow int64."""
    names = SIZE_FUNCTIONS[function]
    blame = set()
    for name, value in zip(names, sizes):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            blame.add(name)
        elif not 0 <= value < 2**63:
            blame.add(name)
    if not blame:
        for (i, a), (j, b) in [
            ((0, sizes[0]), (1, sizes[1])),
            ((0, sizes[0]), (2, sizes[2])),
            ((1, sizes[1]), (2, sizes[2])),
        ]:
            if (int(a) + 64) * (int(b) + 64) >= 2**62:
                blame.update((names[i], names[j]))
    if dtype not in (np.float32, np.float64, "float32", "f8"):
        blame.add("dtype")
    try:
        size = getattr(K, function)(*sizes, dtype=dtype)
    except (TypeError, ValueError) as error:
        assert blame, f"{function}{tuple(sizes)} raised {error!r}"
        assert any(re.search(arg(n), str(error)) for n in blame), str(error)
        return
    assert not blame, f"{function}{tuple(sizes)} returned {size} although {blame} are wrong"
    assert type(size) is int and 0 <= size < 2**62


def test_workspace_size_overflow_names_the_sizes():
    for function, names in SIZE_FUNCTIONS.items():
        with pytest.raises(ValueError, match=arg(names[0])):
            getattr(K, function)(2**40, 2**40, 2**40)


@fuzz(200)
@given(
    n=st.one_of(
        st.integers(-3, 8),
        st.sampled_from((K.MAX_THREADS, K.MAX_THREADS + 1, 4096, 2**31, 2**63, 2**70, -(2**70))),
        st.sampled_from((1.0, "2", None, True, np.int8(2), np.uint64(2**64 - 1))),
    ),
    name=st.one_of(
        st.sampled_from(K.SIMD_NAMES + ("AVX2", "", "neon")), st.sampled_from((None, 1, b"avx2"))
    ),
)
def test_fuzz_threads_and_simd_paths(n, name):
    saved_path, saved_threads = K.get_simd_path(), K.get_num_threads()
    try:
        bad_n = isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer))
        wrong = bad_n or not 1 <= n <= K.MAX_THREADS
        try:
            K.set_num_threads(n)
        except (TypeError, ValueError) as error:
            assert wrong and re.search(arg("n"), str(error)), (n, error)
        else:
            assert not wrong and K.get_num_threads() == n
        try:
            K.set_simd_path(name)
        except TypeError as error:
            assert not isinstance(name, str) and re.search(arg("name"), str(error))
        except ValueError as error:
            assert name not in K.simd_paths() and re.search(r"SIMD path", str(error))
        else:
            assert name in K.simd_paths() and K.get_simd_path() == name
    finally:
        K.set_simd_path(saved_path)
        K.set_num_threads(saved_threads)


# ---- Network (of Dense layers) -----------------------------------------------------------------
STACK_LOSSES = ("mse", "l1", "sigmoid_binary_cross_entropy", "softmax_cross_entropy", "hinge")
LAYER_KEYS = ("weight", "bias", "dweight", "dbias", "activation", "param", "out", "z", "dx")
DIFFERENTIABLE = (
    ("identity", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("leaky_relu", 0.1),
    ("leaky_relu", -0.2),
    ("softplus", None),
    ("elu", 0.7),
)


def stack_targets(rng, loss, labels, rows, k, dtype):
    """Valid targets (rows, k) for the loss, or int64 labels (rows,); never an all-zero
    probability row (see zero_row_of_undefined_lse)."""
    if labels:
        return rng.integers(0, k, rows).astype(np.int64)
    if loss == "softmax_cross_entropy":
        return rng.dirichlet(np.ones(k), size=rows).astype(dtype)
    if loss == "sigmoid_binary_cross_entropy":
        return rng.uniform(0, 1, (rows, k)).astype(dtype)
    if loss == "hinge":
        return rng.choice((-1.0, 1.0), (rows, k)).astype(dtype)
    return rng.uniform(-2, 2, (rows, k)).astype(dtype)


def key(i, name):
    return f"layers[{i}]['{name}']"


def stack_case(data):
    """A Network's arguments as a Case whose arrays are named layers[i]['weight'],
    ..., x, target, dout, sample_loss, workspace; and its structure."""
    case = Case(data)
    rng, dtype = case.rng, case.dtype
    n = case.draw(POSITIVE, label="n")
    widths = [case.draw(SIZE, label="in")] + case.draw(
        st.lists(POSITIVE, min_size=1, max_size=3), label="widths"
    )
    loss = case.draw(st.sampled_from(STACK_LOSSES), label="loss")
    labels = loss == "softmax_cross_entropy" and case.draw(st.booleans(), label="labels")
    acts = [case.draw(st.sampled_from(DIFFERENTIABLE), label="act") for _ in widths[1:]]
    biases = [case.draw(st.booleans(), label="bias") for _ in widths[1:]]
    for i, (fin, fout) in enumerate(zip(widths[:-1], widths[1:])):
        w, o = f"w{i}", f"w{i + 1}"
        case.add(key(i, "weight"), rng.uniform(-0.5, 0.5, (fout, fin)).astype(dtype), "in", (o, w))
        case.add(
            key(i, "bias"),
            rng.uniform(-0.5, 0.5, fout).astype(dtype) if biases[i] else None,
            "in",
            (o,),
        )
        case.add(key(i, "dweight"), np.full((fout, fin), 7, dtype), "out", (o, w))
        case.add(key(i, "dbias"), np.full(fout, 7, dtype) if biases[i] else None, "out", (o,))
        case.add(key(i, "out"), np.zeros((n, fout), dtype), "out", ("n", o))
        saves_input = R.activation_saves(*acts[i]) == "input"
        case.add(key(i, "z"), np.zeros((n, fout), dtype) if saves_input else None, "out", ("n", o))
        case.add(key(i, "dx"), np.zeros((n, fin), dtype) if i else None, "out", ("n", w))
    last = f"w{len(widths) - 1}"
    case.add("x", case.values((n, widths[0])), "out", ("n", "w0"))
    case.add(
        "target",
        stack_targets(rng, loss, labels, n, widths[-1], dtype),
        "out",
        ("n",) if labels else ("n", last),
    )
    case.add("dout", np.zeros((n, widths[-1]), dtype), "out", ("n", last))
    case.add("sample_loss", np.zeros(n, dtype), "out", ("n",))
    needed = max(
        max(
            K.dense_forward_workspace_size(n, a, b, dtype=dtype),
            K.dense_backward_workspace_size(n, a, b, dtype=dtype),
        )
        for a, b in zip(widths[:-1], widths[1:])
    )
    workspace_arg(case, needed)
    case.structure = dict(n=n, widths=widths, loss=loss, labels=labels, acts=acts, needed=needed)
    return case


def stack_layers(case, args):
    s = case.structure
    layers = []
    for i, (name, param) in enumerate(s["acts"]):
        layer = {"kind": "dense", **{k: args.get(key(i, k)) for k in LAYER_KEYS}}
        layer["activation"], layer["param"] = name, param
        layers.append(layer)
    return layers


def stack_blame(case):
    """What the binding must refuse in the step's buffers (docs/kernels.md)."""
    s = case.structure
    case.check_arrays()
    case.check_dims()
    for i in range(len(s["acts"])):
        bias, dbias = case.args[key(i, "bias")], case.args[key(i, "dbias")]
        if (bias is None) != (dbias is None):
            case.blame.update((key(i, "bias"), key(i, "dbias")))
    target = case.args["target"]
    if (
        isinstance(target, np.ndarray)
        and target.ndim == 1
        and s["loss"] == "softmax_cross_entropy"
    ):
        # labels: int64 in the machine's byte order (a float 1-D target is refused too)
        if target.dtype != np.int64:
            case.blame.add("target")
        elif "target" in case.blame and target.dtype.isnative:
            # check_arrays took it for a float array: only layout, alignment and
            # overlaps count
            case.blame.discard("target")
            if not (target.flags.c_contiguous and target.flags.writeable and target.flags.aligned):
                case.blame.add("target")
            case.check_overlaps()
        x = case.args["x"]
        if isinstance(x, np.ndarray) and target.shape != x.shape[:1]:
            case.blame.add("target")
    elif isinstance(target, np.ndarray) and target.ndim == 1:
        case.blame.add("target")
    x = case.args["x"]
    if isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[0] == 0:
        case.blame.add("x")
    blame_small_workspace(case, s["needed"])


@fuzz(700)
@given(data=st.data())
def test_fuzz_network_step(data):
    """Network(...) refuses wrong buffers naming them; a step that is made runs
    (on the batch it holds, or gathering rows of X and targets) as the reference's."""
    case = stack_case(data)
    s = case.structure
    case.corrupt()
    stack_blame(case)
    try:
        step = K.Network(
            stack_layers(case, case.args),
            s["loss"],
            case.args["x"],
            case.args["target"],
            case.args["dout"],
            case.args["sample_loss"],
            case.args["workspace"],
        )
    except (TypeError, ValueError) as error:
        hypothesis.event("refused")
        assert case.blame, f"Network raised for a valid call: {error!r}"
        assert any(re.search(arg(n), str(error)) for n in blame_words(case.blame)), (
            f"{error} names none of {sorted(case.blame)}"
        )
        return
    assert not case.blame, f"Network made although {sorted(case.blame)} are wrong"
    assert step.workspace_size == s["needed"]
    buffers = {n: v for n, v in case.args.items() if isinstance(v, np.ndarray)}
    ref_buffers = {n: v.copy() for n, v in buffers.items()}
    ref_step = RN.Network(
        stack_layers(case, ref_buffers),
        s["loss"],
        ref_buffers["x"],
        ref_buffers["target"],
        ref_buffers["dout"],
        ref_buffers["sample_loss"],
        None,
    )
    run_and_compare(case, step, ref_step, buffers, ref_buffers)


def run_and_compare(case, step, ref_step, buffers, ref_buffers):
    s, rng, dtype = case.structure, case.rng, case.dtype
    run = Case(case.draw(st.data(), label="run"), dtype)
    run.rng = rng
    gather = run.draw(st.booleans(), label="gather")
    if gather:
        rows_n = run.draw(POSITIVE, label="X rows")
        run.add("X", run.values((rows_n, s["widths"][0])), "in", ("N", "w0"))
        run.add("rows", rng.integers(0, rows_n, s["n"]).astype(np.int64), "in", ("n",))
        run.roles["rows"] = "scalar"  # int64 (n,), checked below
        run.add(
            "targets",
            stack_targets(rng, s["loss"], s["labels"], rows_n, s["widths"][-1], dtype),
            "in",
            ("N",) if s["labels"] else ("N", "k"),
        )
        kind = run.draw(
            st.sampled_from(("none", "rows", "X", "targets", "overlap")), label="run corruption"
        )
        if kind == "rows":
            bad = run.draw(st.sampled_from(("range", "negative", "int32", "strided")))
            if bad == "range":
                run.args["rows"][0] = rows_n
            elif bad == "negative":
                run.args["rows"][-1] = -1
            elif bad == "int32":
                run.args["rows"] = run.args["rows"].astype(np.int32)
            else:
                run.args["rows"] = np.repeat(run.args["rows"], 2)[::2]
            if bad != "strided" or not run.args["rows"].flags.c_contiguous:
                run.blame.add("rows")
        elif kind in ("X", "targets"):
            run.corrupt(
                [kind],
                kinds=(
                    "dtype",
                    "byteorder",
                    "shape",
                    "ndim",
                    "layout",
                    "list",
                    "readonly",
                    "unaligned",
                ),
                max_count=1,
            )
            t = run.args["targets"]
            if (
                kind == "targets"
                and not s["labels"]
                and isinstance(t, np.ndarray)
                and t.dtype in FLOATS
                and t.size
                and run.draw(st.booleans())
            ):
                t = t.copy()
                t.flat[0] = run.draw(st.sampled_from((np.nan, -1.0, 2.0, 0.5)))
                run.args["targets"] = t
                # only the gathered rows are read, and checked
                if (
                    isinstance(run.args["rows"], np.ndarray)
                    and run.args["rows"].max() < t.shape[0]
                ):
                    target_domain_blame(run, "targets", t[run.args["rows"]], s["loss"])
        elif kind == "overlap":  # X is a buffer the step writes
            written = [
                n
                for n in buffers
                if case.roles[n] == "out"
                and buffers[n].size
                and buffers[n].ndim == 2
                and buffers[n].shape[1] == s["widths"][0]
            ]
            if written:
                run.args["X"] = buffers[run.draw(st.sampled_from(written))]
                run.blame.add("X")
        t = run.args["targets"]
        if isinstance(t, np.ndarray) and t.ndim == 2 and t.shape[1] != s["widths"][-1]:
            run.blame.add("targets")
        if s["labels"]:  # int64 labels, C-contiguous (checked here, not as a float array)
            run.roles["targets"] = "scalar"
            if not isinstance(t, np.ndarray) or t.dtype != np.int64 or not t.flags.c_contiguous:
                run.blame.add("targets")
        run.check_arrays()
        run.check_dims()
        x_arg, rows = run.args["X"], run.args["rows"]
        if isinstance(x_arg, np.ndarray) and x_arg.ndim == 2 and rows.max() >= x_arg.shape[0]:
            run.blame.update(("X", "rows"))
        if isinstance(x_arg, np.ndarray) and x_arg.ndim == 2 and x_arg.shape[1] != s["widths"][0]:
            run.blame.add("X")
        args = (run.args["X"], run.args["rows"], run.args["targets"])
    else:
        if not s["labels"] and run.draw(st.floats(0, 1), label="bad target") < 0.2:
            t = buffers["target"]
            t.flat[0] = run.draw(st.sampled_from((np.nan, -1.0, 2.0, 0.5)))
            ref_buffers["target"].flat[0] = t.flat[0]
            target_domain_blame(run, "target", t, s["loss"])
        elif s["labels"] and run.draw(st.floats(0, 1), label="bad label") < 0.2:
            buffers["target"][0] = ref_buffers["target"][0] = s["widths"][-1]
            run.blame.add("target")
        args = (None, None, None)
    try:
        with np.errstate(all="ignore"):
            loss, hits = step.step(*args)
    except (TypeError, ValueError) as error:
        hypothesis.event("run refused")
        assert run.blame, f"Network.step raised for a valid call: {error!r}"
        assert any(re.search(arg(n), str(error)) for n in blame_words(run.blame)), (
            f"{error} names none of {sorted(run.blame)}"
        )
        return
    hypothesis.event("run returned")
    assert not run.blame, f"Network.step returned although {sorted(run.blame)} are wrong"
    ref_args = tuple(copy(a) for a in args)
    with np.errstate(all="ignore"):
        ref_loss, ref_hits = ref_step.step(*ref_args)
    k = max(s["widths"]) + s["n"]
    # Errors are measured against O(1) (floor=1): weights, data and targets are O(1), and a
    # gradient that cancels to 0 in one summation order (rows that share their values) is
    # known only to within the rounding of its O(1) terms.
    assert type(loss) is float
    assert hits == ref_hits
    with np.errstate(all="ignore"):
        assert_close(loss, ref_loss, dtype, k=k, floor=1.0, what="loss")
        for name, value in buffers.items():
            if value.dtype == np.int64:  # the labels
                np.testing.assert_array_equal(value, ref_buffers[name])
            elif name != "workspace":  # scratch
                assert_close(value, ref_buffers[name], dtype, k=k, floor=1.0, what=name)


def target_domain_blame(case, name, t, loss):
    with np.errstate(invalid="ignore"):
        if loss == "sigmoid_binary_cross_entropy" and not np.all((t >= 0) & (t <= 1)):
            case.blame.add(name)
        if loss == "softmax_cross_entropy" and not np.all((t >= 0) & np.isfinite(t)):
            case.blame.add(name)
        if loss == "hinge" and not np.all((t == 1) | (t == -1)):
            case.blame.add(name)


@fuzz(200)
@given(
    data=st.data(),
    change=st.sampled_from(
        (
            "missing key",
            "extra key",
            "not a dict",
            "activation",
            "step activation",
            "z",
            "dx first",
            "dx missing",
            "loss",
            "layers",
            "empty layers",
            "out None",
        )
    ),
)
def test_fuzz_network_step_structure(data, change):
    """Wrong layer descriptions, activations and losses are refused, naming what is wrong."""
    case = stack_case(data)
    s = case.structure
    layers = stack_layers(case, case.args)
    loss = s["loss"]
    i = case.draw(st.integers(0, len(layers) - 1), label="layer")
    expect = {
        "missing key": "layers",
        "extra key": "layers",
        "not a dict": "layers",
        "activation": "activation",
        "step activation": "activation",
        "z": "z",
        "dx first": "dx",
        "dx missing": "dx",
        "loss": "loss",
        "layers": "layers",
        "empty layers": "layers",
        "out None": "out",
    }[change]
    if change == "missing key":
        del layers[i][case.draw(st.sampled_from(LAYER_KEYS))]
    elif change == "extra key":
        layers[i]["a"] = None
    elif change == "not a dict":
        layers[i] = list(layers[i].values())
    elif change == "activation":
        layers[i]["activation"] = case.draw(st.sampled_from(("softmax", None, 1)))
    elif change == "step activation":
        layers[i]["activation"], layers[i]["param"] = "step", None
    elif change == "z":
        saves_input = R.activation_saves(*s["acts"][i]) == "input"
        layers[i]["z"] = None if saves_input else np.zeros_like(layers[i]["out"])
    elif change == "dx first":
        layers[0]["dx"] = np.zeros((s["n"], s["widths"][0]), case.dtype)
    elif change == "dx missing":
        if len(layers) == 1:
            return
        layers[-1]["dx"] = None
    elif change == "loss":
        loss = case.draw(st.sampled_from(("cross_entropy", None, "MSE", "hinge ")))
    elif change == "layers":
        layers = case.draw(st.sampled_from((None, "layers", layers[0])))
    elif change == "empty layers":
        layers = []
    else:
        layers[i]["out"] = None
    with pytest.raises((TypeError, ValueError), match=arg(expect)):
        K.Network(
            layers,
            loss,
            case.args["x"],
            case.args["target"],
            case.args["dout"],
            case.args["sample_loss"],
            case.args["workspace"],
        )


# ---- regressions: bugs the fuzzing found -------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: K.activation_derivative(3, a=np.zeros(2)),
        lambda: K.activation_backward(np.zeros(2), None, a=np.zeros(2)),
    ],
)
def test_non_str_activation_of_derivatives_names_activation(call):
    """Was Cython's own "Expected str, got int" (a typed parameter), naming nothing."""
    with pytest.raises(TypeError, match=arg("activation")):
        call()


@pytest.mark.parametrize(
    "name, call",
    [
        ("n", lambda: K.set_num_threads(2**70)),
        ("step", lambda: K.sgd_update(np.zeros(2), np.zeros(2), step=2**63, lr=0.1)),
        (
            "step",
            lambda: K.adam_update(
                np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), step=-(2**70)
            ),
        ),
        ("m", lambda: K.gemm_workspace_size(2**64, 1, 1)),
        ("n", lambda: K.dense_forward_workspace_size(np.uint64(2**63), 1, 1)),
    ],
)
def test_integers_beyond_int64_are_value_errors(name, call):
    """Was OverflowError (the conversion to int64_t), which names no argument."""
    with pytest.raises(ValueError, match=arg(name)):
        call()


@pytest.mark.parametrize("sizes", [(2**62, 1, 1), (1, 2**61, 2), (2**31, 2**31, 0)])
def test_workspace_sizes_refuse_products_the_c_code_would_overflow(sizes):
    """The C code multiplies sizes rounded up to tiles (gemm_swaps: round_up(m, MR) *
    round_up(n, NR)): (2**62, 1, 1) passed the old check (products <= 2**62) and overflowed
    int64 there (undefined behaviour)."""
    for function in SIZE_FUNCTIONS:
        with pytest.raises(ValueError, match="too large"):
            getattr(K, function)(*sizes)


@pytest.mark.parametrize("dtype", [None, "garbage", [1]])
def test_workspace_size_dtype_is_checked(dtype):
    """None was taken as float64 (np.dtype(None)); a bad name gave NumPy's message, which
    does not name the argument."""
    with pytest.raises(TypeError, match=arg("dtype")):
        K.gemm_workspace_size(2, 2, 2, dtype=dtype)


@pytest.mark.parametrize("alpha", [np.nan, np.inf])
def test_reference_gemm_with_k_zero_reads_no_alpha(alpha):
    """docs/kernels.md: with k == 0, a and b are not read and c = beta * c; the reference
    gave NaN (alpha * an empty product)."""
    a, b = np.zeros((2, 0)), np.zeros((0, 3))
    for impl in (K, R):
        np.testing.assert_array_equal(impl.gemm(a, b, alpha=alpha), np.zeros((2, 3)))


def test_reference_returns_arrays_for_0d_inputs():
    """The kernels return a 0-d array for a 0-d x; the reference returned a NumPy scalar."""
    for impl in (K, R):
        result = impl.activation_forward(np.array(0.5), "tanh")
        assert isinstance(result, np.ndarray) and result.shape == ()
