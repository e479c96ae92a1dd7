"""Elementwise functions of one tensor, one row an op: PyTorch's name, the function of the
values, its backward node's name, whether integer inputs compute in the default float
dtype, and the error PyTorch raises for a bool input (if it refuses one)."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from .common import cast, host_cast, named


class Unary(NamedTuple):
    name: str
    fn: Callable
    grad_name: str
    to_float: bool = False
    bool_error: tuple | None = None  # (exception type, message)
    saves: bool = True
    host: Callable | None = None  # the NumPy twin, where it computes the same bits (engine/host.py)


def _for_bool(kernel: str) -> tuple:
    return NotImplementedError, f'"{kernel}" not implemented for \'Bool\''


@jax.custom_jvp
def _abs_inexact(x):
    return jnp.abs(x)


# PyTorch's derivative of |x| is sign(x), zero at zero (JAX's is one there).
_abs_inexact.defjvps(lambda tangent, _, x: jnp.sign(x) * tangent)


def _abs(x):
    return _abs_inexact(x) if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.abs(x)


def _sign(x):
    """-1, 0 or 1; PyTorch's sign of nan is 0 (JAX's is nan)."""
    if x.dtype == jnp.bool_:
        return x
    return jnp.where(jnp.isnan(x), jnp.zeros_like(x), jnp.sign(x)) if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.sign(x)


_NEGATION = ("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use "
             "the `~` or `logical_not()` operator instead.")

UNARY = [
    Unary("neg", jnp.negative, "NegBackward0", bool_error=(RuntimeError, _NEGATION), saves=False, host=np.negative),
    Unary("abs", _abs, "AbsBackward0", bool_error=_for_bool("abs_cpu"), host=np.abs),
    Unary("relu", jax.nn.relu, "ReluBackward0", bool_error=(RuntimeError, "Boolean inputs not supported for relu")),
    Unary("exp", jnp.exp, "ExpBackward0", to_float=True),
    Unary("log", jnp.log, "LogBackward0", to_float=True),
    Unary("sqrt", jnp.sqrt, "SqrtBackward0", to_float=True),
    Unary("sin", jnp.sin, "SinBackward0", to_float=True),
    Unary("cos", jnp.cos, "CosBackward0", to_float=True),
    Unary("tan", jnp.tan, "TanBackward0", to_float=True),
    Unary("sigmoid", jax.nn.sigmoid, "SigmoidBackward0", to_float=True),
    Unary("tanh", jnp.tanh, "TanhBackward0", to_float=True),
    Unary("log1p", jnp.log1p, "Log1PBackward0", to_float=True),
    Unary("rsqrt", jax.lax.rsqrt, "RsqrtBackward0", to_float=True),
    Unary("reciprocal", lambda x: 1 / x, "ReciprocalBackward0", to_float=True),
    Unary("floor", jnp.floor, "FloorBackward0", bool_error=_for_bool("floor_vml_cpu"), host=np.floor),
    Unary("ceil", jnp.ceil, "CeilBackward0", bool_error=_for_bool("ceil_vml_cpu"), host=np.ceil),
    Unary("round", jnp.round, "RoundBackward0", bool_error=_for_bool("round_vml_cpu"), host=np.round),
    Unary("trunc", jnp.trunc, "TruncBackward0", bool_error=_for_bool("trunc_vml_cpu"), host=np.trunc),
    Unary("sign", _sign, "SignBackward0"),
]


def _floating(x: Tensor) -> dt.dtype:
    return x.dtype if (x.dtype.is_floating_point or x.dtype.is_complex) else dt.get_default_dtype()


def _recorder(row: Unary):
    """The function `torch.<row.name>` (and the method) of a table row."""
    host = None if row.host is None else (lambda x, *, dtype: row.host(host_cast(x, dtype)))
    op = Op(row.name, lambda x, *, dtype: row.fn(cast(x, dtype)), saves=row.saves, host=host)

    def apply(input: Tensor) -> Tensor:
        if row.bool_error is not None and input.dtype is dt.bool_:
            raise row.bool_error[0](row.bool_error[1])
        result = _floating(input) if row.to_float else input.dtype
        return record(op, (input,), input.shape, result.numpy, row.grad_name, (("dtype", result.numpy),))

    return named(apply, row.name, f"`torch.{row.name}`, elementwise.")


FUNCTIONS = {row.name: _recorder(row) for row in UNARY}
neg, relu, exp, log, sigmoid, tanh, sqrt = (FUNCTIONS[n] for n in ("neg", "relu", "exp", "log", "sigmoid", "tanh", "sqrt"))
reciprocal, trunc = FUNCTIONS["reciprocal"], FUNCTIONS["trunc"]
_square = _recorder(Unary("square", jnp.square, "PowBackward0"))


def square(input: Tensor) -> Tensor:
    """`x * x`; bools square as int64, as `x ** 2` gives."""
    return _square(input.long() if input.dtype is dt.bool_ else input)


_NOT = Op("logical_not", lambda x: ~x if x.dtype == jnp.bool_ else x == 0)
_INVERT = Op("bitwise_not", jnp.invert)


def logical_not(input: Tensor) -> Tensor:
    return record(_NOT, (input,), input.shape, np.dtype(np.bool_), None, differentiable=False)


def bitwise_not(input: Tensor) -> Tensor:
    """`~x`: logical not of a bool tensor, two's complement not of an integer one."""
    if input.dtype.is_floating_point or input.dtype.is_complex:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return record(_INVERT, (input,), input.shape, input.dtype.numpy, None, differentiable=False)


FUNCTIONS.update(square=square, logical_not=logical_not, bitwise_not=bitwise_not)
