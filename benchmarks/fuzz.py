"""Differential fuzzing of `nablax.stateful` against PyTorch.

    python -m benchmarks.fuzz --examples 20000

Hypothesis draws small programs over the stateful API (benchmarks/fuzz_programs.py): leaf
tensors and steps of arithmetic, comparisons, elementwise math, reductions, matmul, views,
in-place ops, casts, `no_grad` regions and looks at values. A program renders to Python
source that runs with `T` bound to `torch` or to `nablax.stateful`, so every finding comes
with code that reproduces it. After the steps, the float tensors that require grad are
reduced to one scalar and `backward()` runs.

`compare(program)` runs the program with PyTorch and with nablax and returns the first
difference (and then with nablax's reference interpreter, `nablax.stateful.engine.reference`,
whose values and gradients the compiled programs must give: a difference there is a bug of
the engine rather than of an op): an error raised by one and not the other (or of another type), a result of
another shape, dtype, `requires_grad` or `grad_fn`, other values, other gradients. Float
results are compared with a tolerance that grows with how much the program amplifies
float32 rounding, measured by running it with PyTorch a second time with float32 widened
to float64. tests/test_fuzz_torch.py runs a few hundred programs; this script runs many
and prints how many differed, by kind.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from .fuzz_programs import OPS, Leaf, Program, Step, programs

__all__ = ["Finding", "Leaf", "Program", "Step", "compare", "programs", "report"]


# -- running a program --------------------------------------------------------------------------

LOSS = ("trained = [s for s in ({slots}) if isinstance(s, T.Tensor) and s.requires_grad]\n"
        "if trained:\n"
        "    loss = sum((s * T.tensor(weights(s.shape), dtype=s.dtype)).sum() for s in trained)\n"
        "    loss.backward()")


def weights(shape) -> np.ndarray:
    """Fixed weights of the outputs in the loss, so that gradients are not all ones."""
    return ((np.arange(int(np.prod(shape))) % 4 - 1.5) / 2).reshape(shape)


@dataclass
class Trace:
    """What running a program did: per step its outcome ("ok", "skipped" when an operand
    failed before, or the exception's type name) and result (the metadata of the tensor
    made, or the value peeked); per slot its metadata, value and leaf gradient at the end."""

    outcomes: list
    messages: list
    results: list
    final: list
    values: list
    backward: str
    backward_message: str
    grads: list
    excluded: str | None = None
    nonfinite: bool = False  # whether a step made an inf or a nan (noted in the oracle run)


def _metadata(tensor) -> tuple:
    """Shape, dtype, requires_grad, is_leaf and grad_fn name (or what reading them raised)."""
    if not hasattr(type(tensor), "grad_fn"):
        return (type(tensor).__name__,)
    try:
        grad_fn = None if tensor.grad_fn is None else type(tensor.grad_fn).__name__
        return tuple(tensor.shape), str(tensor.dtype), tensor.requires_grad, tensor.is_leaf, grad_fn
    except Exception as error:  # noqa: BLE001
        return (Raised(f"{type(error).__name__}: {error}"),)


class Raised(str):
    """An error raised while reading a value: nablax computes values when they are read."""


def _read(tensor) -> np.ndarray | Raised:
    """The value of `tensor()` as a NumPy array, or the error computing it raised."""
    try:
        return np.asarray(tensor())
    except Exception as error:  # noqa: BLE001
        return Raised(f"{type(error).__name__}: {error}")


def _integer_requiring_grad(metadata: tuple) -> bool:
    return len(metadata) == 5 and metadata[2] and not metadata[1].startswith("torch.float")


def _is_leaf_with_grad(tensor) -> bool:
    try:
        return hasattr(type(tensor), "grad_fn") and tensor.is_leaf and tensor.requires_grad and tensor.grad is not None
    except Exception:  # noqa: BLE001 - PyTorch refuses to say for some views
        return False


def _widen(source: str) -> str:
    return source.replace("T.float32", "T.float64").replace(".float()", ".double()")


# Steps that convert floats to integers: casts, and writes of a source into a target.
_CASTS_TO_INTEGERS = ("long", "int", "int64")
_WRITES = ("copy", "setitem", "fill", "in_place", "in_place_view", "augmented")


def _undefined(module, step: Step, namespace) -> str | None:
    """Why a step about to run with PyTorch has no defined result, if it has none: it
    converts a float outside the integer range (or inf, nan) to an integer, which C++
    leaves undefined."""
    operands = [namespace[f"s{o}"] if isinstance(o, int) else module.tensor(o[0]) for o in step.operands]
    if step.op in ("cast", "to") and step.params[0] in _CASTS_TO_INTEGERS:
        source, integral = operands[0], True
    elif step.op in _WRITES and len(operands) > 1:
        source, integral = operands[1], not operands[0].is_floating_point() and operands[0].dtype != module.bool
    else:
        return None
    if integral and source.is_floating_point() and not bool((source.abs() < 2**31).all()):
        return "a float outside the integer range cast to an integer (undefined in C++)"
    return None


# Programs on which PyTorch raises one of these are out of scope, by a phrase of the error.
OUT_OF_SCOPE = {
    # Deliberate differences (docs/stateful.md, "Where it differs from PyTorch"): nablax has
    # no version counters, and raises value-dependent errors only where values are known,
    # which integer division by zero is not.
    "modified by an inplace operation": "in-place change of a tensor saved for backward",
    "saved tensor that has been detached in-place": "detach_() of a tensor saved for backward",
    "ZeroDivisionError": "integer division by zero",
    # PyTorch refuses to use a view taken under no_grad once its base changed in place (it
    # cannot tell which history the view should have); nablax gives the view its new values.
    "its base or another view of its base has been modified inplace": "a no_grad view of a base changed in place",
    # PyTorch's own bugs (`False ** x` and its backward, for one).
    "INTERNAL ASSERT FAILED": "an internal error of PyTorch's",
}
# The same for errors of PyTorch's backward pass, bugs of PyTorch's: clamp's backward
# writes into a tensor of the input's shape in place when tensor bounds broadcast it.
OUT_OF_SCOPE_IN_BACKWARD = {
    "doesn't match the broadcast shape": "PyTorch's clamp backward with broadcasting bounds",
    # And its backward of `x ** bool_tensor` subtracts from a bool.
    "with a bool tensor is not supported": "PyTorch's pow backward with a bool exponent",
}


def execute(module, program: Program, *, widen: bool = False, oracle: bool = False) -> Trace:
    """Runs `program` with `T` bound to `module`. With `widen`, float32 is float64. The
    `oracle` run (PyTorch) also notes steps whose results are undefined."""
    namespace = {"T": module, "weights": weights}
    trace = Trace([], [], [], [], [], "none", "", [])

    def run(source: str) -> tuple[str, str]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(_widen(source) if widen else source, "<program>", "exec"), namespace)  # noqa: S102
        except Exception as error:  # noqa: BLE001 - any error is an outcome to compare
            return type(error).__name__, str(error)
        return "ok", ""

    for index, leaf in enumerate(program.leaves):
        outcome, message = run(f"s{index} = {leaf.source()}")
        assert outcome == "ok", message
    slots = len(program.leaves)
    for step in program.steps:
        peek = OPS[step.op].peek
        target = "peeked" if peek else f"s{slots}"
        namespace[target] = None
        if any(namespace[f"s{o}"] is None for o in step.operands if isinstance(o, int)):
            outcome, message = "skipped", ""
        else:
            if oracle and trace.excluded is None:
                trace.excluded = _undefined(module, step, namespace)
            outcome, message = run(step.source(target))
        trace.outcomes.append(outcome)
        trace.messages.append(message)
        result = namespace[target]
        if oracle and outcome == "ok" and not peek and not trace.nonfinite:
            value = _read(lambda: result.detach())
            trace.nonfinite = isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.isfinite(value).all()
        if peek and outcome == "ok":  # with the dtype of the tensor looked at, which sets the tolerance
            result = (result, str(namespace[f"s{step.operands[0]}"].dtype).removeprefix("torch."))
        trace.results.append(result if peek or result is None else _metadata(result))
        if oracle and not peek and result is not None and _integer_requiring_grad(trace.results[-1]):
            trace.excluded = "an integer tensor that requires grad (PyTorch's, after writing a value that does)"
        slots += 0 if peek else 1
    tensors = [namespace[f"s{i}"] for i in range(slots)]
    trace.final = [None if t is None else _metadata(t) for t in tensors]
    trace.values = [None if t is None or not hasattr(type(t), "detach") else _read(lambda t=t: t.detach()) for t in tensors]
    trace.backward, trace.backward_message = run(LOSS.format(slots=", ".join(f"s{i}" for i in range(slots)) + ","))
    trace.grads = [_read(lambda t=t: t.grad) if _is_leaf_with_grad(t) else None for t in tensors]
    messages = [*trace.messages, trace.backward_message, *[v for v in trace.values if isinstance(v, Raised)],
                *[m[0] for m in trace.results + trace.final if isinstance(m, tuple) and m and isinstance(m[0], Raised)]]
    for phrase, reason in OUT_OF_SCOPE.items():
        if any(phrase in message for message in messages):
            trace.excluded = reason
    for phrase, reason in OUT_OF_SCOPE_IN_BACKWARD.items():
        if phrase in trace.backward_message:
            trace.excluded = reason
    return trace


# -- comparing runs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """The first difference between nablax and PyTorch on a program."""

    kind: str
    op: str  # the op of the step (or the leaf) where it showed
    detail: str


# Tolerances of floats: relative, relative to the largest magnitude in the tensor, absolute.
TOLERANCES = {"float32": (1e-5, 1e-5, 1e-6), "float64": (1e-9, 1e-9, 1e-12)}
# How many times PyTorch's own float32 rounding error (measured against the widened run)
# nablax's may differ by: both err, in different directions.
ROUNDING_SLACK = 4.0


def _mismatch(got, expected, reference, dtype: str | None = None) -> str | None:
    """How `got` (nablax) differs from `expected` (PyTorch), or None. `reference` is
    PyTorch's result with float32 widened to float64 (None when that run went another
    way): where it differs from `expected`, the result depends on rounding. `dtype` is
    that of the tensor the values come from, when they are Python numbers."""
    if isinstance(got, Raised) or isinstance(expected, Raised):
        same = isinstance(got, Raised) and isinstance(expected, Raised) and got.split(":")[0] == expected.split(":")[0]
        return None if same else f"nablax {_short(got)}, torch {_short(expected)}"
    if isinstance(expected, str):  # printed: exactly, whatever the widened run printed
        return None if got == expected else f"{got!r} != {expected!r}"
    if type(expected) is not type(got) and not isinstance(expected, np.ndarray):
        return f"{got!r} ({type(got).__name__}) != {expected!r} ({type(expected).__name__})"
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape:
        return f"shape {got.shape} != {expected.shape}"
    reference = None if isinstance(reference, Raised) else reference
    if reference is not None:
        reference = np.asarray(reference)
        if reference.shape != expected.shape:
            reference = None
    if expected.dtype.kind not in "fc":
        wrong = got != expected
        if reference is not None:
            wrong &= reference == expected  # elsewhere the result hangs on rounding
    else:
        rtol, scaled, atol = TOLERANCES.get(dtype or expected.dtype.name, TOLERANCES["float32"])
        got, expected = got.astype(np.float64), expected.astype(np.float64)
        finite = np.isfinite(expected)
        scale = np.abs(expected[finite]).max() if finite.any() else 0.0
        tolerance = np.asarray(rtol * np.abs(expected) + scaled * scale + atol)
        if reference is not None:
            reference = reference.astype(np.float64)
            with np.errstate(invalid="ignore"):
                tolerance = np.asarray(tolerance + ROUNDING_SLACK * np.abs(expected - reference))
            tolerance[np.isfinite(expected) != np.isfinite(reference)] = np.inf  # overflow in one precision only
        with np.errstate(invalid="ignore"):
            close = np.abs(got - expected) <= tolerance
        same_special = (np.isnan(got) & np.isnan(expected)) | (got == expected)
        wrong = ~(close | same_special)
    if not wrong.any():
        return None
    position = tuple(int(i) for i in np.argwhere(wrong)[0])
    return f"at {position}: {got[position]!r} != {expected[position]!r} (of {wrong.sum()} elements)"


def _short(value) -> str:
    text = value if isinstance(value, Raised) else repr(value)
    return text if len(text) < 200 else text[:200] + "..."


_METADATA = ("shape", "dtype", "requires_grad", "is_leaf", "grad_fn")


def _metadata_difference(got, expected) -> str | None:
    for name, ours, theirs in zip(_METADATA, got, expected):
        if ours != theirs:
            return name
    return None if len(got) == len(expected) else "type"


def first_difference(program: Program, expected: Trace, widened: Trace | None, got: Trace) -> Finding | str | None:
    same_way = widened is not None and widened.outcomes == expected.outcomes and widened.backward == expected.backward
    reference = widened if same_way else None
    ops = [f"leaf {leaf.dtype}" for leaf in program.leaves]
    for number, step in enumerate(program.steps):
        theirs, ours = expected.outcomes[number], got.outcomes[number]
        label = f"{step.op} {' '.join(map(str, step.params))}".strip()
        if theirs != ours:
            kind = "nablax raised" if theirs == "ok" else ("nablax did not raise" if ours == "ok" else "other error type")
            return Finding(kind, label, f"step {number}: torch {theirs} {expected.messages[number]!r}, "
                                        f"nablax {ours} {got.messages[number]!r}")
        if theirs != "ok":
            if not OPS[step.op].peek:
                ops.append(label)
            continue
        if OPS[step.op].peek:
            (ours, dtype), theirs = got.results[number], expected.results[number][0]
            difference = _mismatch(ours, theirs, reference.results[number][0] if reference else None, dtype)
            if difference:
                return Finding("peeked value", label, f"step {number}: {difference}")
            continue
        ops.append(label)
        field = _metadata_difference(got.results[number], expected.results[number])
        if field:
            return Finding(field, label, f"step {number}: {got.results[number]} != {expected.results[number]}")
    for slot, (ours, theirs) in enumerate(zip(got.final, expected.final)):
        field = None if ours is None and theirs is None else _metadata_difference(ours or (), theirs or ())
        if field:
            return Finding(f"{field} at the end", ops[slot], f"s{slot}: {ours} != {theirs}")
    for slot, (ours, theirs) in enumerate(zip(got.values, expected.values)):
        if theirs is not None:
            difference = _mismatch(ours, theirs, reference.values[slot] if reference else None)
            if difference:
                return Finding("value", ops[slot], f"s{slot} {difference}")
    if got.backward != expected.backward:
        return Finding("backward", "backward", f"torch {expected.backward} {expected.backward_message!r}, "
                                               f"nablax {got.backward} {got.backward_message!r}")
    if expected.backward != "ok":  # PyTorch may have filled some gradients before it raised
        return None
    for slot, (ours, theirs) in enumerate(zip(got.grads, expected.grads)):
        if (ours is None) != (theirs is None):
            return Finding("grad is None", ops[slot], f"s{slot}.grad: nablax {ours}, torch {theirs}")
        if theirs is not None:
            difference = _mismatch(ours, theirs, reference.grads[slot] if reference else None)
            if difference and expected.nonfinite:
                return NONFINITE_GRADIENT
            if difference:
                return Finding("grad", ops[slot], f"s{slot}.grad {difference}")
    return None


# Where a value is inf or nan, derivatives are a matter of convention: PyTorch multiplies
# zero gradients by infinite derivatives (nan) where JAX skips zero cotangents, and splits
# the gradient of maximum(x, nan) otherwise. Gradients of programs that made one are not
# compared.
NONFINITE_GRADIENT = "a gradient through an inf or nan value"


def compare(program: Program) -> Finding | str | None:
    """The first difference between nablax and PyTorch on `program` (a Finding), None, or
    why the program is out of scope (a string, see OUT_OF_SCOPE)."""
    import torch

    import nablax.stateful as nxt
    from nablax.stateful.engine import reference

    expected = execute(torch, program, oracle=True)
    if expected.excluded:
        return expected.excluded

    got = execute(nxt, program)
    if got.excluded:
        return got.excluded
    widened = execute(torch, program, widen=True)
    finding = first_difference(program, expected, widened, got)
    if finding is not None:
        return finding
    with reference.interpreting():
        interpreted = execute(nxt, program)
    # (Against the interpreter with the same slack: where PyTorch's widened run differs, the
    # result hangs on rounding, and the compiled program may round otherwise.)
    finding = first_difference(program, interpreted, widened, got)
    return finding if not isinstance(finding, Finding) else Finding(f"{finding.kind} (against the reference "
                                                                     "interpreter)", finding.op, finding.detail)


def report(program: Program, finding: Finding) -> str:
    """A finding with the program that shows it, runnable with `T` bound to a module."""
    return (f"{finding.kind} ({finding.op}): {finding.detail}\n{program.source()}\n"
            f"{LOSS.format(slots='...')}\n{program!r}")


# -- the script ---------------------------------------------------------------------------------


class _OutOfTime(Exception):
    pass


def fuzz(examples: int, seconds: float, seed: int | None, progress: int = 0) -> dict:
    """Runs up to `examples` programs (stopping after `seconds`, printing counts every
    `progress` programs); returns the counts and the shortest program per kind of finding."""
    counts = collections.Counter()
    shortest: dict = {}
    start = time.perf_counter()

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=seed is None)
    @given(programs())
    def run(program):
        if time.perf_counter() - start > seconds:
            raise _OutOfTime
        verdict = compare(program)
        counts["examples"] += 1
        if isinstance(verdict, str):
            counts[f"excluded: {verdict}"] += 1
        elif verdict is not None:
            counts["findings"] += 1
            key = (verdict.kind, verdict.op)
            counts[key] += 1
            size = len(program.source())
            if key not in shortest or size < shortest[key][0]:
                shortest[key] = (size, program, verdict)
        if progress and counts["examples"] % progress == 0:
            print(f"{counts['examples']} examples, {counts['findings']} findings, "
                  f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    try:
        run()
    except _OutOfTime:
        pass
    counts["seconds"] = round(time.perf_counter() - start)
    return {"counts": counts, "shortest": shortest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="programs to run")
    parser.add_argument("--minutes", type=float, default=float("inf"), help="stop after this long")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: derandomized)")
    parser.add_argument("--show", type=int, default=20, help="kinds of finding to print a program for")
    parser.add_argument("--progress", type=int, default=1000, help="print counts every so many programs (0: never)")
    args = parser.parse_args()
    result = fuzz(args.examples, args.minutes * 60, args.seed, args.progress)
    counts, shortest = result["counts"], result["shortest"]
    print(f"examples run: {counts['examples']} in {counts['seconds']} s; findings: {counts['findings']}")
    for key, count in sorted(counts.items(), key=lambda item: str(item[0])):
        if isinstance(key, str) and key.startswith("excluded"):
            print(f"  {key}: {count}")
    print("\n| kind | op | count |\n| --- | --- | --- |")
    for key, count in sorted(((k, c) for k, c in counts.items() if isinstance(k, tuple)), key=lambda kc: -kc[1]):
        print(f"| {key[0]} | {key[1]} | {count} |")
    for key, (_, program, finding) in sorted(shortest.items(), key=lambda item: -counts[item[0]])[: args.show]:
        print("\n" + report(program, finding))


if __name__ == "__main__":
    main()
