"""Reductions made of others: `nansum` and `nanmean` (nan counts as absent), `aminmax`, and
`var_mean`/`std_mean`, with PyTorch's dtypes, return types and backward-node names.

    >>> import nablax.stateful as torch
    >>> torch.nansum(torch.tensor([1.0, float("nan"), 2.0]))
    tensor(3.)
    >>> torch.aminmax(torch.tensor([3, 1, 2]))
    torch.return_types.aminmax(
    min=tensor(1),
    max=tensor(3))
"""

from __future__ import annotations

import jax.numpy as jnp

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from .common import cast, numpy_keywords
from .reductions import mean, reduced_dims, reduced_shape, std, unbiased_overload, var


def _without_nan(x, dtype):
    x = cast(x, dtype)
    return jnp.where(jnp.isnan(x), jnp.zeros_like(x), x) if jnp.issubdtype(x.dtype, jnp.inexact) else x


_NANSUM = Op("nansum", lambda x, *, dims, keepdim, dtype: jnp.sum(_without_nan(x, dtype), axis=dims, keepdims=keepdim))


def _nan_mean(x, *, dims, keepdim, dtype):
    counts = jnp.sum(~jnp.isnan(x), axis=dims, keepdims=keepdim)
    return jnp.sum(_without_nan(x, dtype), axis=dims, keepdims=keepdim) / counts.astype(dtype)


_NANMEAN = Op("nanmean", _nan_mean)


@numpy_keywords
def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """`sum`, with nan counted as zero."""
    floating = input.dtype.is_floating_point or input.dtype.is_complex
    result = dt.as_dtype(dtype) if dtype is not None else (input.dtype if floating else dt.int64)
    dims = reduced_dims(input, dim if dim not in ((), []) else None)
    return record(_NANSUM, (input,), reduced_shape(input.shape, dims, keepdim), result.numpy, "NansumBackward0",
                  (("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)))


@numpy_keywords
def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """`mean` of the values that are not nan (nan where there are none)."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype but got "
                           f"{input.dtype.scalar_name}")
    result = dt.as_dtype(dtype) if dtype is not None else input.dtype
    dims = reduced_dims(input, dim if dim not in ((), []) else None)
    return record(_NANMEAN, (input,), reduced_shape(input.shape, dims, keepdim), result.numpy, "DivBackward0",
                  (("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)))


class aminmax_result(tuple):  # noqa: N801 - PyTorch's name
    """`torch.return_types.aminmax(min=..., max=...)`."""

    __slots__ = ()

    @property
    def min(self):  # noqa: A003
        return self[0]

    @property
    def max(self):  # noqa: A003
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"


aminmax_result.__name__ = aminmax_result.__qualname__ = "aminmax"
aminmax_result.__module__ = "torch.return_types"

_EXTREMES = {which: Op(f"aminmax_{which}", lambda x, *, dims, keepdim, which=which:
                       (jnp.min if which == "min" else jnp.max)(x, axis=dims, keepdims=keepdim))
             for which in ("min", "max")}


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    """The least and the greatest value, of all elements or along `dim` (the gradient of
    each shared evenly among its ties, as `amin`/`amax`)."""
    dims = reduced_dims(input, dim)
    if dims is None and input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    for d in dims or ():
        if input.shape[d] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    shape = reduced_shape(input.shape, dims, keepdim)
    static = (("dims", dims), ("keepdim", bool(keepdim)))
    return aminmax_result(record(_EXTREMES[which], (input,), shape, input.dtype.numpy, "AminmaxBackward0", static)
                          for which in ("min", "max"))


def _with_mean(spread, grad_name: str, input: Tensor, dim, unbiased, keepdim, correction) -> tuple:
    dim, unbiased = unbiased_overload(dim, unbiased)
    result = (spread(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))
    for tensor in result:
        tensor._current_expr().grad_name = grad_name
    return result


def var_mean(input: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None) -> tuple:
    """`(var, mean)` over `dim` (all dims when None)."""
    return _with_mean(var, "VarMeanBackward0", input, dim, unbiased, keepdim, correction)


def std_mean(input: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None) -> tuple:
    """`(std, mean)` over `dim` (all dims when None)."""
    return _with_mean(std, "StdMeanBackward0", input, dim, unbiased, keepdim, correction)


FUNCTIONS = {function.__name__: function for function in (nansum, nanmean, aminmax, var_mean, std_mean)}
METHODS = {name: FUNCTIONS[name] for name in ("nansum", "nanmean", "aminmax")}
