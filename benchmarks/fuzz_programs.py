"""Random programs over `nablax.stateful`'s API, for differential fuzzing against PyTorch
(benchmarks/fuzz.py runs and compares them).

A program is a few leaf tensors (random broadcastable shapes; float32, float64, int64 or
bool; some requiring grad) and a list of steps, each one op of the API: arithmetic with
type promotion, comparisons, elementwise math, reductions, matmul, views, in-place ops
(through views too), casts, `no_grad` regions, looks at values. Steps refer to earlier
results by number, so tensors are used again and again. A program renders to Python
source that runs with `T` bound to `torch` or to `nablax.stateful`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st


@dataclass(frozen=True)
class Leaf:
    """A leaf tensor: its values are drawn from `seed` (floats are multiples of 1/4 in
    [-2, 2], so sums and products of a few are exact and ties are real ties)."""

    shape: tuple
    dtype: str
    requires_grad: bool
    seed: int

    def values(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        if self.dtype == "bool":
            return rng.integers(0, 2, self.shape).astype(bool)
        if self.dtype.startswith("int"):
            return rng.integers(-3, 4, self.shape)
        return rng.integers(-8, 9, self.shape) / 4

    def source(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        if 0 in self.shape:  # nested lists lose the shape of an empty tensor
            return f"T.zeros({self.shape}, dtype=T.{self.dtype}{grad})"
        return f"T.tensor({self.values().tolist()!r}, dtype=T.{self.dtype}{grad})"


@dataclass(frozen=True)
class Step:
    """One op: `op` names its template in OPS, `operands` are slot numbers (earlier
    tensors) or Python scalars, `params` fill the template's other holes."""

    op: str
    operands: tuple
    params: tuple = ()
    no_grad: bool = False

    def source(self, target: str | None) -> str:
        """The step as statements; the result (a tensor or a peeked value) goes to `target`."""
        template, result = OPS[self.op].template, OPS[self.op].result
        names = dict(zip("abc", [f"s{o}" if isinstance(o, int) else repr(o[0]) for o in self.operands]))
        # params first: a param may hold an operand hole, as in `view(*reversed({a}.shape))`
        params = {f"p{i}": p for i, p in enumerate(self.params)}
        statement = template.format(a="{a}", b="{b}", c="{c}", **params).format(**names)
        lines = [statement] if result else []
        lines.append(f"{target} = " + (result.format(**names) if result else statement))
        if self.no_grad:
            return "with T.no_grad():\n" + "\n".join("    " + line for line in lines)
        return "\n".join(lines)


@dataclass(frozen=True)
class Program:
    leaves: tuple
    steps: tuple

    def source(self) -> str:
        """The program as Python code, runnable with `T` bound to a module."""
        lines = [f"s{i} = {leaf.source()}" for i, leaf in enumerate(self.leaves)]
        slot = len(self.leaves)
        for step in self.steps:
            if OPS[step.op].peek:
                lines.append(step.source("peeked"))
            else:
                lines.append(step.source(f"s{slot}"))
                slot += 1
        return "\n".join(lines)


@dataclass(frozen=True)
class OpSpec:
    """`template` is an expression (or, with `result`, a statement whose result is the
    expression `result`); holes {a} {b} {c} take operands, {p0}... params. `operands` has
    one letter per operand: t a tensor, x a tensor or a scalar, s a scalar. `peek` ops
    return Python values rather than tensors."""

    template: str
    operands: str
    params: tuple = ()
    result: str | None = None
    peek: bool = False


SCALARS = (0, 1, 2, -1, 3, 0.5, -1.5, 2.0, 0.25, True, False)
INDEXES = ("0", "-1", "1:", ":1", "::2", "None", "..., 0", ":, None", "0, 1", "..., 1:", "1:, ..., :2", "2")
DIM_ARGS = ("", "0", "-1", "1", "1, keepdim=True", "(0, 1)", "0, keepdim=True", "dim=-1, keepdim=True", "(-1,)")
ONE_DIM = ("0", "-1", "1", "0, keepdim=True", "-1, keepdim=True")
DIMS = (0, 1, -1, 2, -2)
UNARY = ("exp", "tanh", "sigmoid", "relu", "abs", "neg", "sqrt", "log", "sin", "cos", "floor", "ceil", "round", "sign",
         "square", "reciprocal", "rsqrt", "log1p")
CASTS = ("float", "double", "long", "bool", "int")
IN_PLACE = ("add_", "sub_", "mul_", "div_", "pow_")
CLAMPS = ("min=0", "max=0.5", "-1, 1", "min=-0.5, max=0.5", "max=1", "min=1, max=0")


OPS = {
    # arithmetic and type promotion
    "arith": OpSpec("{a} {p0} {b}", "tx", (("+", "-", "*", "/", "**"),)),
    "rarith": OpSpec("{a} {p0} {b}", "st", (("+", "-", "*", "/", "**"),)),
    "alpha": OpSpec("T.{p0}({a}, {b}, alpha={p1})", "tx", (("add", "sub"), (2, -1, 0.5))),
    "extremum": OpSpec("T.{p0}({a}, {b})", "tt", (("maximum", "minimum"),)),
    "floordiv": OpSpec("{a} {p0} {b}", "tx", (("//", "%"),)),
    "compare": OpSpec("{a} {p0} {b}", "tx", (("<", "<=", ">", ">=", "==", "!="),)),
    "logic": OpSpec("{a} {p0} {b}", "tx", (("&", "|", "^"),)),
    # elementwise functions
    "unary": OpSpec("{a}.{p0}()", "t", (UNARY,)),
    "operator": OpSpec("{p0}{a}", "t", (("-", "~", "+"),)),
    "cast": OpSpec("{a}.{p0}()", "t", (CASTS,)),
    "to": OpSpec("{a}.to(T.{p0})", "t", (("float32", "float64", "int64", "bool"),)),
    "clamp": OpSpec("{a}.clamp({p0})", "t", (CLAMPS,)),
    "clamp_tensor": OpSpec("T.clamp({a}, {b}, {c})", "ttt"),
    "where": OpSpec("T.where({c} {p0}, {a}, {b})", "txt", (("> 0", "", "!= 0"),)),
    # reductions
    "reduce": OpSpec("{a}.{p0}({p1})", "t", (("sum", "mean", "prod", "var", "std"), DIM_ARGS)),
    "extreme": OpSpec("{a}.{p0}({p1}){p2}", "t", (("max", "min"), ONE_DIM, ("[0]", ".indices", ".values"))),
    "extreme_all": OpSpec("{a}.{p0}()", "t", (("max", "min", "argmax", "argmin", "all", "any"),)),
    "arg_extreme": OpSpec("{a}.{p0}({p1})", "t", (("argmax", "argmin"), ONE_DIM)),
    "softmax": OpSpec("{a}.{p0}({p1})", "t", (("softmax", "log_softmax"), DIMS)),
    # matmul
    "matmul": OpSpec("{p0}", "tt", (("{a} @ {b}", "{a}.mm({b})", "T.matmul({a}, {b})", "{a}.dot({b})"),)),
    # views and copies
    "index": OpSpec("{a}[{p0}]", "t", (INDEXES,)),
    "view": OpSpec("{a}.{p0}", "t", (("view(-1)", "reshape(-1)", "reshape(1, -1)", "t()", "flatten()", "squeeze()",
                                      "contiguous()", "clone()", "detach()", "view(*reversed({a}.shape))",
                                      "permute(*reversed(range({a}.ndim)))", "expand(2, *{a}.shape)"),)),
    "transpose": OpSpec("{a}.transpose({p0}, {p1})", "t", (DIMS, DIMS)),
    "unsqueeze": OpSpec("{a}.{p0}({p1})", "t", (("unsqueeze", "squeeze"), DIMS)),
    "as_other": OpSpec("{a}.{p0}({b})", "tt", (("expand_as", "view_as", "reshape_as"),)),
    "join": OpSpec("T.{p0}([{a}, {b}], {p1})", "tt", (("cat", "stack"), DIMS)),
    # in place, directly, through a fresh view, or by item assignment
    "in_place": OpSpec("{a}.{p0}({b})", "tx", (IN_PLACE,)),
    "in_place_view": OpSpec("{a}[{p0}].{p1}({b})", "tx", (INDEXES, IN_PLACE), result="{a}"),
    # (`requires_grad_()` on a tensor with views is left out: PyTorch's views then require
    # grad as leaves that gradients never reach, nablax's views do not; `new_leaf` below
    # makes leaves on fresh aliases.)
    "in_place_unary": OpSpec("{a}.{p0}", "t", (("neg_()", "zero_()", "clamp_(min=0)", "clamp_(-0.5, 0.5)",
                                                "detach_()"),)),
    "fill": OpSpec("{a}.fill_({b})", "ts"),
    "copy": OpSpec("{a}.copy_({b})", "tt"),
    "augmented": OpSpec("{a} {p0}= {b}", "tx", (("+", "-", "*", "/"),), result="{a}"),
    "setitem": OpSpec("{a}[{p0}] = {b}", "tx", (INDEXES,), result="{a}"),
    "new_leaf": OpSpec("{a}.detach().{p0}", "t", (("requires_grad_()", "clone().requires_grad_()"),)),
    # looking at values in the middle of a program (nablax computes what is pending)
    "peek": OpSpec("{p0}", "t", (("{a}.tolist()", "{a}.sum().item()", "float({a}.sum())", "bool({a}.any())",
                                  "{a}.stride()", "{a}.is_contiguous()", "repr({a})"),), peek=True),
}


def _shape(base: tuple):
    """A shape broadcastable with `base` (a suffix of it with some sizes 1), or now and
    then one of random sizes (for broadcasting errors and empty tensors)."""
    return st.one_of(
        st.integers(0, len(base)).flatmap(
            lambda n: st.tuples(*[st.sampled_from((size, 1)) for size in base[len(base) - n:]])),
        st.lists(st.integers(0, 4), max_size=3).map(tuple),
    ) if base else st.just(())


@st.composite
def leaves(draw, base: tuple):
    dtype = draw(st.sampled_from(("float32", "float32", "float64", "int64", "bool")))
    requires_grad = dtype.startswith("float") and draw(st.booleans())
    return Leaf(draw(_shape(base)), dtype, requires_grad, draw(st.integers(0, 2**16)))


@st.composite
def programs(draw, max_leaves: int = 3, max_steps: int = 8):
    """Random programs over the stateful API (see the module docstring)."""
    base = draw(st.lists(st.integers(1, 3), max_size=3).map(tuple))
    drawn_leaves = tuple(draw(leaves(base)) for _ in range(draw(st.integers(1, max_leaves))))
    slots = len(drawn_leaves)
    steps = []
    for _ in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(sorted(OPS)))
        spec = OPS[name]
        operands = []
        for kind in spec.operands:
            use_scalar = kind == "s" or (kind == "x" and draw(st.integers(0, 3)) == 0)
            # scalars are 1-tuples, so that True and 1 stay apart from slot numbers
            operands.append((draw(st.sampled_from(SCALARS)),) if use_scalar else draw(st.integers(0, slots - 1)))
        params = tuple(draw(st.sampled_from(choices)) for choices in spec.params)
        steps.append(Step(name, tuple(operands), params, draw(st.integers(0, 4)) == 0))
        slots += 0 if spec.peek else 1
    return Program(drawn_leaves, tuple(steps))
