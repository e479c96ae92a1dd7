"""The `torch.*` functions that mirror tensor methods: `torch.add(x, y)`, `torch.cat(...)`, ...
The math functions take `out=` (ops/outputs.py)."""

from __future__ import annotations

import numpy as np

from .ops import arithmetic as A
from .ops import copies, decompositions, differences, dims, elementwise, factories, factorizations, gathering, histograms, index_writes, linalg, matmul, order_statistics, pieces, pointwise, positions, products, real_parts, rearranging, reductions, repeating, sampling, scans, searching, shape, solves, sorting, special_functions, splitting, measures, statistics, ternary, value_shaped, view_copies, view_scatters
from .ops.outputs import with_out
from .tensor import Tensor

FUNCTIONS = {
    **elementwise.FUNCTIONS, **pointwise.FUNCTIONS, **sampling.FUNCTIONS, **scans.FUNCTIONS, **sorting.FUNCTIONS,
    **gathering.FUNCTIONS, **rearranging.FUNCTIONS, **linalg.FUNCTIONS, **solves.FUNCTIONS, **factorizations.FUNCTIONS, **decompositions.FUNCTIONS, **products.FUNCTIONS, **measures.FUNCTIONS,
    "add": A.add, "sub": A.sub, "subtract": A.sub, "mul": A.mul, "multiply": A.mul, "div": A.div, "divide": A.div,
    "true_divide": A.div, "pow": A.pow, "clamp": A.clamp, "clip": A.clamp,
    **{name: A.comparison(name) for name in ("eq", "ne", "lt", "le", "gt", "ge")},
    "matmul": matmul.matmul, "mm": matmul.mm, "dot": matmul.dot,
    "sum": reductions.sum, "mean": reductions.mean, "prod": reductions.prod, "max": reductions.max,
    "min": reductions.min, "argmax": reductions.argmax, "argmin": reductions.argmin, "softmax": reductions.softmax,
    "log_softmax": reductions.log_softmax, "var": reductions.var, "std": reductions.std, "all": reductions.all,
    "any": reductions.any, "amax": reductions.amax, "amin": reductions.amin, "logsumexp": reductions.logsumexp,
    "count_nonzero": reductions.count_nonzero,
    "cat": copies.cat, "concat": copies.cat, "concatenate": copies.cat, "stack": copies.stack, "clone": copies.clone,
    "reshape": shape.reshape, "flatten": shape.flatten, "transpose": shape.transpose, "permute": shape.permute,
    "squeeze": shape.squeeze, "unsqueeze": shape.unsqueeze, "t": shape.t,
    **value_shaped.FUNCTIONS, **histograms.FUNCTIONS, **splitting.FUNCTIONS, **dims.FUNCTIONS, **pieces.FUNCTIONS,
    **repeating.FUNCTIONS, **positions.FUNCTIONS, **view_copies.FUNCTIONS, **factories.FUNCTIONS, **real_parts.FUNCTIONS,
    **{name: function for name, function in special_functions.FUNCTIONS.items() if not name.startswith("special_")},
    **ternary.FUNCTIONS, **order_statistics.FUNCTIONS, **statistics.FUNCTIONS, **searching.FUNCTIONS,
    **index_writes.FUNCTIONS, **differences.FUNCTIONS, **view_scatters.FUNCTIONS,
}

# Functions without PyTorch's `out=`: views, copies, and those of several or data-dependent results.
_WITHOUT_OUT = {"clone", "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "t", "positive",
                "fliplr", "flipud", "meshgrid", "einsum", "unique", "argwhere", "bincount", "masked_fill", "isfinite",
                "count_nonzero", "unique_consecutive", "gradient", "histogram", "histc", "split", "chunk", "narrow", "select", "unflatten", "movedim",
                "moveaxis", "swapaxes", "swapdims",
                *dims.FUNCTIONS, *(set(pieces.FUNCTIONS) - {"column_stack", "dstack"}), *repeating.FUNCTIONS,
                "tril_indices", "triu_indices", "unravel_index", "cartesian_prod", "combinations",
                *(set(factories.FUNCTIONS) - {"logspace"}), *(set(real_parts.FUNCTIONS) - {"angle", "conj_physical"}), "frexp"}
_COMPUTES_IN_OUT_DTYPE = {"sum", "prod", "cumsum", "cumprod"}
FUNCTIONS = {name: function if name in _WITHOUT_OUT else
             with_out(function, computes_in_out_dtype=name in _COMPUTES_IN_OUT_DTYPE)
             for name, function in FUNCTIONS.items()}


def numel(input: Tensor) -> int:
    return input.numel()


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def equal(input: Tensor, other: Tensor) -> bool:
    return input.equal(other)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return bool(np.allclose(input._host(), other._host(), rtol=rtol, atol=atol, equal_nan=equal_nan))


FUNCTIONS.update(numel=numel, is_tensor=is_tensor, equal=equal, allclose=allclose)
