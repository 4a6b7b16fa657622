"""Every public function, class and method of pynn's API has a numpydoc docstring (issue 16).

What is checked (`_public_objects`): the names of `pynn.__all__`, of `__all__` in pynn.data,
pynn.datasets, pynn.layers, pynn.optim, pynn.losses, pynn.memory, pynn.metrics and
pynn.sklearn (when scikit-learn is installed), and every public function and class defined
in the modules of DOCUMENTED_MODULES; for each class, its public methods and properties
(those defined in pynn, inherited ones included, each checked once where it is defined; a
method overriding a documented one without a docstring of its own inherits that docstring,
as inspect.getdoc and Sphinx read it; a class needs its own). Modules and constants (LOSSES,
METRICS, __version__) are not callables and are skipped.

The rule (`_problems`), for each of them:
- a docstring whose first line is a summary;
- a "Parameters" section naming every parameter when the callable takes any (for a class,
  those of its __init__, documented in the class docstring as numpydoc asks; a class whose
  __init__ is inherited from outside pynn, as an exception's, takes none of its own;
  `self`/`cls` do not count);
- a "Returns" (or, for a generator, "Yields") section when it returns something: when its
  return annotation is not None, or, without one, when its body has a `return <value>`
  (a value other than None) or a `yield`. A function annotated `-> None`, or without an
  annotation and with no such statement, returns nothing and needs no section. Classes
  need no Returns; properties are documented as attributes: a summary line (their type is
  their annotation).
"""

import ast
import importlib
import importlib.util
import inspect
import textwrap
import types

import pytest

import pynn

# Modules whose public functions and classes are all checked, beyond the __all__ lists.
DOCUMENTED_MODULES = [
    "pynn",
    "pynn.core.model",
    "pynn.core.model_parameters",
    "pynn.core.model_plans",
    "pynn.core.model_inference",
    "pynn.core.model_training",
    "pynn.core.layers",
    "pynn.core.layers.activation",
    "pynn.core.layers.affine",
    "pynn.core.layers.base",
    "pynn.core.layers.dense",
    "pynn.core.layers.maxout",
    "pynn.core.layers.prelu",
    "pynn.core.layers.standardize",
    "pynn.core.losses",
    "pynn.core.optim",
    "pynn.core.optim.adam",
    "pynn.core.optim.base",
    "pynn.core.optim.schedulers",
    "pynn.core.optim.sgd",
    "pynn.core.early_stopping",
    "pynn.core.errors",
    "pynn.core.harden",
    "pynn.core.persistence",
    "pynn.data",
    "pynn.data.split",
    "pynn.data.preprocessing",
    "pynn.data.model_selection",
    "pynn.data.scorers",
    "pynn.data.folds",
    "pynn.data.parallel_fits",
    "pynn.data.cross_validation",
    "pynn.data.parameter_search",
    "pynn.data._arrays",
    "pynn.datasets",
    "pynn.datasets.digits",
    "pynn.datasets.idx",
    "pynn.datasets.npy",
    "pynn.datasets.synthetic",
    "pynn.core.summary",
    "pynn.core.activations",
    "pynn.core.checks",
    "pynn.core.random_state",
    "pynn.core.plans",
    "pynn.core.network",
    "pynn.core.memory",
    "pynn.core.inputs",
    "pynn.core.targets",
    "pynn.core.target_checks",
    "pynn.core.files",
    "pynn.core.init",
    "pynn.core.backend",
    "pynn._config",
    "pynn._threadpoolctl",
    "pynn.metrics",
    "pynn.datasets.csv_table",
    "pynn.gradcheck",
    "pynn.core.training",
    "pynn.sklearn.estimators",
]
ALL_MODULES = [
    "pynn",
    "pynn.data",
    "pynn.datasets",
    "pynn.layers",
    "pynn.optim",
    "pynn.losses",
    "pynn.memory",
    "pynn.metrics",
    "pynn.sklearn",
]


def _defined_in_pynn(obj):
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "pynn"


def _unwrap(member):
    """The function behind a class attribute (staticmethod, classmethod, property)."""
    if isinstance(member, (staticmethod, classmethod)):
        return member.__func__
    return member


def _class_members(cls):
    """(qualified name, object) of the public methods and properties of cls that pynn
    defines, each once, under the class that defines it."""
    for klass in cls.__mro__:
        if not _defined_in_pynn(klass):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_"):
                continue
            member = _unwrap(member)
            function = member.fget if isinstance(member, property) else member
            if not inspect.isroutine(function) or not _defined_in_pynn(function):
                continue  # an attribute, or made outside pynn (scikit-learn's set_*_request)
            yield f"{klass.__module__}.{klass.__qualname__}.{name}", member


def _public_objects():
    found = {}

    def add(qualname, obj):
        if qualname in found:
            return
        found[qualname] = obj
        if inspect.isclass(obj):
            for name, member in _class_members(obj):
                found.setdefault(name, member)

    def qualified(obj):
        return f"{obj.__module__}.{obj.__qualname__}"

    for module_name in ALL_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # pynn.sklearn without scikit-learn
            continue
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType) or not callable(obj):
                continue
            add(qualified(obj) if hasattr(obj, "__qualname__") else f"{module_name}.{name}", obj)
    for module_name in DOCUMENTED_MODULES:
        module = importlib.import_module(module_name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if getattr(obj, "__module__", None) != module_name:
                continue  # imported from elsewhere: checked where it is defined
            add(qualified(obj), obj)
    return found


PUBLIC = _public_objects()


def _sections(doc):
    """{section title: its text} of a numpydoc docstring."""
    sections, title, lines = {}, None, []
    doc_lines = doc.splitlines()
    for i, line in enumerate(doc_lines):
        underline = doc_lines[i + 1].strip() if i + 1 < len(doc_lines) else ""
        if (
            line.strip()
            and underline
            and set(underline) == {"-"}
            and len(underline) >= len(line.strip())
        ):
            if title is not None:
                sections[title] = "\n".join(lines)
            title, lines = line.strip(), []
        elif title is not None:
            lines.append(line)
    if title is not None:
        sections[title] = "\n".join(lines)
    return sections


def _documented_names(text):
    """The names a Parameters section documents: its least indented lines, "name : type"
    or "name1, name2 : type" (numpydoc's form for parameters sharing a description)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return set()
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    names = set()
    for line in lines:
        if len(line) - len(line.lstrip()) == indent:
            head = line.split(" : ")[0] if " : " in line else line
            names.update(part.strip().lstrip("*") for part in head.split(","))
    return names


def _parameter_names(obj):
    """The names a Parameters section must document ([] when it takes none)."""
    if inspect.isclass(obj):
        owner = next(klass for klass in obj.__mro__ if "__init__" in vars(klass))
        if not _defined_in_pynn(owner):  # object's, or an exception's: none of its own
            return []
        target = vars(owner)["__init__"]
    else:
        target = obj
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [name for name in signature.parameters if name not in ("self", "cls")]


def _returns_value(obj):
    """(returns something, is a generator) by the rule of the module docstring."""
    annotation = getattr(obj, "__annotations__", {}).get("return", inspect.Signature.empty)
    generator = inspect.isgeneratorfunction(obj)
    if annotation is not inspect.Signature.empty:
        return annotation not in (None, "None"), generator
    try:
        source = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):  # compiled (Cython) without an annotation
        return True, generator
    function = ast.parse(source).body[0]

    def walk(node):  # the function's own statements, not those of nested functions
        for child in ast.iter_child_nodes(node):
            if isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
            ):
                continue
            yield child
            yield from walk(child)

    for node in walk(function):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True, True
        if (
            isinstance(node, ast.Return)
            and node.value is not None
            and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            return True, generator
    return False, generator


def _crowded_titles(doc):
    """The section titles not preceded by a blank line (numpydoc and Sphinx read the title
    as part of the text above it)."""
    lines = doc.splitlines()
    return [
        f"no blank line before the {line.strip()} section"
        for i, line in enumerate(lines[1:-1], start=1)
        if line.strip()
        and set(lines[i + 1].strip()) == {"-"}
        and len(lines[i + 1].strip()) >= len(line.strip())
        and lines[i - 1].strip()
    ]


def _problems(obj):
    if inspect.isclass(obj):  # a class's own docstring: it says what this class is
        doc = inspect.cleandoc(obj.__doc__ or "")
    else:  # a method that overrides one without a docstring inherits its docstring
        doc = inspect.getdoc(obj.fget if isinstance(obj, property) else obj)
    if not doc or not doc.strip().splitlines()[0].strip():
        return ["no docstring (a summary line first)"]
    if isinstance(obj, property):
        return []
    problems = _crowded_titles(doc)
    sections = _sections(doc)
    names = _parameter_names(obj)
    if names:
        if "Parameters" not in sections:
            problems.append(f"no Parameters section (takes {', '.join(names)})")
        else:
            documented = _documented_names(sections["Parameters"])
            for name in names:
                if name not in documented:
                    problems.append(f"Parameters does not document {name!r}")
    if not inspect.isclass(obj):
        returns, generator = _returns_value(obj)
        if returns:
            wanted = "Yields" if generator else "Returns"
            if wanted not in sections:
                problems.append(f"no {wanted} section")
    return problems


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_numpydoc_docstring(name):
    problems = _problems(PUBLIC[name])
    assert not problems, f"{name}: " + "; ".join(problems)


def test_the_walk_finds_the_api():
    """The walk reaches what the issue names, so an empty PUBLIC cannot pass."""
    for name in [
        "pynn.core.model.Sequential",
        # Sequential's methods are checked where they are defined: its mixins
        "pynn.core.model_training.TrainingMixin.fit",
        "pynn.core.model_training.TrainingMixin.partial_fit",
        "pynn.core.model_inference.InferenceMixin.predict",
        "pynn.core.model_parameters.ParametersMixin.state_dict",
        "pynn.core.model.load",
        "pynn.core.layers.dense.Dense",
        "pynn.core.layers.base.Layer.build",
        "pynn.core.optim.adam.Adam",
        "pynn.core.optim.base.Optimizer.step",
        "pynn.core.optim.schedulers.LRScheduler.step",
        "pynn.data.split.train_test_split",
        "pynn.datasets.idx.load_mnist",
        "pynn.metrics.accuracy_score",
        "pynn.core.early_stopping.EarlyStopping.update",
    ]:
        assert name in PUBLIC, name
    assert len(PUBLIC) > 200


def test_the_rule():
    """The rule's own cases: parameters, returns, generators, None, properties, classes."""

    def documented(a, b=1):
        """Summary.

        Parameters
        ----------
        a : int
            One.
        b : int, default 1
            Two.

        Returns
        -------
        int
        """
        return a + b

    def undocumented_return(a):
        """Summary.

        Parameters
        ----------
        a : int
            One.
        """
        return a

    def returns_nothing(a) -> None:
        """Summary.

        Parameters
        ----------
        a : int
            One.
        """

    def generator():
        """Summary.

        Returns
        -------
        iterator
        """
        yield 1

    def missing_b(a, b):
        """Summary.

        Parameters
        ----------
        a : int
            One.
        """

    assert _problems(documented) == []
    assert _problems(undocumented_return) == ["no Returns section"]
    assert _problems(returns_nothing) == []
    assert _problems(generator) == ["no Yields section"]
    assert _problems(missing_b) == ["Parameters does not document 'b'"]
    assert _problems(lambda: None) == ["no docstring (a summary line first)"]
    assert _problems(pynn.DivergenceError) == []  # an exception takes no parameters of its own


def test_py_typed_is_shipped():
    """pynn/py.typed marks the package as typed (PEP 561); pyproject.toml installs it."""
    import pathlib

    assert (pathlib.Path(pynn.__file__).parent / "py.typed").is_file()
