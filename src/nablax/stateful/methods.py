"""The methods of `Tensor` that record ops, bound from the op modules: one table for all.

`Tensor` (tensor.py) holds a tensor's state and what needs no op; the op modules build on
it, so its op methods cannot be written in its class body without an import cycle. They
are the op functions themselves (`Tensor.add is ops.arithmetic.add`), bound here once, when
`nablax.stateful` is imported.
"""

from __future__ import annotations

import functools

import numpy as np

from . import dtypes as dt
from .autograd.backward import backward, retain_grad, retains_grad
from .ops import arithmetic as A
from .ops import (copies, creation, decompositions, differences, dims, elementwise, factories, factorizations,
                  gathering, histograms, index_writes, indexing, inplace, inplace_forms, linalg, matmul,
                  order_statistics, pieces, pointwise, positions, products, real_parts, rearranging, reductions,
                  repeating, sampling, scans, shape, solves, sorting, special_functions, splitting, measures,
                  statistics, ternary, value_shaped, view_copies, view_scatters)
from .ops.common import SCALARS
from .tensor import Tensor


def _operator(function, *, reflected: bool = False, operands=(Tensor, *SCALARS)):
    """A binary operator method calling `function(self, other)` (`function(other, self)` when
    `reflected`). It returns NotImplemented for other operands, so that Python raises its
    usual TypeError ("unsupported operand type(s) for +: 'Tensor' and 'NoneType'"), as it
    does for PyTorch's tensors."""

    def method(self, other):
        if isinstance(other, np.ndarray):  # PyTorch takes a NumPy array operand as a tensor
            other = creation.tensor(other)
        if not isinstance(other, operands):
            return NotImplemented
        return function(other, self) if reflected else function(self, other)

    return method


def _legacy_new(cls, *args, device=None):
    """The legacy constructor: `Tensor([1, 2])` copies data (as float32), `Tensor(2, 3)`
    makes an uninitialised 2x3 tensor."""
    return creation.legacy_constructor(dt.float32, args, device)


def _matmul_method(self, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}")
    return matmul.matmul(self, other)


def _equal(self, other) -> bool:
    return self.shape == other.shape and bool(reductions.all(self == other))


_COMPARISONS = {name: A.comparison(name) for name in ("eq", "ne", "lt", "le", "gt", "ge")}


def _polygamma(self, n):
    return special_functions.polygamma(n, self)


_SPECIAL = {"polygamma": _polygamma, "mvlgamma": special_functions.mvlgamma, "igamma": special_functions.FUNCTIONS["igamma"],
            "igammac": special_functions.FUNCTIONS["igammac"]}
_SPECIAL.update({f"{name}_": inplace_forms.in_place(function, f"{name}_") for name, function in _SPECIAL.items()},
                frexp=special_functions.frexp)

METHODS = {
    **elementwise.FUNCTIONS, **pointwise.METHODS, **inplace_forms.METHODS, **inplace.FUNCTIONS, **sampling.METHODS,
    **scans.FUNCTIONS, **sorting.FUNCTIONS, **gathering.METHODS, **rearranging.METHODS, **linalg.METHODS,
    **value_shaped.METHODS, **histograms.FUNCTIONS, **splitting.METHODS, **copies.CONVERSIONS, **_COMPARISONS, **_SPECIAL,
    **dims.METHODS, **pieces.METHODS, **repeating.METHODS, **positions.METHODS, **view_copies.METHODS,
    **factories.METHODS, **real_parts.METHODS,
    **ternary.METHODS, **order_statistics.FUNCTIONS, **statistics.METHODS, **index_writes.METHODS,
    **differences.METHODS, **view_scatters.FUNCTIONS,
    **solves.METHODS, **factorizations.METHODS, **decompositions.METHODS, **products.METHODS, **measures.METHODS,
    # arithmetic
    "add": A.add, "sub": A.sub, "mul": A.mul, "div": A.div, "pow": A.pow, "clamp": A.clamp, "clip": A.clamp,
    # reductions
    "sum": reductions.sum, "mean": reductions.mean, "prod": reductions.prod, "softmax": reductions.softmax,
    "log_softmax": reductions.log_softmax, "max": reductions.max, "min": reductions.min, "argmax": reductions.argmax,
    "argmin": reductions.argmin, "var": reductions.var, "std": reductions.std, "all": reductions.all,
    "any": reductions.any, "amax": reductions.amax, "amin": reductions.amin, "logsumexp": reductions.logsumexp, "count_nonzero": reductions.count_nonzero, "equal": _equal,
    "where": lambda self, condition, other: A.where(condition, self, other),
    # matrices
    "mm": matmul.mm, "dot": matmul.dot, "matmul": _matmul_method,
    # shapes, indexing and copies
    "view": shape.view, "reshape": shape.reshape, "flatten": shape.flatten, "permute": shape.permute,
    "transpose": shape.transpose, "t": shape.t, "squeeze": shape.squeeze, "unsqueeze": shape.unsqueeze,
    "expand": shape.expand, "T": property(shape.numpy_t),
    "view_as": lambda self, other: shape.view(self, other.shape),
    "reshape_as": lambda self, other: shape.reshape(self, other.shape),
    "expand_as": lambda self, other: shape.expand(self, other.shape),
    "__getitem__": indexing.getitem, "__setitem__": indexing.setitem,
    "clone": copies.clone, "contiguous": copies.contiguous, "to": copies.to,
    # autograd
    "backward": backward, "retain_grad": retain_grad, "retains_grad": property(retains_grad),
    # operators
    "__add__": _operator(A.add), "__radd__": _operator(A.add), "__sub__": _operator(A.sub),
    "__rsub__": _operator(A.rsub), "__mul__": _operator(A.mul), "__rmul__": _operator(A.mul),
    "__truediv__": _operator(A.div), "__rtruediv__": _operator(A.rdiv),
    "__floordiv__": _operator(A.floor_divide), "__rfloordiv__": _operator(A.floor_divide, reflected=True),
    "__mod__": _operator(A.remainder), "__rmod__": _operator(A.remainder, reflected=True),
    "__pow__": _operator(A.pow), "__rpow__": _operator(A.rpow),
    "__matmul__": _operator(matmul.matmul, operands=Tensor),
    "__rmatmul__": _operator(matmul.matmul, reflected=True, operands=Tensor),
    "__neg__": elementwise.neg, "__abs__": elementwise.FUNCTIONS["abs"], "__pos__": elementwise.positive,
    "__invert__": elementwise.bitwise_not,
    "__eq__": _COMPARISONS["eq"], "__ne__": _COMPARISONS["ne"], "__lt__": _COMPARISONS["lt"],
    "__le__": _COMPARISONS["le"], "__gt__": _COMPARISONS["gt"], "__ge__": _COMPARISONS["ge"],
    "__and__": _operator(functools.partial(A.logical, "and")), "__rand__": _operator(functools.partial(A.logical, "and")),
    "__or__": _operator(functools.partial(A.logical, "or")), "__ror__": _operator(functools.partial(A.logical, "or")),
    "__xor__": _operator(functools.partial(A.logical, "xor")), "__rxor__": _operator(functools.partial(A.logical, "xor")),
    "__iadd__": inplace.add_, "__isub__": inplace.sub_, "__imul__": inplace.mul_, "__itruediv__": inplace.div_,
    "clip_": inplace.clamp_, "divide": A.div, "divide_": inplace.div_, "true_divide": A.div, "true_divide_": inplace.div_,
    "multiply": A.mul, "multiply_": inplace.mul_, "subtract": A.sub, "subtract_": inplace.sub_,
    "__new__": staticmethod(_legacy_new),
}


def bind() -> None:
    """Makes every entry of `METHODS` a method of `Tensor`."""
    for name, method in METHODS.items():
        setattr(Tensor, name, method)
    Tensor.__hash__ = object.__hash__  # __eq__ is elementwise, as in PyTorch


bind()
