"""Every Python code block in README.md and docs/ runs, in order, one namespace per page,
and every docstring example in the package runs too."""

import doctest
import importlib
import os
import pathlib
import pkgutil
import re
import subprocess
import sys

import pytest

import nablax

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
CODE_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_there_are_pages_with_code():
    assert sum(len(CODE_BLOCK.findall(page.read_text())) for page in PAGES) >= 5


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_code_blocks_run(page, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # pages may write files; keep them out of the checkout
    namespace = {"__name__": f"docs_{page.stem}"}
    for index, block in enumerate(CODE_BLOCK.findall(page.read_text())):
        code = compile(block, f"{page.name} (block {index + 1})", "exec")
        exec(code, namespace)


MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(nablax.__path__, "nablax.")
    if name not in ("nablax.__main__", "nablax.demo")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_the_site_builds_strictly(tmp_path):
    """`mkdocs build --strict`: every page in the nav, no broken links, the API reference renders."""
    pytest.importorskip("mkdocs")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").exists()
