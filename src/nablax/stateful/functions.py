"""The `torch.*` functions that mirror tensor methods: `torch.add(x, y)`, `torch.cat(...)`, ..."""

from __future__ import annotations

from . import math_ops as M
from . import matmul as MM
from . import reductions as R
from . import shape_ops as S

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "matmul", "mm", "dot",
    "exp", "log", "sqrt", "abs", "sin", "cos", "tan", "relu", "sigmoid", "tanh", "neg", "negative", "log1p", "rsqrt",
    "reciprocal", "floor", "ceil", "round", "sign", "square", "clamp", "clip", "maximum", "minimum",
    "sum", "mean", "prod", "max", "min", "argmax", "argmin", "softmax", "log_softmax", "var", "std",
    "cat", "concat", "concatenate", "stack", "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze",
    "t", "clone", "eq", "ne", "lt", "le", "gt", "ge", "where", "numel", "is_tensor", "equal", "allclose", "all", "any",
]

add, sub, mul, div, pow, matmul = M.add, M.sub, M.mul, M.div, M.pow, MM.matmul  # noqa: A001
subtract, multiply, divide, true_divide = M.sub, M.mul, M.div, M.div
exp, log, sqrt, abs, sin, cos, tan = M.exp, M.log, M.sqrt, M.abs, M.sin, M.cos, M.tan  # noqa: A001
relu, sigmoid, tanh, neg, negative = M.relu, M.sigmoid, M.tanh, M.neg, M.neg
log1p, rsqrt, reciprocal, floor, ceil, round, sign, square = (  # noqa: A001
    M.log1p, M.rsqrt, M.reciprocal, M.floor, M.ceil, M.round, M.sign, M.square)
clamp = clip = M.clamp
maximum, minimum = M.maximum, M.minimum
sum, mean, prod, softmax, log_softmax = R.sum, R.mean, R.prod, R.softmax, R.log_softmax  # noqa: A001
cat = concat = concatenate = S.cat
stack, reshape, flatten, transpose, permute = S.stack, S.reshape, S.flatten, S.transpose, S.permute
squeeze, unsqueeze, t, clone = S.squeeze, S.unsqueeze, S.t, S.clone


def mm(a, b):
    return a.mm(b)


def dot(a, b):
    return a.dot(b)


def max(x, dim=None, keepdim=False):  # noqa: A001
    return x.max(dim, keepdim)


def min(x, dim=None, keepdim=False):  # noqa: A001
    return x.min(dim, keepdim)


def argmax(x, dim=None, keepdim=False):
    return x.argmax(dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    return x.argmin(dim, keepdim)


def var(x, dim=None, unbiased=True, keepdim=False, *, correction=None):
    return x.var(dim, unbiased, keepdim, correction=correction)


def std(x, dim=None, unbiased=True, keepdim=False, *, correction=None):
    return x.std(dim, unbiased, keepdim, correction=correction)


eq, ne, lt, le, gt, ge = (M.comparison(name) for name in ("eq", "ne", "lt", "le", "gt", "ge"))


def where(condition, x, y):
    """`x` where `condition` holds, `y` elsewhere (broadcast)."""
    return M.where(condition, x, y)


def numel(x) -> int:
    return x.numel()


def is_tensor(obj) -> bool:
    from .core import TensorCore

    return isinstance(obj, TensorCore)


def equal(a, b) -> bool:
    return a.equal(b)


def allclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    import numpy as np

    return bool(np.allclose(a._host(), b._host(), rtol=rtol, atol=atol, equal_nan=equal_nan))


def all(x):  # noqa: A001
    return x.all()


def any(x):  # noqa: A001
    return x.any()
