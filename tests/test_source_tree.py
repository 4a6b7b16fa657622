"""Importing pynn from a source tree whose kernels are not built (`python -m pytest` or
`python -m pynn` from a checkout, with pynn installed elsewhere) says what to do, instead
of Python's misleading 'partially initialized module' circular-import error."""

import os
import shutil
import subprocess
import sys

from helpers import HANG_SECONDS

import pynn


def test_an_unbuilt_source_tree_says_what_to_do(tmp_path):
    package = os.path.dirname(os.path.abspath(pynn.__file__))
    shutil.copytree(
        package, tmp_path / "pynn", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__")
    )
    # -S: no site-packages, so nothing but the copy can provide pynn (an editable install's
    # finder would); the check runs before pynn imports NumPy.
    run = subprocess.run(
        [sys.executable, "-S", "-c", "import pynn"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "ImportError: pynn's compiled kernels (pynn._kernels) are not "
        "built in " + str(tmp_path / "pynn")
    ), run.stderr
    assert "pip install -e ." in last and "circular import" not in run.stderr
