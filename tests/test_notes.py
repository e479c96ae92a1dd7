"""The notes' examples print under nablax.stateful what they print under PyTorch 2.13.

Every script in examples/notes/ runs three times, each mode in one subprocess that runs all
the scripts (see notes_runner.py): under PyTorch, under PyTorch with its seeds shifted, and
under nablax. Lines that the two PyTorch runs print alike are deterministic and must match
nablax's exactly, but for float32 values printed with full double precision, which XLA and
PyTorch may round apart in the last bits. Lines that the shifted seeds change show random
values, which nablax draws differently by design (threefry, not Mersenne Twister): only their
format must match.
"""

from __future__ import annotations

import difflib
import importlib.util
import math
import os
import pathlib
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest

import nablax.stateful

TESTS = pathlib.Path(__file__).resolve().parent
ROOT = TESTS.parent
NOTES = ROOT / "examples" / "notes"
SCRIPTS = sorted(path.name for path in NOTES.glob("*.py"))


def load_runner():
    """The runner module, loaded from its file: tests/ is not a package."""
    spec = importlib.util.spec_from_file_location("notes_runner", TESTS / "notes_runner.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


notes_runner = load_runner()

# Scripts whose output shows a known nablax bug: name -> the bug. Each is a strict xfail, so
# the case turns into a failure once the bug is fixed and the entry must go.
KNOWN_BUGS: dict[str, str] = {}

RUN_TIMEOUT_S = 300
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
NUMBER_TOKEN = re.compile(NUMBER)
# A number with the padding before it: torch pads a positive value where another row has a
# minus sign, so masking the padding too keeps random lines' formats comparable.
PADDED_NUMBER = re.compile(r"\s*" + NUMBER)
SPACES = re.compile(r" {2,}")
# float32 needs at most 9 significant digits to round-trip; more digits mean a float32 value
# printed as a Python float (`.item()`, f-strings), whose last bits XLA may round differently.
FULL_PRECISION_DIGITS = 9
RELATIVE_TOLERANCE = 1e-5
# A float32 result computed from values of order one carries an absolute rounding error of
# order float32's epsilon; near zero (a converged loss, ~1e-12) that error is large relative
# to the result: a one-ulp difference in a weight changes such a loss by 1e-3 relative or more.
ABSOLUTE_TOLERANCE = 2.0**-23


# ---------------------------------------------------------------------------------------
# Running the scripts
# ---------------------------------------------------------------------------------------


@dataclass
class ScriptRun:
    """What one script printed in one mode."""

    lines: list[str]
    status: int | None  # None: the runner died before the script ended
    stderr: str


def start_runner(mode: str) -> subprocess.Popen:
    """Starts the process that runs every notes script in `mode`."""
    env = dict(os.environ)
    # The oracle is PyTorch's CPU build, so nablax runs on the CPU too: with a GPU visible,
    # `torch.cuda.is_available()` and the device lines would differ for a reason of setup.
    env["JAX_PLATFORMS"] = "cpu"
    scripts = [str(NOTES / name) for name in SCRIPTS]
    return subprocess.Popen(
        [sys.executable, str(TESTS / "notes_runner.py"), mode, *scripts],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def split_by_script(text: str) -> dict[str, tuple[list[str], int | None]]:
    """One runner stream cut at its marker lines: script name -> (lines, exit status)."""
    sections: dict[str, tuple[list[str], int | None]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(notes_runner.BEGIN_MARKER):
            name = pathlib.Path(line[len(notes_runner.BEGIN_MARKER) :]).name
            current = []
            sections[name] = (current, None)
        elif line.startswith(notes_runner.END_MARKER):
            path, _, status = line[len(notes_runner.END_MARKER) :].rpartition(" exit=")
            name = pathlib.Path(path).name
            sections[name] = (sections[name][0], int(status))
            current = None
        elif current is not None:
            current.append(line)
    return sections


def collect_runs(process: subprocess.Popen) -> dict[str, ScriptRun]:
    """Waits for a runner and returns each script's output; a script it never finished (the
    runner crashed) gets status None, with the runner's stderr to explain."""
    stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    printed = split_by_script(stdout)
    reported = split_by_script(stderr)
    runs = {}
    for name in SCRIPTS:
        lines, status = printed.get(name, ([], None))
        stderr_lines = reported[name][0] if name in reported else stderr.splitlines()
        runs[name] = ScriptRun(lines, status, "\n".join(stderr_lines))
    return runs


@pytest.fixture(scope="session")
def notes_runs(torch) -> dict[str, dict[str, ScriptRun]]:
    """mode -> script name -> ScriptRun, for all three modes, run side by side."""
    processes = {mode: start_runner(mode) for mode in notes_runner.MODES}
    try:
        return {mode: collect_runs(process) for mode, process in processes.items()}
    finally:
        for process in processes.values():  # left running only when one timed out
            if process.poll() is None:
                process.kill()
                process.wait()


# ---------------------------------------------------------------------------------------
# Comparing lines
# ---------------------------------------------------------------------------------------


def mask_addresses(line: str) -> str:
    return ADDRESS.sub("0x…", line)


def format_of(line: str) -> str:
    """A line with every number (sign and padding included) masked and runs of spaces
    collapsed: what is left is its format (nesting, shapes' ranks, dtype=, grad_fn=, ...)."""
    return SPACES.sub(" ", PADDED_NUMBER.sub(" #", line))


def significant_digits(token: str) -> int:
    mantissa = re.split(r"[eE]", token.lstrip("+-"))[0].replace(".", "")
    return len(mantissa.lstrip("0"))


def is_full_precision(token: str) -> bool:
    return significant_digits(token) >= FULL_PRECISION_DIGITS


def tokens_agree_within_tolerance(expected: str, actual: str) -> bool:
    """Two numbers, one of them a float32 printed with full precision, equal to within
    relative 1e-5, or within float32's epsilon where both are near zero."""
    if not (is_full_precision(expected) or is_full_precision(actual)):
        return False
    a, b = float(expected), float(actual)
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)


def count_tolerated_tokens(expected: str, actual: str) -> int | None:
    """How many numbers of a deterministic line differ within tolerance; None when the lines
    differ in anything else (text, a short number, the count of numbers)."""
    if expected == actual:
        return 0
    expected_parts = NUMBER_TOKEN.split(expected)
    actual_parts = NUMBER_TOKEN.split(actual)
    expected_numbers = NUMBER_TOKEN.findall(expected)
    actual_numbers = NUMBER_TOKEN.findall(actual)
    if expected_parts != actual_parts or len(expected_numbers) != len(actual_numbers):
        return None
    tolerated = 0
    for want, got in zip(expected_numbers, actual_numbers):
        if want == got:
            continue
        if not tokens_agree_within_tolerance(want, got):
            return None
        tolerated += 1
    return tolerated


@dataclass
class Comparison:
    """The verdict on one script: the mismatching lines, and the tolerated numbers."""

    mismatches: list[str]
    tolerated_tokens: int


def compare_lines(torch_lines, shifted_lines, nablax_lines) -> Comparison:
    """Compares nablax's lines with PyTorch's, each by its kind (deterministic or random)."""
    mismatches, tolerated = [], 0
    for number, (expected, shifted, actual) in enumerate(zip(torch_lines, shifted_lines, nablax_lines), 1):
        expected, shifted, actual = map(mask_addresses, (expected, shifted, actual))
        if expected == shifted:
            count = count_tolerated_tokens(expected, actual)
            if count is None:
                mismatches.append(describe_mismatch(number, "exact", expected, actual))
            else:
                tolerated += count
        elif format_of(expected) != format_of(actual):
            mismatches.append(describe_mismatch(number, "format", expected, actual))
    return Comparison(mismatches, tolerated)


def describe_mismatch(number: int, kind: str, expected: str, actual: str) -> str:
    return f"line {number} ({kind}):\n  torch:  {expected!r}\n  nablax: {actual!r}"


def readable_diff(torch_lines: list[str], nablax_lines: list[str]) -> str:
    return "\n".join(difflib.unified_diff(torch_lines, nablax_lines, "torch", "nablax", lineterm=""))


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------


def script_cases() -> list:
    """One case per script; a known bug makes its case a strict xfail."""
    cases = []
    for name in SCRIPTS:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else []
        cases.append(pytest.param(name, marks=marks, id=name))
    return cases


def test_every_notes_script_is_compared():
    assert SCRIPTS, f"no scripts found in {NOTES}"


@pytest.mark.parametrize("script", script_cases())
def test_script_prints_what_pytorch_prints(notes_runs, script, record_property):
    torch_run = notes_runs["torch"][script]
    shifted_run = notes_runs["torch-shifted"][script]
    nablax_run = notes_runs["nablax"][script]
    assert torch_run.status == 0, f"{script} fails under PyTorch itself:\n{torch_run.stderr}"
    assert len(shifted_run.lines) == len(torch_run.lines), (
        f"{script} prints a different number of lines when PyTorch's seeds change, so its lines "
        "cannot be told apart as deterministic or random:\n" + readable_diff(torch_run.lines, shifted_run.lines)
    )
    assert nablax_run.status == torch_run.status, (
        f"exit status: torch {torch_run.status}, nablax {nablax_run.status}\n{nablax_run.stderr}\n"
        + readable_diff(torch_run.lines, nablax_run.lines)
    )
    assert len(nablax_run.lines) == len(torch_run.lines), (
        f"torch prints {len(torch_run.lines)} lines, nablax {len(nablax_run.lines)}:\n"
        + readable_diff(torch_run.lines, nablax_run.lines)
    )
    comparison = compare_lines(torch_run.lines, shifted_run.lines, nablax_run.lines)
    record_property("numbers_within_tolerance", comparison.tolerated_tokens)
    if comparison.mismatches:
        whole_output = readable_diff(torch_run.lines, nablax_run.lines)
        pytest.fail("\n".join([f"{script}: nablax prints differently", *comparison.mismatches, "", whole_output]))


def test_zeroes_is_not_an_alias_of_zeros(torch):
    """The notes' `torch.zeroes(5, 3, ...)` is a typo that PyTorch rejects; nablax too."""
    with pytest.raises(AttributeError):
        torch.zeroes(5, 3, dtype=torch.long)
    with pytest.raises(AttributeError):
        nablax.stateful.zeroes(5, 3, dtype=nablax.stateful.long)


# The comparison rules themselves, on made-up lines.


def test_format_ignores_values_signs_and_padding():
    assert format_of("tensor([[ 0.1989, -0.3315]])") == format_of("tensor([[-1.4019,  0.6886]])")
    assert format_of("tensor([1.2345e-01, 2.0000e+03])") == format_of("tensor([0.5, 0.25])")
    assert format_of("tensor([0.5], requires_grad=True)") != format_of("tensor([0.5])")
    assert format_of("torch.Size([2, 3])") != format_of("torch.Size([2, 3, 4])")


def test_only_full_precision_numbers_get_a_tolerance():
    assert count_tolerated_tokens("loss = 21.674999237060547", "loss = 21.67500114440918") == 1
    assert count_tolerated_tokens("loss = 30.0", "loss = 30.000001907348633") == 1
    assert count_tolerated_tokens("loss = 8.988365607365267e-13", "loss = 9.592326932761353e-13") == 1
    assert count_tolerated_tokens("loss = 3.5343608033144847e-05", "loss = 3.5342833143658936e-05") == 1
    assert count_tolerated_tokens("tensor(2.5000)", "tensor(2.5001)") is None
    assert count_tolerated_tokens("tensor([3., 3.])", "tensor([3., 4.])") is None
    assert count_tolerated_tokens("w = 1.9412301778793335", "w = 1.9413301778793335") is None
    assert count_tolerated_tokens("w = 1.9412301778793335", "v = 1.9412301778793335") is None


def test_random_lines_are_compared_by_format_and_the_rest_exactly():
    comparison = compare_lines(
        ["tensor([ 0.5, -0.2])", "tensor(2.)", "<AddBackward0 object at 0x7f00>"],
        ["tensor([-0.1,  0.3])", "tensor(2.)", "<AddBackward0 object at 0x7f99>"],
        ["tensor([0.7, 0.8])", "tensor(3.)", "<AddBackward0 object at 0x5500>"],
    )
    assert len(comparison.mismatches) == 1 and "line 2 (exact)" in comparison.mismatches[0]
