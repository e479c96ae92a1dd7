"""Random programs over the stateful API run the same in `nablax.stateful` as in PyTorch.

The programs, the interpreter and the comparison live in benchmarks/fuzz.py, which also runs
them by the thousand (`python -m benchmarks.fuzz --examples 20000`). Here a few hundred run
in CI (NABLAX_FUZZ_EXAMPLES sets how many); the @examples are programs that once differed.
"""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, example, given, reject, settings

# `python -m pytest` puts the repository root on sys.path; plain `pytest` does not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.fuzz import Finding, Leaf, Program, Step, compare, programs, report  # noqa: E402

EXAMPLES = int(os.environ.get("NABLAX_FUZZ_EXAMPLES", "300"))


def check_program(program: Program) -> None:
    verdict = compare(program)
    if isinstance(verdict, str):  # out of scope (see benchmarks/fuzz.py, OUT_OF_SCOPE)
        reject()
    assert not isinstance(verdict, Finding), report(program, verdict)


SCALAR = Leaf((), "float32", True, 0)
MATRIX = Leaf((2, 3), "float32", True, 1)


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(program=programs())
# x ** 2.0 crashed (a float exponent with an integer value)
@example(Program((SCALAR,), (Step("arith", (0, (2.0,)), ("**",)),)))
# inf * False gave 0: XLA rewrites x * convert(bool) as a select
@example(Program((SCALAR,), (Step("floordiv", (0, (0,)), ("//",)), Step("arith", (1, (False,)), ("*",)))))
# softmax of a 0-d tensor failed when computed
@example(Program((SCALAR,), (Step("softmax", (0,), ("log_softmax", 0)),)))
# an in-place op under no_grad dropped requires_grad and the gradient history
@example(Program((MATRIX,), (Step("arith", (0, (2,)), ("*",)), Step("in_place", (1, (1,)), ("add_",), no_grad=True))))
# a view taken under no_grad did not require grad
@example(Program((MATRIX,), (Step("index", (0,), ("0",), no_grad=True), Step("arith", (1, (2,)), ("*",)))))
# a source partly overlapping the written memory was not refused
@example(Program((Leaf((), "float32", False, 0),), (Step("in_place_view", (0, 0), ("None", "add_")),)))
# fill_ dropped requires_grad; clamp with crossing tensor bounds sent gradients elsewhere
@example(Program((MATRIX, SCALAR), (Step("arith", (0, (3,)), ("*",)), Step("fill", (2, (2.0,))),
                                    Step("clamp_tensor", (0, 1, 1)))))
# a view taken under no_grad kept requiring grad after its base's detach_()
@example(Program((Leaf((), "float32", False, 0), SCALAR), (Step("as_other", (1, 0), ("expand_as",), no_grad=True),
                                                          Step("in_place_unary", (1,), ("detach_()",), no_grad=True))))
def test_random_programs_run_as_in_torch(torch, program):
    check_program(program)
