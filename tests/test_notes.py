"""The notes' examples print under nablax.stateful what they print under PyTorch 2.13.

Every script in examples/notes/ runs under PyTorch, under PyTorch with its seeds shifted two ways and
under nablax, and nablax's lines are compared with PyTorch's by the rules of script_runs.py:
deterministic lines exactly (within float32's rounding where printed with full precision),
random lines by their format.
"""

from __future__ import annotations

import pytest
from script_runs import ROOT, check_prints_what_pytorch_prints, run_in_every_mode, script_cases

import nablax.stateful

NOTES = ROOT / "examples" / "notes"
SCRIPTS = sorted(NOTES.glob("*.py"))

# Scripts whose output shows a known nablax bug: name -> the bug. Each is a strict xfail, so
# the case turns into a failure once the bug is fixed and the entry must go.
KNOWN_BUGS: dict[str, str] = {}

RUN_TIMEOUT_S = 300


@pytest.fixture(scope="session")
def notes_runs(torch):
    """mode -> script name -> ScriptRun, for all three modes, run side by side."""
    return run_in_every_mode(SCRIPTS, RUN_TIMEOUT_S)


def test_every_notes_script_is_compared():
    assert SCRIPTS, f"no scripts found in {NOTES}"


@pytest.mark.parametrize("script", script_cases(SCRIPTS, KNOWN_BUGS))
def test_script_prints_what_pytorch_prints(notes_runs, script, record_property):
    comparison = check_prints_what_pytorch_prints(notes_runs, script)
    record_property("numbers_within_tolerance", comparison.tolerated_tokens)


def test_zeroes_is_not_an_alias_of_zeros(torch):
    """The notes' `torch.zeroes(5, 3, ...)` is a typo that PyTorch rejects; nablax too."""
    with pytest.raises(AttributeError):
        torch.zeroes(5, 3, dtype=torch.long)
    with pytest.raises(AttributeError):
        nablax.stateful.zeroes(5, 3, dtype=nablax.stateful.long)
