"""The README's Python examples run as written."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if README.exists() else []


@pytest.mark.skipif(not BLOCKS, reason="no README.md with python examples beside tests/")
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, restore_threads):
    exec(compile(BLOCKS[index], f"README.md example {index + 1}", "exec"), {})
