"""The examples of README.md and docs/*.md run as written: every ```python block, and every
`pynn ...` / `python -m pynn ...` command of the ```sh blocks (the commands of one block run
in order, in one scratch directory). An example that needs an optional extra that is not
installed, such as scikit-learn, is skipped. The `pip install`, `pytest`, `bash
.ci/sanitize` lines and the lint commands (ruff, mypy, clang-format) are not run here: CI
(.ci/run) runs exactly those, on a fresh clone."""

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import HANG_SECONDS

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [
    (page.relative_to(ROOT).as_posix(), i + 1, code)
    for page in PAGES
    if page.exists()
    for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))
]

SHELL_BLOCKS = [
    (page.relative_to(ROOT).as_posix(), i + 1, code)
    for page in PAGES
    if page.exists()
    for i, code in enumerate(re.findall(r"```sh\n(.*?)```", page.read_text(), re.S))
]
NOT_RUN_HERE = ("pip ", "pytest", "bash .ci/sanitize", "ruff ", "mypy", "clang-format ")
# (CI runs these)

# The optional packages an example may import (pynn.sklearn needs scikit-learn).
OPTIONAL = {
    "sklearn": "sklearn",
    "pynn.sklearn": "sklearn",
    "pandas": "pandas",
    "dask": "dask",
    "distributed": "distributed",
    "matplotlib": "matplotlib",
}


def missing_optional(code):
    """The first optional package the example imports that is not installed, or None."""
    for module, package in OPTIONAL.items():
        pattern = rf"^\s*(from|import)\s+{re.escape(module)}\b"
        if re.search(pattern, code, re.M) and importlib.util.find_spec(package) is None:
            return package
    return None


@pytest.mark.skipif(not BLOCKS, reason="no README.md or docs/ with python examples beside tests/")
@pytest.mark.parametrize("page,index,code", BLOCKS, ids=[f"{p}-{i}" for p, i, _ in BLOCKS])
def test_example_runs(page, index, code, restore_threads):
    missing = missing_optional(code)
    if missing:
        pytest.skip(f"needs {missing}, not installed")
    exec(compile(code, f"{page} example {index}", "exec"), {})


def pynn_commands(block):
    """The pynn commands of a shell block, as argument lists (continued lines joined,
    comments dropped); None for a block with a command this test does not know."""
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith("#") or line.startswith(NOT_RUN_HERE):
            continue
        words = shlex.split(line)
        if words[0] == "pynn":
            words = words[1:]
        elif words[:3] == ["python", "-m", "pynn"]:
            words = words[3:]
        else:
            return None
        commands.append(words)
    return commands


SHELL_CASES = [(page, index, pynn_commands(code)) for page, index, code in SHELL_BLOCKS]


@pytest.mark.skipif(not SHELL_CASES, reason="no ```sh blocks in README.md or docs/")
@pytest.mark.parametrize(
    "page,index,commands", SHELL_CASES, ids=[f"{p}-sh{i}" for p, i, _ in SHELL_CASES]
)
def test_shell_example_runs(page, index, commands, tmp_path):
    assert commands is not None, (
        f"{page} sh block {index} has a command other than pynn, "
        f"pip, pytest, .ci/sanitize or the lint commands: this test cannot run it"
    )
    if (
        any("--plot" in words for words in commands)
        and importlib.util.find_spec("matplotlib") is None
    ):
        pytest.skip("needs matplotlib, not installed")
    import pynn  # the subprocesses import the pynn this test imports (installed or built here)

    env = dict(os.environ, PYTHONPATH=str(Path(pynn.__file__).resolve().parent.parent))
    for words in commands:
        run = subprocess.run(
            [sys.executable, "-m", "pynn", *words],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=HANG_SECONDS,
        )
        assert run.returncode == 0, (
            f"{page} sh block {index}: pynn {' '.join(words)} "
            f"exited {run.returncode}:\n{run.stderr[-2000:]}"
        )
