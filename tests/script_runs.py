"""Runs PyTorch scripts under PyTorch and under nablax.stateful and compares what they print,
line by line: the machinery behind tests/test_notes.py and tests/test_learners.py.

Every script runs four times, each mode in one subprocess that runs all the scripts (see
script_runner.py): under PyTorch, under PyTorch with its seeds shifted in two ways, and under
nablax. Each line is compared at the finest level at which the three PyTorch runs agree:

- lines that the PyTorch runs print alike are deterministic and must match nablax's
  exactly, but for float32 values printed with full double precision, which XLA and PyTorch
  may round apart in the last bits;
- lines in which the shifted seeds change numbers show random values, which nablax draws
  differently by design (threefry, not Mersenne Twister): only their format must match;
- lines in which the shifted seeds change words too (text sampled from a model) must match
  the shape of one of PyTorch's: the same punctuation and layout, every word and number masked.
"""

from __future__ import annotations

import difflib
import math
import os
import pathlib
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest

import script_runner

TESTS = pathlib.Path(__file__).resolve().parent
ROOT = TESTS.parent

ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
NUMBER_TOKEN = re.compile(NUMBER)
# A number with the padding before it: torch pads a positive value where another row has a
# minus sign, so masking the padding too keeps random lines' formats comparable.
PADDED_NUMBER = re.compile(r"\s*" + NUMBER)
SPACES = re.compile(r" {2,}")
WORD = re.compile(r"[A-Za-z]+")
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


def start_runner(mode: str, scripts: list[pathlib.Path], script_timeout_s: int) -> subprocess.Popen:
    """Starts the process that runs every script of `scripts` in `mode`, stopping any that
    runs longer than `script_timeout_s`."""
    env = dict(os.environ)
    # The oracle is PyTorch's CPU build, so nablax runs on the CPU too: with a GPU visible,
    # `torch.cuda.is_available()` and the device lines would differ for a reason of setup.
    env["JAX_PLATFORMS"] = "cpu"
    # One thread for PyTorch's kernels: on a small shared machine, its default of one thread
    # a core spends most of its time waiting for the busiest core (4x slower at load 8 on 2).
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.Popen(
        [sys.executable, str(TESTS / "script_runner.py"), "--timeout", str(script_timeout_s), mode, *map(str, scripts)],
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
        if line.startswith(script_runner.BEGIN_MARKER):
            name = pathlib.Path(line[len(script_runner.BEGIN_MARKER) :]).name
            current = []
            sections[name] = (current, None)
        elif line.startswith(script_runner.END_MARKER):
            path, _, status = line[len(script_runner.END_MARKER) :].rpartition(" exit=")
            name = pathlib.Path(path).name
            sections[name] = (sections[name][0], int(status))
            current = None
        elif current is not None:
            current.append(line)
    return sections


def collect_runs(process: subprocess.Popen, names: list[str], timeout_s: float) -> dict[str, ScriptRun]:
    """Waits for a runner and returns each script's output; a script it never finished (the
    runner crashed) gets status None, with the runner's stderr to explain."""
    stdout, stderr = process.communicate(timeout=timeout_s)
    printed = split_by_script(stdout)
    reported = split_by_script(stderr)
    runs = {}
    for name in names:
        lines, status = printed.get(name, ([], None))
        stderr_lines = reported[name][0] if name in reported else stderr.splitlines()
        runs[name] = ScriptRun(lines, status, "\n".join(stderr_lines))
    return runs


def run_in_every_mode(scripts: list[pathlib.Path], timeout_s: float,
                      script_timeout_s: int = script_runner.DEFAULT_SCRIPT_TIMEOUT_S) -> dict[str, dict[str, ScriptRun]]:
    """mode -> script name -> ScriptRun, for all three modes, run side by side; each mode's
    runner must end within `timeout_s`, each script within `script_timeout_s`."""
    names = [script.name for script in scripts]
    processes = {mode: start_runner(mode, scripts, script_timeout_s) for mode in script_runner.MODES}
    try:
        return {mode: collect_runs(process, names, timeout_s) for mode, process in processes.items()}
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


def shape_of(line: str) -> str:
    """A line's format with every word masked too: its punctuation and layout."""
    return WORD.sub("a", format_of(line))


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


def compare_lines(torch_lines: list[str], shifted_runs: list[list[str]], nablax_lines: list[str],
                  random_lines: re.Pattern | None = None) -> Comparison:
    """Compares nablax's lines with PyTorch's (`torch_lines`, and the lines of each run with
    shifted seeds), each by its kind: deterministic, random numbers, random text. Lines that
    `random_lines` matches are random whatever PyTorch's runs print: values that depend on
    the random draws too weakly for the seeds to change them as printed."""
    mismatches, tolerated = [], 0
    for number, (expected, *shifted, actual) in enumerate(zip(torch_lines, *shifted_runs, nablax_lines), 1):
        expected, actual = mask_addresses(expected), mask_addresses(actual)
        references = [expected, *map(mask_addresses, shifted)]
        if len(set(references)) == 1 and not (random_lines and random_lines.match(expected)):
            count = count_tolerated_tokens(expected, actual)
            if count is None:
                mismatches.append(describe_mismatch(number, "exact", expected, actual))
            else:
                tolerated += count
        elif len({format_of(line) for line in references}) == 1:
            if format_of(expected) != format_of(actual):
                mismatches.append(describe_mismatch(number, "format", expected, actual))
        elif shape_of(actual) not in {shape_of(line) for line in references}:
            mismatches.append(describe_mismatch(number, "shape", expected, actual))
    return Comparison(mismatches, tolerated)


def describe_mismatch(number: int, kind: str, expected: str, actual: str) -> str:
    return f"line {number} ({kind}):\n  torch:  {expected!r}\n  nablax: {actual!r}"


def readable_diff(torch_lines: list[str], nablax_lines: list[str]) -> str:
    return "\n".join(difflib.unified_diff(torch_lines, nablax_lines, "torch", "nablax", lineterm=""))


# ---------------------------------------------------------------------------------------
# The test of one script
# ---------------------------------------------------------------------------------------


def script_cases(scripts: list[pathlib.Path], known_failures: dict[str, str]) -> list:
    """One case per script; a known failure makes its case a strict xfail, so the case turns
    into a failure once it is fixed and the entry must go."""
    cases = []
    for script in scripts:
        reason = known_failures.get(script.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        cases.append(pytest.param(script.name, marks=marks, id=script.name))
    return cases


def check_prints_what_pytorch_prints(runs: dict[str, dict[str, ScriptRun]], script: str,
                                     random_lines: re.Pattern | None = None) -> Comparison:
    """Fails unless nablax's run of `script` ends as PyTorch's does and prints what it prints
    (`random_lines`: see `compare_lines`); returns the comparison (its count of numbers within
    tolerance) when it passes."""
    torch_run = runs["torch"][script]
    shifted_runs = [runs[mode][script] for mode in script_runner.SEED_SHIFTS]
    nablax_run = runs["nablax"][script]
    assert torch_run.status == 0, f"{script} fails under PyTorch itself:\n{torch_run.stderr}"
    for shifted_run in shifted_runs:
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
    comparison = compare_lines(torch_run.lines, [run.lines for run in shifted_runs], nablax_run.lines, random_lines)
    if comparison.mismatches:
        whole_output = readable_diff(torch_run.lines, nablax_run.lines)
        pytest.fail("\n".join([f"{script}: nablax prints differently", *comparison.mismatches, "", whole_output]))
    return comparison
