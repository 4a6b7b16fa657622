"""The Python examples of README.md and docs/*.md run as written."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(page.relative_to(ROOT).as_posix(), i + 1, code)
          for page in PAGES if page.exists()
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))]


@pytest.mark.skipif(not BLOCKS, reason="no README.md or docs/ with python examples beside tests/")
@pytest.mark.parametrize("page,index,code", BLOCKS, ids=[f"{p}-{i}" for p, i, _ in BLOCKS])
def test_example_runs(page, index, code, restore_threads):
    exec(compile(code, f"{page} example {index}", "exec"), {})
