"""Write docs/stateful-coverage.md: PyTorch's operator test database (`op_db`) run, every
sample of every entry, against nablax.stateful.

    python tests/opinfo_coverage.py                     # writes docs/stateful-coverage.md
    python tests/opinfo_coverage.py --limit 2 --output /tmp/coverage.md   # a quick look

It runs the checks of tests/test_opinfo.py (forward float32, int64 and bool; backward float32)
through the same adapter, tests/opinfo_adapter.py, without pytest. The run takes a while (tens of
minutes on 2 cores): every sample compiles its own XLA programs.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from dataclasses import dataclass, field

import torch

import opinfo_adapter as adapter

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "stateful-coverage.md"
FORWARD_FLOAT32 = "forward-float32"
BACKWARD = "backward-float32"
FORWARD_CHECKS = ("forward-float32", "forward-int64", "forward-bool")

# The ops a learner meets first, by family: op_db entry ids.
LEARNER_OPS = {
    "elementwise math": [
        "add", "sub", "mul", "div.no_rounding_mode", "true_divide", "pow", "neg", "abs", "exp", "log", "log1p", "expm1",
        "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "erf", "sign", "floor",
        "ceil", "round", "trunc", "maximum", "minimum", "eq", "lt", "gt",
    ],
    "reductions": ["sum", "mean", "prod", "var", "std", "amax", "amin", "logsumexp", "all", "any"],
    "matmul family": ["matmul", "mm", "bmm", "mv", "dot", "outer", "addmm", "einsum"],
    "views": [
        "view", "reshape", "flatten", "unflatten", "transpose", "permute", "squeeze", "unsqueeze", "t", "T",
        "expand", "contiguous", "split", "chunk", "narrow", "select", "__getitem__",
    ],
    "cat/stack": ["cat", "stack", "hstack", "vstack"],
    "gather/index_select/where/masked_fill": [
        "gather", "index_select", "where", "masked_fill", "scatter", "scatter_add", "take_along_dim",
    ],
    "softmax family": ["softmax", "log_softmax", "nn.functional.softmin"],
    "nn.functional activations": [
        "nn.functional.relu", "nn.functional.gelu", "nn.functional.silu", "nn.functional.elu",
        "nn.functional.leaky_relu", "nn.functional.softplus", "nn.functional.hardtanh", "nn.functional.relu6",
        "nn.functional.mish", "nn.functional.hardswish", "nn.functional.softsign", "nn.functional.prelu",
        "nn.functional.logsigmoid", "nn.functional.selu",
    ],
    "linear": ["nn.functional.linear", "nn.functional.bilinear"],
    "conv": ["nn.functional.conv1d", "nn.functional.conv2d", "nn.functional.conv_transpose2d"],
    "pooling": [
        "nn.functional.max_pool1d", "nn.functional.max_pool2d", "nn.functional.avg_pool1d", "nn.functional.avg_pool2d",
        "nn.functional.adaptive_avg_pool1d", "nn.functional.adaptive_avg_pool2d", "nn.functional.adaptive_max_pool2d",
    ],
    "dropout": ["nn.functional.dropout"],
    "losses": [
        "nn.functional.mse_loss", "nn.functional.l1_loss", "nn.functional.cross_entropy", "nn.functional.nll_loss",
        "nn.functional.binary_cross_entropy", "nn.functional.binary_cross_entropy_with_logits",
        "nn.functional.smooth_l1_loss", "nn.functional.huber_loss", "nn.functional.kl_div",
    ],
    "norms": ["nn.functional.layer_norm", "nn.functional.batch_norm", "nn.functional.group_norm", "nn.functional.normalize"],
    "embedding": ["nn.functional.embedding"],
    "one_hot": ["nn.functional.one_hot"],
    "clamp": ["clamp", "clamp_min", "clamp_max"],
    "argmax": ["argmax", "argmin"],
    "max/min with dim": ["max.reduction_with_dim", "min.reduction_with_dim"],
    "cumsum": ["cumsum", "cumprod"],
    "topk": ["topk"],
    "sort": ["sort", "argsort"],
    "norm": ["norm", "linalg.norm", "linalg.vector_norm"],
}


@dataclass
class EntryResult:
    """One entry's results: check -> outcomes; `reason` says why it was not run."""

    op: object
    reason: str | None = None
    outcomes: dict[str, list] = field(default_factory=dict)

    @property
    def entry(self) -> str:
        return adapter.entry_id(self.op)

    def passed(self, check: str) -> bool | None:
        """Whether every sample of a check passed; None when the check was not run."""
        if check not in self.outcomes or not self.outcomes[check]:
            return None
        return all(outcome.error is None for outcome in self.outcomes[check])

    def cell(self, check: str) -> str:
        if self.reason:
            return "—"
        if check not in self.outcomes:
            return "n/a"
        outcomes = self.outcomes[check]
        passed = sum(outcome.error is None for outcome in outcomes)
        mark = "✅" if passed == len(outcomes) and outcomes else "❌"
        return f"{mark} {passed}/{len(outcomes)}" if outcomes else "no samples"


def run_entry(op, limit: int | None) -> EntryResult:
    reason = adapter.skip_reason(op)
    call = None if reason else adapter.resolve(op)
    if not reason and call is None:
        reason = "not in nablax.stateful yet"
    result = EntryResult(op, reason)
    for check in [] if reason else adapter.checks(op):
        result.outcomes[check] = adapter.run_check(op, call, check, limit)
    return result


def run_all(limit: int | None, only: set[str] | None) -> list[EntryResult]:
    results = []
    for op in adapter.OP_DB:
        if only and adapter.entry_id(op) not in only:
            continue
        started = time.perf_counter()
        results.append(run_entry(op, limit))
        if results[-1].outcomes:
            print(f"{time.perf_counter() - started:7.1f} s  {results[-1].entry}", file=sys.stderr, flush=True)
    return results


def figures(results: list[EntryResult]) -> dict[str, int]:
    """The headline counts, over the public entries."""
    public = [result for result in results if adapter.is_public(result.op)]
    resolved = [result for result in public if not result.reason]
    return {
        "public entries": len(public),
        "resolved in nablax.stateful": len(resolved),
        "pass all float32 samples forward": sum(bool(result.passed(FORWARD_FLOAT32)) for result in resolved),
        "pass every checked dtype forward": sum(
            all(result.passed(check) is not False for check in FORWARD_CHECKS)
            and any(result.passed(check) for check in FORWARD_CHECKS) for result in resolved),
        "support autograd (float32)": sum(BACKWARD in adapter.checks(result.op) for result in public),
        "resolved, supporting autograd": sum(BACKWARD in result.outcomes for result in resolved),
        "pass all samples backward": sum(bool(result.passed(BACKWARD)) for result in resolved),
    }


def markdown_text(text: str, width: int = 160) -> str:
    """A message on one table line: no pipes, no newlines, not too long."""
    flat = " ".join(text.replace("|", "\\|").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def first_failure(result: EntryResult) -> str:
    for check, outcomes in result.outcomes.items():
        for outcome in outcomes:
            if outcome.error:
                return f"{check}, sample {outcome.index}: {outcome.error}"
    return ""


def entry_table(results: list[EntryResult]) -> list[str]:
    lines = [
        "| entry | resolved | forward float32 | forward int64 | forward bool | backward float32 | first failure |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        resolved = result.reason if result.reason else "yes"
        cells = " | ".join(result.cell(check) for check in (*FORWARD_CHECKS, BACKWARD))
        lines.append(f"| `{result.entry}` | {resolved} | {cells} | {markdown_text(first_failure(result))} |")
    return lines


def learner_section(results: list[EntryResult]) -> list[str]:
    by_entry = {result.entry: result for result in results}
    lines = [
        "| family | entry | forward float32 | forward int64 | forward bool | backward float32 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for family, entries in LEARNER_OPS.items():
        for entry in (entry for entry in entries if entry in by_entry):  # all, but with --only
            result = by_entry[entry]
            cells = " | ".join(result.cell(check) for check in (*FORWARD_CHECKS, BACKWARD))
            status = cells if not result.reason else f"{result.reason} | | |"
            lines.append(f"| {family} | `{entry}` | {status} |")
    return lines


HEADER = """# Stateful coverage of PyTorch's operator tests

This page is generated: `python tests/opinfo_coverage.py` (from the repository root, with
PyTorch {torch_version} and its `expecttest` dependency installed) runs every sample of PyTorch's
operator test database, `op_db` in `torch.testing._internal.common_methods_invocations`, against
`nablax.stateful` and writes it. `tests/test_opinfo.py` runs the same checks in the test suite
(the first few samples of each by default; `NABLAX_OPINFO_SAMPLES=all` for every sample).

How it counts:

- **Public entries**: op_db's entries (one per name and variant) with no private part in the
  name (`_foo`, `__radd__`) that PyTorch runs on the CPU. The reflected operators (`__radd__`,
  ...) and `__getitem__` are run and listed below the public table but not counted.
- **Resolved**: nablax.stateful has the op, found through its public API only: `torch.<name>`
  functions at the same dotted name (`nn.functional.relu`, `linalg.norm`), Tensor methods and
  attributes for entries that call one (`x.view(shape)`, `x.T`), and a few entries that call
  PyTorch in another form (`where`, `einsum`, ...; `SPECIAL_CALLS` in `tests/opinfo_adapter.py`).
- **Forward**: for each of float32, int64 and bool that the entry supports on the CPU, every
  sample's outputs have PyTorch's dtype and shape, and its values (float32 within
  `torch.testing.assert_close`'s tolerance, widened where the entry declares its own; integers
  and booleans exactly). Random ops compare dtypes and shapes, and values only where the result
  does not depend on the random stream (dropout with `p=0` or `training=False`); `empty` and
  friends compare dtypes and shapes.
- **Backward**: for entries that support autograd, the gradient of `sum(output * cotangent)`
  (a fixed random cotangent) w.r.t. every input that PyTorch's sample marks `requires_grad`,
  within the entry's float32 tolerance and at least `rtol = atol = 1e-4`.
- A sample fails when nablax raises, or gives another dtype, shape or value. The cells show
  passing samples / samples.
"""


def render(results: list[EntryResult]) -> str:
    counts = figures(results)
    public = sorted((result for result in results if adapter.is_public(result.op)), key=lambda result: result.entry)
    others = [result for result in results if not adapter.is_public(result.op) and not result.reason]
    lines = [HEADER.format(torch_version=torch.__version__.split("+")[0]), "## Summary", ""]
    lines += ["| | entries |", "| --- | --- |", *(f"| {name} | {count} |" for name, count in counts.items()), ""]
    lines += ["## Ops a learner meets most", "", *learner_section(results), ""]
    lines += ["## Every public entry", "", *entry_table(public), ""]
    lines += ["## Reflected operators and indexing", "", "Run, not counted above.", "", *entry_table(others), ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=pathlib.Path, default=PAGE)
    parser.add_argument("--limit", type=int, default=None, help="samples per check (default: all)")
    parser.add_argument("--only", nargs="*", help="entry ids to run (default: all)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = run_all(args.limit, set(args.only) if args.only else None)
    args.output.write_text(render(results))
    for name, count in figures(results).items():
        print(f"{name}: {count}")


if __name__ == "__main__":
    main()
