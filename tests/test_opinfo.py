"""PyTorch's operator test database (`op_db`) run against nablax.stateful.

One test per entry and check (`add/forward-float32`, `add/backward-float32`, ...), for every
op_db entry that nablax.stateful has (half of them here, half in test_opinfo_other_half.py);
every other entry is a skip that says why (see `skip_reason` and `resolve` in
opinfo_adapter.py). A failing sample fails its test, unless the
check is in KNOWN_FAILURES: a strict xfail with the reason, so that it fails once fixed and
its row must go.

By default a check runs its first few samples (SAMPLE_LIMITS), which keeps the file fast;
NABLAX_OPINFO_SAMPLES=all runs every sample, NABLAX_OPINFO_SAMPLES=<n> the first n. A known
failure runs its samples until one fails, so that its xfail is measured on the whole entry.
`python tests/opinfo_coverage.py` writes docs/stateful-coverage.md from a run of every sample.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import pathlib
import sys

import pytest

if os.environ.get("NABLAX_REQUIRE_TORCH"):
    import torch
else:
    torch = pytest.importorskip("torch")
    pytest.importorskip("expecttest")  # torch.testing._internal needs it

import nablax.stateful as nb  # noqa: E402

TESTS = pathlib.Path(__file__).resolve().parent


def load(name: str):
    """A module of tests/ loaded from its file: tests/ is not a package."""
    spec = importlib.util.spec_from_file_location(name, TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses, and the coverage script's import, look it up there
    spec.loader.exec_module(module)
    return module


adapter = load("opinfo_adapter")

# Samples per check by default: float32 carries the values and gradients that matter most.
SAMPLE_LIMITS = {"forward-float32": 2, "backward-float32": 2, "forward-int64": 1, "forward-bool": 1}

# Checks that fail today: reason -> the checks it explains ("<entry>/<check>").
KNOWN_FAILURE_GROUPS: dict[str, list[str]] = {
    "sort, argsort, topk and kthvalue order tied values' indices otherwise (the values agree): PyTorch's default "
    "sort is its introsort, not stable, and topk/kthvalue its quickselect, whose tie orders nablax does not copy": [
        "sort/forward-bool", "argsort/forward-bool", "topk/forward-int64", "kthvalue/forward-int64"],
    "logcumsumexp's gradient is off by up to 3e-3 on large inputs (float32 rounding in JAX's cumulative logsumexp)": [
        "logcumsumexp/backward-float32"],
    "mode of a large 1-D input: PyTorch's kernel gives another position among the ties (its index is unspecified)": [
        "mode/forward-int64", "mode/forward-bool"],
    "singular and eigen vectors: JAX's LAPACK picks other signs than PyTorch's (MKL) for some matrices": [
        "svd/forward-float32", "linalg.svd/forward-float32", "linalg.eigh/forward-float32"],
    "matrix_exp: PyTorch's float32 Taylor series rounds otherwise than JAX's Pade approximation (relative 1e-6)": [
        "matrix_exp/forward-float32"],
}
KNOWN_FAILURES = {check: reason for reason, checks in KNOWN_FAILURE_GROUPS.items() for check in checks}


def sample_limit(check: str) -> int | None:
    """How many samples a check runs: NABLAX_OPINFO_SAMPLES, else SAMPLE_LIMITS (None: all)."""
    setting = os.environ.get("NABLAX_OPINFO_SAMPLES", "")
    if setting == "all":
        return None
    return int(setting) if setting else SAMPLE_LIMITS[check]


# The entries are split between this file (every second one from the first) and
# test_opinfo_other_half.py (the rest): the suite's workers take a file each, and op_db's
# checks are the suite's longest run.
HALVES = 2


def cases(half: int):
    """One param per check of a resolved entry of the `half`; one skip per entry not run."""
    for op in adapter.OP_DB[half::HALVES]:
        entry = adapter.entry_id(op)
        reason = adapter.skip_reason(op) or (None if adapter.resolve(op) else "not in nablax.stateful yet")
        if reason:
            yield pytest.param(op, None, id=entry, marks=pytest.mark.skip(reason=reason))
            continue
        for check in adapter.checks(op):
            key = f"{entry}/{check}"
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[key])] if key in KNOWN_FAILURES else []
            yield pytest.param(op, check, id=key, marks=marks)


def run_entry(op, check) -> None:
    """Runs a check of an entry: its samples must pass (a known failure's must fail)."""
    key = f"{adapter.entry_id(op)}/{check}"
    known = key in KNOWN_FAILURES
    outcomes = adapter.run_check(op, adapter.resolve(op), check, None if known else sample_limit(check), until_failure=known)
    if not outcomes:
        pytest.skip("PyTorch's entry has no samples for this dtype")
    failures = adapter.summarize_failures(outcomes)
    assert not failures, f"{key}: {failures}"


@pytest.mark.parametrize(("op", "check"), list(cases(half=0)))
def test_entry(op, check):
    run_entry(op, check)


# --- the adapter itself -----------------------------------------------------------------------


def test_public_entries_are_counted_as_stated():
    """676 public entries: no private part in the name (`_foo`, `__radd__`), run on the CPU."""
    assert len(adapter.OP_DB) == 702
    assert sum(adapter.is_public(op) for op in adapter.OP_DB) == 676


def test_known_failures_and_tables_name_real_checks():
    entries = {adapter.entry_id(op): op for op in adapter.OP_DB}
    names = {op.name for op in adapter.OP_DB}
    for key in KNOWN_FAILURES:
        entry, _, check = key.partition("/")
        assert entry in entries and check in adapter.checks(entries[entry]), key
    for table in (adapter.SPECIAL_CALLS, adapter.SKIPPED, adapter.RANDOM):
        assert set(table) <= set(entries) | names, set(table) - set(entries) - names
    learner_ops = {entry for family in load("opinfo_coverage").LEARNER_OPS.values() for entry in family}
    assert learner_ops <= set(entries), learner_ops - set(entries)


@pytest.mark.parametrize("form", ["function", "method"])
def test_call_forms_match_what_the_entries_call(form):
    """An entry whose op is a lambda calls the PyTorch function or method of its own name (what
    `resolve` assumes): the lambda's code names it. Anything else needs a SPECIAL_CALLS row."""
    for op in adapter.OP_DB:
        if adapter.skip_reason(op) or adapter.call_form(op) != form:
            continue
        if op.op in (adapter.torch_object(op.name), getattr(torch.Tensor, op.name, None)):
            continue
        assert inspect.isfunction(op.op), adapter.entry_id(op)
        names = op.op.__code__.co_names
        called = op.name.rpartition(".")[2] if form == "function" else op.name
        assert called in names and (form == "method" or "torch" in names), (adapter.entry_id(op), names)


def entry(name: str, variant: str = ""):
    return next(op for op in adapter.OP_DB if op.name == name and op.variant_test_name == variant)


@pytest.mark.parametrize(
    ("wrong_call", "message"),
    [
        (lambda x, y, **kw: nb.sub(x, y, **kw), "not close"),
        (lambda x, y, **kw: nb.add(x, y, **kw).double(), "dtype torch.float64"),
        (lambda x, y, **kw: nb.add(x, y, **kw).unsqueeze(0), "shape (1,"),
        (lambda x, y, **kw: (nb.add(x, y, **kw),), "expected a tensor"),
        (lambda x, y, **kw: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_a_wrong_result_fails_its_samples(wrong_call, message):
    outcomes = adapter.run_check(entry("add"), wrong_call, "forward-float32", 2)
    assert len(outcomes) == 2 and all(message in (outcome.error or "") for outcome in outcomes)


def test_a_wrong_gradient_fails_its_samples():
    doubled = lambda x, **kw: 2 * nb.sigmoid(x) - nb.sigmoid(x.detach())  # noqa: E731 - sigmoid's value, twice its gradient
    sigmoid = entry("sigmoid")
    first = adapter.run_check(sigmoid, doubled, "backward-float32", 1)
    assert len(first) == 1 and "grad of input 0" in (first[0].error or "")
    assert all(outcome.error is None for outcome in adapter.run_check(sigmoid, nb.sigmoid, "backward-float32", 2))


def test_random_ops_compare_dtype_and_shape_and_the_deterministic_samples():
    dropout = entry("nn.functional.dropout")
    outcomes = adapter.run_check(dropout, adapter.resolve(dropout), "forward-float32", None)
    assert {outcome.values_compared for outcome in outcomes} == {True, False}
    outcomes = adapter.run_check(dropout, lambda x, **kw: x * 2, "forward-float32", None)
    assert all(outcome.error for outcome in outcomes if outcome.values_compared)
