"""Arithmetic, comparisons, logic, `where` and `clamp` on tensors and Python scalars, with
PyTorch's type promotion, broadcasting errors and backward-node names."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..grad_fn import NOT_DIFFERENTIABLE
from ..recording import kind_of, promote, record, record_binary
from ..tensor import Tensor
from .common import SCALARS, broadcast_shapes, cast, host_cast, not_implemented, shape_of
from .elementwise import reciprocal

def _check_operand(value, name: str):
    if not isinstance(value, (Tensor, *SCALARS)):
        raise TypeError(f"{name}(): argument 'other' (position 1) must be Tensor, not {type(value).__name__}")


# -- binary arithmetic -------------------------------------------------------------------------


def _binary_op(name: str, fn, *, saves: bool = True, host=None) -> Op:
    """`fn` of two operands cast to the dtype it computes in; `host`, its NumPy twin, where
    NumPy gives the same bits."""
    host_fn = None if host is None else (lambda a, b, *, dtype: host(host_cast(a, dtype), host_cast(b, dtype)))
    return Op(name, lambda a, b, *, dtype: fn(cast(a, dtype), cast(b, dtype)), saves=saves, host=host_fn)



ADD = _binary_op("add", jnp.add, saves=False, host=np.add)  # PyTorch's AddBackward0/SubBackward0 keep no tensors
SUB = _binary_op("sub", jnp.subtract, saves=False, host=np.subtract)
MUL = _binary_op("mul", jnp.multiply, host=np.multiply)
DIV = _binary_op("div", jnp.divide, host=np.divide)
def _floor_divide(a, b):
    """PyTorch's floor division: of floats, its formula (IEEE's result for a zero divisor,
    and a zero quotient with the sign of `a / b`, where JAX may give -0.0 for +0.0)."""
    if not jnp.issubdtype(a.dtype, jnp.inexact):
        return jnp.floor_divide(a, b)
    mod = jnp.fmod(a, b)
    div = (a - mod) / b
    div = jnp.where((mod != 0) & ((b < 0) != (mod < 0)), div - 1, div)
    floor = jnp.floor(div)
    floor = jnp.where(div - floor > 0.5, floor + 1, floor)
    floor = jnp.where(div != 0, floor, jnp.copysign(jnp.zeros_like(div), a / b))
    return jnp.where(b == 0, a / b, floor)


FLOOR_DIV = _binary_op("floor_divide", _floor_divide)
REMAINDER = _binary_op("remainder", jnp.remainder)
MAXIMUM = _binary_op("maximum", jnp.maximum, host=np.maximum)
MINIMUM = _binary_op("minimum", jnp.minimum, host=np.minimum)


@jax.custom_jvp
def _power(x, y):
    return jnp.power(x, y)


@_power.defjvp
def _power_jvp(primals, tangents):
    """PyTorch's derivatives of x ** y: zero with respect to x where y == 0, and zero with
    respect to y where x == 0 and y >= 0 (JAX gives 0 * log(0) = nan there)."""
    x, y = primals
    dx, dy = tangents
    out = jnp.power(x, y)
    zero = jnp.zeros_like(out)
    d_x = jnp.where(y == 0, zero, y * jnp.power(x, y - 1))
    d_y = jnp.where((x == 0) & (y >= 0), zero, out * jnp.log(x))
    return out, d_x * dx + d_y * dy


def _integer_power(x, y):
    """PyTorch's integer power: a negative exponent gives 0, except for bases 1 and -1."""
    negative = y < 0
    power = jnp.power(x, jnp.where(negative, jnp.zeros_like(y), y))
    one = jnp.ones_like(x)
    reciprocal = jnp.where(x == 1, one, jnp.where(x == -1, jnp.where(y % 2 == 0, one, -one), jnp.zeros_like(x)))
    return jnp.where(negative, reciprocal, power)


def _pow_fn(x, y, *, dtype):
    x, y = cast(x, dtype), cast(y, dtype)
    if jnp.issubdtype(dtype, jnp.inexact):
        return _power(x, y)
    return _integer_power(x, y) if jnp.issubdtype(dtype, jnp.signedinteger) else jnp.power(x, y)


POW_TENSOR = Op("pow", _pow_fn)


def _binary(op: Op, a, b, grad_name: str, *, dtype=None, compute_dtype=None):
    """Records a binary op: PyTorch's promotion gives the dtype it computes in
    (`compute_dtype`) and returns (`dtype`), unless given."""
    compute = compute_dtype.numpy if compute_dtype is not None else (dtype.numpy if dtype is not None else None)
    return record_binary(op, a, b, grad_name, dtype.numpy if dtype is not None else None, compute, broadcast_shapes)


# `a + alpha * b` as one op, as PyTorch's add/sub with `alpha` are one node.
ADD_SCALED = Op("add_scaled", lambda a, b, *, alpha, dtype: cast(a, dtype) + cast(b, dtype) * jnp.asarray(alpha, dtype),
                saves=False)
SUB_SCALED = Op("sub_scaled", lambda a, b, *, alpha, dtype: cast(a, dtype) - cast(b, dtype) * jnp.asarray(alpha, dtype),
                saves=False)


def _scaled(op: Op, a, b, alpha, grad_name: str):
    result = dt.result_type(a, b)
    if isinstance(alpha, (float, np.floating)) and not (result.is_floating_point or result.is_complex):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    shape = broadcast_shapes(shape_of(a), shape_of(b))
    return record(op, (a, b), shape, result.numpy, grad_name, (("alpha", alpha), ("dtype", result.numpy)))


def add(a, b, alpha=1):
    _check_operand(b, "add")
    if alpha != 1:
        return _scaled(ADD_SCALED, a, b, alpha, "AddBackward0")
    return _binary(ADD, a, b, "AddBackward0")


def _is_bool(value) -> bool:
    if isinstance(value, Tensor):
        return value._current_expr().dtype == np.bool_
    return isinstance(value, (bool, np.bool_))


def _check_bool_subtraction(a, b) -> None:
    a_bool, b_bool = _is_bool(a), _is_bool(b)
    if a_bool and b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` "
            "operator instead."
        )
    if a_bool or b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, "
            "use the `~` or `logical_not()` operator instead."
        )


def sub(a, b, alpha=1):
    _check_operand(b, "sub")
    _check_bool_subtraction(a, b)
    if alpha != 1:
        return _scaled(SUB_SCALED, a, b, alpha, "SubBackward0")
    return _binary(SUB, a, b, "SubBackward0")


def rsub(a, b):
    """`b - a` for a Python scalar `b`."""
    _check_bool_subtraction(b, a)
    return _binary(SUB, b, a, "RsubBackward1")


def mul(a, b):
    _check_operand(b, "mul")
    return _binary(MUL, a, b, "MulBackward0")


def _truncating_divide(a, b):
    if jnp.issubdtype(a.dtype, jnp.inexact):
        return jnp.trunc(a / b)
    return jax.lax.div(*jnp.broadcast_arrays(a, b))  # XLA's integer division rounds towards zero


# PyTorch's derivative of a rounded quotient is zero (it is piecewise constant).
ROUNDED_DIV = {"floor": _binary_op("div_floor", lambda a, b: jax.lax.stop_gradient(_floor_divide(a, b))),
               "trunc": _binary_op("div_trunc", lambda a, b: jax.lax.stop_gradient(_truncating_divide(a, b)))}


def div(a, b, rounding_mode=None):
    _check_operand(b, "div")
    if rounding_mode is not None:
        if rounding_mode not in ROUNDED_DIV:
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"'{rounding_mode}'")
        _refuse_bools(a, b, f"div_{rounding_mode}_cpu")
        return _binary(ROUNDED_DIV[rounding_mode], a, b, "DivBackward2" if isinstance(b, Tensor) else "DivBackward3")
    result = dt.result_type(a, b)
    if not (result.is_floating_point or result.is_complex):
        result = dt.get_default_dtype()
    return _binary(DIV, a, b, "DivBackward0", dtype=result)


def rdiv(a, b):
    """`b / a` for a Python scalar `b`: PyTorch computes it as `reciprocal(a) * b` (which may
    differ from `b / a` in the last bit, and has a `ReciprocalBackward0` under the
    `MulBackward0`), and so do we."""
    return mul(reciprocal(a), b)


def _refuse_bools(a, b, kernel: str) -> None:
    """PyTorch has no kernel for some ops on two bools (whose result would be bool); it
    checks that the shapes broadcast first."""
    broadcast_shapes(shape_of(a), shape_of(b))
    if _is_bool(a) and _is_bool(b):
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


# PyTorch has no derivative for floor division, nor for the remainder of a number by a
# tensor: their results require grad, and a backward pass through them raises.


def floor_divide(a, b):
    _refuse_bools(a, b, "div_floor_cpu")
    return _binary(FLOOR_DIV, a, b, NOT_DIFFERENTIABLE)


def remainder(a, b):
    _refuse_bools(a, b, "remainder_cpu")
    if not isinstance(a, Tensor):
        return _binary(REMAINDER, a, b, NOT_DIFFERENTIABLE)
    return _binary(REMAINDER, a, b, "RemainderBackward1" if isinstance(b, Tensor) else "RemainderBackward0")


def maximum(a, b):
    return _binary(MAXIMUM, a, b, "MaximumBackward0")


def minimum(a, b):
    return _binary(MINIMUM, a, b, "MinimumBackward0")


def _pow_scalar_fn(x, *, exponent, dtype):
    if dtype == np.bool_:  # a bool tensor to a bool power: x ** True is x, x ** False is all True
        return _pow_scalar_fn(x, exponent=exponent, dtype=np.dtype(np.int8)).astype(np.bool_)
    x = cast(x, dtype)
    if isinstance(exponent, int):
        return jax.lax.integer_pow(x, exponent) if exponent >= 0 else 1 / jax.lax.integer_pow(x, -exponent)
    return jnp.power(x, jnp.asarray(exponent, dtype))


POW_SCALAR = Op("pow_scalar", _pow_scalar_fn)


def pow(a, exponent):  # noqa: A001 - PyTorch's name
    if isinstance(exponent, Tensor):
        _refuse_bools(a, exponent, "pow")
        return _binary(POW_TENSOR, a, exponent, "PowBackward1")
    _check_operand(exponent, "pow")
    expr = a._current_expr()
    result = dt.from_numpy(promote(kind_of(a, expr), kind_of(exponent, None)))
    if not result.is_floating_point and isinstance(exponent, (int, np.integer)) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if isinstance(exponent, (bool, int, np.integer, np.bool_)) or (float(exponent).is_integer() and -2**31 < exponent < 2**31):
        exponent = int(exponent)  # x ** 2.0 is x * x exactly, as in PyTorch
    else:
        exponent = float(exponent)
    return record(POW_SCALAR, (a,), expr.shape, result.numpy, "PowBackward0", (("exponent", exponent), ("dtype", result.numpy)))


def rpow(a, base):
    """`base ** a` for a Python scalar `base`."""
    _refuse_bools(base, a, "pow")
    return _binary(POW_TENSOR, base, a, "PowBackward2")


# -- comparisons and logic ---------------------------------------------------------------------


_COMPARISONS = {
    "eq": _binary_op("eq", jnp.equal, host=np.equal), "ne": _binary_op("ne", jnp.not_equal, host=np.not_equal),
    "lt": _binary_op("lt", jnp.less, host=np.less), "le": _binary_op("le", jnp.less_equal, host=np.less_equal),
    "gt": _binary_op("gt", jnp.greater, host=np.greater), "ge": _binary_op("ge", jnp.greater_equal, host=np.greater_equal),
}


def _binary_without_grad(op: Op, a, b, result: dt.dtype, compute: dt.dtype):
    """Records a binary op with a bool or integer result, which never requires grad."""
    shape = broadcast_shapes(shape_of(a), shape_of(b))
    return record(op, (a, b), shape, result.numpy, None, (("dtype", compute.numpy),), differentiable=False)


def compare(name: str, a, b):
    if not isinstance(b, (Tensor, *SCALARS)):
        return NotImplemented
    return _binary_without_grad(_COMPARISONS[name], a, b, dt.bool_, dt.result_type(a, b))


def comparison(name: str):
    """The function `torch.<name>` (and the method) for the comparison `name` ('eq', 'lt', ...)."""

    def compare_with(a, b):
        return compare(name, a, b)

    compare_with.__name__ = compare_with.__qualname__ = name
    return compare_with


_LOGICAL = {
    "and": _binary_op("and", jnp.bitwise_and, host=np.bitwise_and),
    "or": _binary_op("or", jnp.bitwise_or, host=np.bitwise_or),
    "xor": _binary_op("xor", jnp.bitwise_xor, host=np.bitwise_xor),
}


def logical(name: str, a, b):
    result = dt.result_type(a, b)
    broadcast_shapes(shape_of(a), shape_of(b))  # PyTorch checks shapes before it looks for a kernel
    if result.is_floating_point or result.is_complex:
        raise not_implemented(f"bitwise_{name}_cpu", result)
    return _binary_without_grad(_LOGICAL[name], a, b, result, result)


WHERE = Op("where", lambda condition, x, y, *, dtype: jnp.where(condition, cast(x, dtype), cast(y, dtype)),
           host=lambda condition, x, y, *, dtype: np.where(condition, host_cast(x, dtype), host_cast(y, dtype)))


def where(condition, x, y):
    kind = condition.dtype if isinstance(condition, Tensor) else None
    if kind is not None and kind is not dt.bool_ and kind is not dt.uint8:  # uint8: deprecated, still taken
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {kind.scalar_name}")
    result = dt.result_type(x, y)
    shape = broadcast_shapes(broadcast_shapes(shape_of(condition), shape_of(x)), shape_of(y))
    return record(WHERE, (condition, x, y), shape, result.numpy, "WhereBackward0", (("dtype", result.numpy),),
                  differentiable=(False, True, True))


# -- clamp ---------------------------------------------------------------------------------------


_TENSOR_BOUND = "tensor"  # in `_clamp_fn`: the bound is the next tensor input


def _clamp_fn(x, *tensor_bounds, low, high, dtype):
    """`x` limited to [low, high]; a bound is a static number, None, or a tensor input.

    The value is PyTorch's `min(max(x, low), high)`; it is selected from the input that
    PyTorch's backward gives the gradient to: `x` within the bounds (ties included), `low`
    below it when `low < high`, `high` above it or wherever `high < low`; nobody when
    `low == high` and `x` is outside. A nan (in `x` or a bound) gives nan, without a
    gradient here."""
    bounds = iter(tensor_bounds)
    x = cast(x, dtype)
    low = None if low is None else cast(next(bounds) if low is _TENSOR_BOUND else low, dtype)
    high = None if high is None else cast(next(bounds) if high is _TENSOR_BOUND else high, dtype)
    value = x  # nan in x or in a bound propagates
    if low is not None:
        value = jnp.maximum(value, low)
    if high is not None:
        value = jnp.minimum(value, high)
    inside = (x >= low if low is not None else True) & (x <= high if high is not None else True)
    out = value = jax.lax.stop_gradient(value)
    if high is not None:
        out = jnp.where((x > high) | (high < low) if low is not None else x > high, high, out)
    if low is not None:
        out = jnp.where((x < low) & (low < high) if high is not None else x < low, low, out)
    if jnp.issubdtype(dtype, jnp.inexact):
        out = jnp.where(jnp.isnan(x), value, out)
    return jnp.where(inside, x, out)


CLAMP = Op("clamp", _clamp_fn)


def clamp(x, min=None, max=None):  # noqa: A002
    """PyTorch's clamp. Number bounds are static arguments, so the node has the one input
    PyTorch's `ClampBackward1` has; tensor bounds are inputs (`ClampBackward0`) and get
    gradients."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    bounds = [bound for bound in (min, max) if bound is not None]
    tensors = [bound for bound in bounds if isinstance(bound, Tensor)]
    result = dt.result_type(x, *bounds)
    shape = x.shape
    for bound in tensors:
        shape = broadcast_shapes(shape, bound.shape)
    if result is dt.bool_ and len(tensors) != 1:  # one tensor bound goes to a kernel that takes bools
        kernel = "clamp_cpu" if tensors else ("clamp_scalar_cpu" if len(bounds) == 2 else
                                              "clamp_min_scalar_cpu" if max is None else "clamp_max_scalar_cpu")
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    static = tuple((name, _TENSOR_BOUND if isinstance(bound, Tensor) else bound)
                   for name, bound in (("low", min), ("high", max)))
    return record(CLAMP, (x, *tensors), shape, result.numpy, "ClampBackward0" if tensors else "ClampBackward1",
                  (*static, ("dtype", result.numpy)))
