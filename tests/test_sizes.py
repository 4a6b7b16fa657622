"""Issue 16's limits on the library's source: no file over 500 lines, and no Python
function over 60 lines of code (its docstring not counted: a numpydoc docstring such as
pynn.core.training.fit's documents, it does not add logic)."""

import ast
import os

import pynn

PACKAGE = os.path.dirname(os.path.abspath(pynn.__file__))
CSRC = os.path.join(os.path.dirname(PACKAGE), "csrc")
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60
SOURCE_ENDINGS = (".py", ".pyx", ".pxi", ".pxd", ".c", ".h")


def _sources():
    """Every source file of the package and, in a checkout, of csrc/."""
    for top in (PACKAGE, CSRC):
        for folder, _, names in os.walk(top):
            for name in sorted(names):
                if name.endswith(SOURCE_ENDINGS) and not _generated(folder, name):
                    yield os.path.join(folder, name)


def _generated(folder, name):
    """Cython's output (pynn/_kernels.c) is not source."""
    return name.endswith(".c") and os.path.exists(os.path.join(folder, name[:-2] + ".pyx"))


def _lines(path):
    with open(path, encoding="utf-8") as file:
        return file.read().count("\n")


def _code_lines(function):
    """A function's lines, from its def to its end, less its docstring's."""
    lines = function.end_lineno - function.lineno + 1
    first = function.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def test_no_file_over_500_lines():
    assert [
        (os.path.relpath(path, os.path.dirname(PACKAGE)), _lines(path))
        for path in _sources()
        if _lines(path) > MAX_FILE_LINES
    ] == []


def test_no_python_function_over_60_lines():
    long = []
    for path in _sources():
        if not path.endswith(".py"):
            continue
        with open(path, encoding="utf-8") as file:
            tree = ast.parse(file.read(), path)
        long += [
            (os.path.relpath(path, PACKAGE), node.name, _code_lines(node))
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and _code_lines(node) > MAX_FUNCTION_LINES
        ]
    assert long == []
