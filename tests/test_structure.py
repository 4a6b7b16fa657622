"""The package's import structure (issue 16): imports go one way only, the library never
imports its test oracle, the data modules do not load the model, and each catalogue
(activations, losses) agrees with the C side.

The import graph is read from the source with ast: each module's top-level imports
(those that run when it is imported, so also inside a top-level try or if, but not in an
`if TYPE_CHECKING:` block, which only type checkers read), as edges between pynn's
modules. A parent package's __init__ runs before its submodules, but that is Python's
doing, not an import of the submodule, so it is no edge.
"""

import ast
import inspect
import os
import textwrap

import numpy as np
import pynn._kernels as K
import pytest
from helpers import run_python

import pynn
import pynn.reference as R
from pynn.core import activations, layers, targets
from pynn.core.losses import LOSSES

PACKAGE = os.path.dirname(os.path.abspath(pynn.__file__))
# Imported inside functions on purpose: optional packages (and joblib, a dependency that
# would add more to `import pynn.data` than the rest of it), and the bench command, which
# the CLI loads only for `pynn bench` and whose own modules import what they measure.
LATE_IMPORTS = (
    "matplotlib",
    "sklearn",
    "scipy",
    "tqdm",
    "threadpoolctl",
    "torch",
    "joblib",
    "pynn.bench",
)


def _module_files():
    """{module name: path} of every Python module of the package."""
    files = {}
    for folder, _, names in os.walk(PACKAGE):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                parts = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts.pop()
                files[".".join(parts)] = path
    return files


MODULES = _module_files()
KNOWN = set(MODULES) | {"pynn._kernels"}  # the extension module is a leaf


def _tree(module):
    with open(MODULES[module], encoding="utf-8") as file:
        return ast.parse(file.read(), MODULES[module])


def _type_checking(node):
    """Whether node is `if TYPE_CHECKING:` (or `if typing.TYPE_CHECKING:`), whose body the
    interpreter never runs: the imports of type hints (issue 16)."""
    test = node.test
    return isinstance(node, ast.If) and (
        isinstance(test, ast.Name)
        and test.id == "TYPE_CHECKING"
        or isinstance(test, ast.Attribute)
        and test.attr == "TYPE_CHECKING"
    )


def _top_level(body):
    """The import statements that run at import: the module's body, into try/if blocks
    (an `if TYPE_CHECKING:` block's else only)."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _type_checking(node):
            yield from _top_level(node.orelse)
        elif isinstance(node, (ast.Try, ast.If)):
            for block in (
                node.body,
                node.orelse,
                getattr(node, "finalbody", []),
                *[handler.body for handler in getattr(node, "handlers", [])],
            ):
                yield from _top_level(block)


def _targets(module, node):
    """The pynn modules an import statement imports."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in KNOWN]
    base = node.module or ""
    if node.level:  # relative: from the module's package
        package = module if MODULES[module].endswith("__init__.py") else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    found = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        if submodule in KNOWN:
            found.append(submodule)
        elif base in KNOWN:
            found.append(base)
    return found


def import_graph():
    """{module: set of pynn modules its top-level imports name}."""
    return {
        module: {
            target for node in _top_level(_tree(module).body) for target in _targets(module, node)
        }
        - {module}
        for module in MODULES
    }


def _cycle(graph):
    """One import circle as a list of modules, or None."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        state[module] = "done"
        stack.pop()
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_the_graph_sees_the_imports():
    graph = import_graph()
    assert "pynn.core.model_training" in graph["pynn.core.model"]
    assert "pynn.core.training" in graph["pynn.core.model_training"]
    assert "pynn._kernels" in graph["pynn.core.activations"]
    assert "pynn.cli.report" in graph["pynn.cli.train"]  # `from pynn.cli import report`
    # a type hint's import (`if TYPE_CHECKING:`) runs in no interpreter: no edge
    assert "pynn.core.model" not in graph["pynn.core.early_stopping"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_circles():
    assert _cycle(import_graph()) is None


def test_imports_inside_functions_are_only_late_ones():
    """No import is put inside a function to break a circle: only optional packages and
    the bench command are imported where they are used."""
    late = []
    for module in MODULES:
        if module.startswith("pynn.bench"):
            continue
        for function in ast.walk(_tree(module)):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                else:
                    continue
                late += [
                    f"{module}: {name}"
                    for name in names
                    if not any(
                        name == allowed or name.startswith(allowed + ".")
                        for allowed in LATE_IMPORTS
                    )
                ]
    assert late == []


# The floors of docs/architecture.md, bottom up, as the folder layout shows them: each
# module's floor is that of the longest prefix listed; a module imports only from its own
# floor and the floors below. The oracle stands beside them (its own test below).
FLOORS = {
    "pynn._kernels": 0,  # bindings (the C kernels, csrc/, are below them)
    "pynn._version": 0,
    "pynn.core": 1,
    "pynn.data": 2,  # around the model
    "pynn.datasets": 2,
    "pynn.metrics": 2,
    "pynn.gradcheck": 2,
    "pynn": 3,  # front doors: the package, its public faces, the CLI, sklearn, bench
}


def floor(module):
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in FLOORS:
            return FLOORS[prefix]
    raise AssertionError(f"{module} is on no floor")


def test_imports_go_down_the_floors():
    graph = import_graph()
    assert floor("pynn.core.layers.dense") == 1 and floor("pynn.layers") == 3
    upward = [
        f"{module} (floor {floor(module)}) -> {target} (floor {floor(target)})"
        for module, targets in graph.items()
        if module not in ORACLES
        for target in targets
        if floor(target) > floor(module)
    ]
    assert upward == []


def test_each_core_module_lives_in_pynn_core():
    """The folder shows the floor: pynn/ itself holds only the front doors, the bindings'
    Python leaves and the oracle; the public faces there (pynn.layers, pynn.optim,
    pynn.losses, pynn.memory) define nothing and re-export their core module's __all__."""
    faces = {"pynn.layers", "pynn.optim", "pynn.losses", "pynn.memory"}
    for face in faces:
        core = f"pynn.core.{face.split('.')[1]}"
        assert _tree(face).body[-1].names[0].name == "__all__"
        assert import_graph()[face] == {core}
        module = __import__(face, fromlist=["__all__"])
        assert all(getattr(module, name) is not None for name in module.__all__)
    top = {m for m in MODULES if m.count(".") == 1 and not MODULES[m].endswith("__init__.py")}
    assert top - faces - set(ORACLES) == {
        "pynn.__main__",
        "pynn._config",
        "pynn._threadpoolctl",
        "pynn._version",
        "pynn.gradcheck",
        "pynn.metrics",
    }


def test_a_bare_import_pynn_reaches_the_faces(tmp_path):
    """The public faces are attributes of pynn after `import pynn` alone, in a fresh process
    (in this one another test may have imported them)."""
    result = run_python(
        "import pynn\n"
        "print(pynn.layers.Dense is pynn.Dense, pynn.optim.SGD is pynn.SGD,\n"
        "      pynn.losses.LOSSES is pynn.LOSSES, callable(pynn.memory.available_bytes))\n",
        tmp_path,
    )
    assert result.stdout.split() == ["True"] * 4, result.stderr


ORACLES = (
    "pynn.reference",
    "pynn.reference_base",
    "pynn.reference_losses",
    "pynn.reference_optim",
    "pynn.reference_network",
    "pynn.reference_hvp",
)


def test_the_library_never_imports_the_oracle():
    """pynn.reference (with the modules it exports from) and the network built on it are
    the tests' oracle: no other module imports them or takes anything from them
    (backend="reference" looks them up by name, pynn.core.backend.REFERENCE_MODULE and
    REFERENCE_NETWORK_MODULE)."""
    graph = import_graph()
    assert [
        module
        for module, targets in graph.items()
        if module not in ORACLES and set(ORACLES) & set(targets)
    ] == []
    mentions = [
        module
        for module in MODULES
        if module not in ORACLES
        and any(
            isinstance(node, ast.Constant) and node.value in ORACLES
            for node in ast.walk(_tree(module))
        )
    ]
    assert mentions == ["pynn.core.backend"]


def test_import_pynn_does_not_load_the_oracle(tmp_path):
    result = run_python(
        textwrap.dedent("""
        import sys
        import pynn, pynn.cli
        assert "pynn.reference" not in sys.modules, "pynn.reference was imported"
        assert "pynn.reference_network" not in sys.modules, "its network was imported"
        assert not [name for name in sys.modules if name.startswith("pynn.reference")]
        model = pynn.Sequential(pynn.Dense(2, 1), backend="reference")
        assert model._kernels is sys.modules["pynn.reference"]
        print("ok")
        """),
        tmp_path,
    )
    assert result.stdout.strip() == "ok", result.stderr


MODEL_MODULES = (
    "pynn.core.model",
    "pynn._kernels",
    "pynn.core.layers",
    "pynn.core.training",
    "pynn.core.plans",
    "pynn.core.summary",
)


def test_data_modules_do_not_load_the_model(tmp_path):
    """Splitting, scaling and reading or making data sets import neither the model nor the
    kernels. Importing a submodule runs its packages' __init__ first, and pynn's imports
    the whole library (and pynn.data's the model selection, which runs models), so the
    child stands in empty packages for those two, as if they imported nothing."""
    result = run_python(
        textwrap.dedent(f"""
        import importlib.util, sys, types
        home = importlib.util.find_spec("pynn").submodule_search_locations[0]
        for name, path in (("pynn", home), ("pynn.data", home + "/data")):
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package
        import pynn.data.split, pynn.data.preprocessing, pynn.datasets
        from pynn.data.split import train_test_split
        from pynn.datasets import make_blobs
        X, y = make_blobs(20, random_state=0)
        train_test_split(X, y, random_state=0)
        loaded = [name for name in {MODEL_MODULES!r} if name in sys.modules]
        print("loaded:", loaded)
        """),
        tmp_path,
    )
    assert result.stdout.strip() == "loaded: []", result.stderr


def test_data_modules_import_nothing_of_the_model():
    graph = import_graph()
    reached, todo = set(), ["pynn.data.split", "pynn.data.preprocessing", "pynn.datasets"]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(graph.get(module, ()))
    assert sorted(reached & set(MODEL_MODULES)) == []


# ---- the catalogues ------------------------------------------------------------------------
def test_activation_names_are_the_kernels():
    assert activations.NAMES == tuple(K.ACTIVATIONS) == tuple(R.ACTIVATIONS)
    assert set(activations.HARD) | set(activations.TRAINABLE) == set(activations.NAMES)
    assert set(activations.SATURATING) <= set(activations.TRAINABLE)


def test_activation_facts_agree_with_the_kernels():
    assert activations.PARAM_DEFAULTS == K._DEFAULT_PARAMS
    for name in activations.NAMES:
        if name in activations.HARD:  # the kernels refuse their derivative
            with pytest.raises(ValueError, match="not differentiable"):
                K.activation_saves(name)
        else:
            assert activations.saved_by(name, None) == K.activation_saves(name)
        if name not in activations.PARAM_DEFAULTS:
            with pytest.raises(ValueError, match="takes no param"):
                K.activation_forward(np.zeros((1, 1)), name, 0.5)


def test_every_activation_has_its_layer_class():
    assert set(layers._ACTIVATION_CLASSES) == set(activations.NAMES)
    for name, cls in layers._ACTIVATION_CLASSES.items():
        assert cls().activation == name
    assert layers.LeakyReLU().param == activations.PARAM_DEFAULTS["leaky_relu"]
    assert layers.ELU().param == activations.PARAM_DEFAULTS["elu"]


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_record_agrees_with_the_kernels(name):
    loss = LOSSES[name]
    assert loss.name == name
    for kernels in (K, R):
        assert loss.grad_name in inspect.signature(getattr(kernels, loss.kernel)).parameters
    assert loss.kernel in K._NETWORK_LOSSES  # the network step's loss code
    assert set(loss.target_kinds) <= set(targets.KINDS)
    assert set(loss.hard_replaces.values()) | {loss.hard_after} - {None} <= set(activations.HARD)
    assert set(loss.hard_replaces) <= set(activations.NAMES)


def test_loss_records_cover_every_target_kind():
    assert {kind for loss in LOSSES.values() for kind in loss.target_kinds} == set(targets.KINDS)
