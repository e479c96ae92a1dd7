"""The code passes ruff with the project's rules (`[tool.ruff]` in pyproject.toml): no
undefined, unused or shadowed names, no syntax errors."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    pytest.importorskip("ruff", reason="ruff comes with the test extra: pip install -e '.[test]'")
    found = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "src", "benchmarks", "examples", "tests"],
                           cwd=ROOT, capture_output=True, text=True)
    assert found.returncode == 0, found.stdout + found.stderr
