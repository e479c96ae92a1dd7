"""The examples run as written, and the styles of one example agree on the numbers."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
# examples/notes/ and examples/learners/ are PyTorch code: tests/test_notes.py and
# tests/test_learners.py run them under PyTorch and nablax.
PYTORCH_CODE = {"notes", "learners"}
SCRIPTS = sorted(p for p in EXAMPLES.rglob("*.py") if not PYTORCH_CODE & set(p.relative_to(EXAMPLES).parts))


def load(relative_path: str):
    """Imports an example script as a module, without running its __main__ block."""
    path = EXAMPLES / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Scripts whose full run takes long run on a short schedule here; their own tests check the full one.
SHORT_RUNS = {"digits_cnn.py": ["--epochs", "1"], "gpt.py": ["--quick"], "compare_styles.py": ["--epochs", "2", "--hidden", "16"]}


@pytest.mark.parametrize("script", SCRIPTS, ids=[str(s.relative_to(EXAMPLES)) for s in SCRIPTS])
def test_example_runs_as_a_script(script):
    arguments = SHORT_RUNS.get(str(script.relative_to(EXAMPLES)), [])
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "an example should show what it computed"


def test_gradient_descent_prints_the_prediction_before_and_after(capsys):
    load("gradient_descent/functional_style.py").train(20)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Prediction before training: f(5) = 0.000"
    assert lines[-1].startswith("Prediction after training: f(5) = 9.6")
