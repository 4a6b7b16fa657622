"""The Python examples of README.md and docs/*.md run as written (an example that needs an
optional extra that is not installed, such as scikit-learn, is skipped)."""
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(page.relative_to(ROOT).as_posix(), i + 1, code)
          for page in PAGES if page.exists()
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))]

# The optional packages an example may import (pynn.sklearn needs scikit-learn).
OPTIONAL = {"sklearn": "sklearn", "pynn.sklearn": "sklearn", "pandas": "pandas",
            "dask": "dask", "distributed": "distributed", "matplotlib": "matplotlib"}


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
