"""Elementwise ops of three operands and their kin: `lerp`, `addcmul`, `addcdiv`, `isclose`
and `torch.rsub`, with PyTorch's promotion, broadcasting and backward-node names.

    >>> import nablax.stateful as torch
    >>> torch.lerp(torch.tensor([0.0, 10.0]), torch.tensor([10.0, 20.0]), 0.5)
    tensor([ 5., 15.])
    >>> torch.addcmul(torch.ones(2), torch.tensor([2.0, 3.0]), torch.tensor([4.0, 5.0]), value=0.5)
    tensor([5.0000, 8.5000])
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from . import arithmetic as A
from .common import SCALARS, broadcast_shapes, cast, shape_of
from .inplace_forms import in_place


def _broadcast(*operands) -> tuple:
    shape = ()
    for operand in operands:
        shape = broadcast_shapes(shape, shape_of(operand))
    return shape


def _lerp_fn(start, end, weight, *, dtype):
    """PyTorch's formula, exact at both ends: from `start` below a weight of 0.5, from `end` above."""
    start, end, weight = cast(start, dtype), cast(end, dtype), cast(weight, dtype)
    difference = end - start
    return jnp.where(jnp.abs(weight) < 0.5, start + weight * difference, end - difference * (1 - weight))


_LERP = Op("lerp", _lerp_fn)


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """`input + weight * (end - input)`: `weight` a number or a tensor, all broadcast."""
    for name, value in (("end", end), ("weight", weight)):
        if isinstance(value, Tensor) and value.dtype is not input.dtype and (value.ndim or name == "end"):
            raise RuntimeError(f"expected dtype {input.dtype.scalar_name.lower()} for `{name}` but got dtype "
                               f"{value.dtype.scalar_name.lower()}")
    grad_name = "LerpBackward1" if isinstance(weight, Tensor) else "LerpBackward0"
    return record(_LERP, (input, end, weight), _broadcast(input, end, weight), input.dtype.numpy, grad_name,
                  (("dtype", input.dtype.numpy),))


_ADDCMUL = Op("addcmul", lambda x, a, b, *, value, dtype: cast(x, dtype) + value * (cast(a, dtype) * cast(b, dtype)))
_ADDCDIV = Op("addcdiv", lambda x, a, b, *, value, dtype: cast(x, dtype) + value * (cast(a, dtype) / cast(b, dtype)))

_INTEGER_ADDCDIV = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true "
    "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * "
    "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
    "for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
    "tensor2), for all dtypes.")


def _addc(op: Op, name: str, input: Tensor, tensor1: Tensor, tensor2: Tensor, value) -> Tensor:
    for position, (argument, operand) in enumerate((("tensor1", tensor1), ("tensor2", tensor2)), start=1):
        if not isinstance(operand, Tensor):
            raise TypeError(f"{name}(): argument '{argument}' (position {position + 1}) must be Tensor, "
                            f"not {type(operand).__name__}")
    result = dt.result_type(input, tensor1, tensor2)
    if name == "addcdiv" and not (tensor1.dtype.is_floating_point or tensor1.dtype.is_complex) \
            and not (tensor2.dtype.is_floating_point or tensor2.dtype.is_complex):
        raise RuntimeError(_INTEGER_ADDCDIV)
    if isinstance(value, Tensor):
        value = value.item()
    value = value if result.is_floating_point or result.is_complex else int(value)
    return record(op, (input, tensor1, tensor2), _broadcast(input, tensor1, tensor2), result.numpy,
                  f"{name.capitalize()}Backward0", (("value", value), ("dtype", result.numpy)))


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """`input + value * tensor1 * tensor2`, elementwise."""
    return _addc(_ADDCMUL, "addcmul", input, tensor1, tensor2, value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """`input + value * tensor1 / tensor2`, elementwise (integer quotients are refused)."""
    return _addc(_ADDCDIV, "addcdiv", input, tensor1, tensor2, value)


def _isclose_fn(a, b, *, rtol, atol, equal_nan, dtype):
    close = a == b
    if jnp.issubdtype(a.dtype, jnp.inexact) and equal_nan:
        close = close | (jnp.isnan(a) & jnp.isnan(b))
    if rtol == 0 and atol == 0:
        return close
    # bools and integers compare in the default float dtype, as PyTorch's scalar rtol makes them
    a_wide, b_wide = cast(a, dtype), cast(b, dtype)
    allowed = atol + jnp.abs(rtol * b_wide)
    actual = jnp.abs(a_wide - b_wide)
    return close | (jnp.isfinite(actual) & (actual <= allowed))


_ISCLOSE = Op("isclose", _isclose_fn)


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Whether `|input - other| <= atol + rtol * |other|`, elementwise (nan equal to nan with
    `equal_nan`)."""
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype.scalar_name} did not match {other.dtype.scalar_name}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    compute = input.dtype if input.dtype.is_floating_point or input.dtype.is_complex else dt.get_default_dtype()
    return record(_ISCLOSE, (input, other), _broadcast(input, other), np.dtype(np.bool_), None,
                  (("rtol", float(rtol)), ("atol", float(atol)), ("equal_nan", bool(equal_nan)),
                   ("dtype", compute.numpy)), differentiable=False)


def rsub(input: Tensor, other, alpha=1) -> Tensor:
    """`other - alpha * input` (PyTorch's `torch.rsub`)."""
    if not isinstance(other, (Tensor, *SCALARS)):
        raise TypeError(f"rsub(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    result = A.sub(other, input, alpha=alpha)
    result._current_expr().grad_name = "RsubBackward0" if isinstance(other, Tensor) else "RsubBackward1"
    return result


FUNCTIONS = {function.__name__: function for function in (lerp, addcmul, addcdiv, isclose, rsub)}
METHODS = {**FUNCTIONS, **{f"{name}_": in_place(FUNCTIONS[name], f"{name}_") for name in ("lerp", "addcmul", "addcdiv")}}
