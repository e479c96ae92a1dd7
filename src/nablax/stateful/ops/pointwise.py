"""Elementwise functions of two tensors (or a tensor and a number), one row an op: PyTorch's
name, the function of the values, its backward nodes' names (with a tensor, a number as
`other`, a number as `input`), whether integer inputs compute in the default float dtype,
and the kernel that refuses some dtypes. Arithmetic proper (`+`, `*`, `**`, ...) is in
arithmetic.py; `float_power`, `clamp_min` and `clamp_max` build on it here."""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..grad_fn import NOT_DIFFERENTIABLE
from ..recording import record, record_binary
from ..tensor import Tensor
from . import arithmetic as A
from .common import SCALARS, broadcast_shapes, cast, named, not_implemented, shape_of

BOOL, INTEGER, FLOATING = 0, 1, 2  # dtype categories (`dtype._category`)


class Binary(NamedTuple):
    name: str
    fn: Callable
    grad_name: str | None  # tensor with tensor; None: PyTorch has no derivative (a backward pass raises)
    number_other: str | None = None  # the name with a Python number as `other`; None: tensors only
    number_input: str | None = None  # the name with a Python number as `input`; None: tensors only
    to_float: bool = False  # integer and bool inputs compute in the default float dtype
    kernel: str | None = None  # PyTorch's kernel, which refuses the dtype categories in `refuses`
    refuses: tuple = ()
    other_name: str = "other"  # PyTorch's name of the second argument
    input_name: str = "input"  # ... and of the first
    predicate: bool = False  # a bool result, never differentiable
    same_dtypes: bool = False  # PyTorch refuses operands of different dtypes
    differentiable: bool = True  # False: PyTorch's result never requires grad (its polynomials)


@jax.custom_jvp
def _copysign(a, b):
    return jnp.copysign(a, b)


# PyTorch's derivative: the result over the input, zero where the input is zero (JAX's is ±1
# there), and nothing for the sign's source.
_copysign.defjvps(lambda tangent, result, a, b: jnp.where(a == 0, jnp.zeros_like(a), result / a) * tangent,
                  lambda tangent, result, a, b: jnp.zeros_like(result))


def _fmax(a, b):
    """The larger, ignoring a nan; the gradient of a tie goes to `a` (PyTorch's rule)."""
    return jnp.where((a >= b) | jnp.isnan(b), a, b)


def _fmin(a, b):
    return jnp.where((a <= b) | jnp.isnan(b), a, b)


def _nextafter(a, b):
    """The next representable number after `a` towards `b`; PyTorch's derivative is 1 for `a`."""
    # (nextafter itself has no JAX derivative, so it sees constants: the step is exact)
    a_value, b_value = jax.lax.stop_gradient(a), jax.lax.stop_gradient(b)
    return a + (jnp.nextafter(a_value, b_value) - a_value)


def _ldexp(a, b):
    return a * jnp.exp2(b)


def _heaviside(a, values):
    """`values` where `a` is zero, else whether `a` is positive (0 for nan, as in PyTorch)."""
    return jnp.where(a == 0, values, (a > 0).astype(a.dtype))


def _logical(fn):
    return lambda a, b: fn(a != 0, b != 0)


BINARY = [
    Binary("atan2", jnp.arctan2, "Atan2Backward0", to_float=True),
    Binary("hypot", jnp.hypot, "HypotBackward0", kernel="hypot_cpu", refuses=(BOOL, INTEGER)),
    Binary("fmod", jnp.fmod, "FmodBackward1", number_other="FmodBackward0", kernel="fmod_cpu", refuses=(BOOL,)),
    Binary("copysign", _copysign, "CopysignBackward0", number_other="CopysignBackward1", to_float=True),
    Binary("logaddexp", jnp.logaddexp, "LogaddexpBackward0", kernel="logaddexp_cpu", refuses=(BOOL, INTEGER)),
    Binary("logaddexp2", jnp.logaddexp2, "Logaddexp2Backward0", kernel="logaddexp2_cpu", refuses=(BOOL, INTEGER)),
    Binary("xlogy", jax.scipy.special.xlogy, "XlogyBackward0", number_other="XlogyBackward2",
           number_input="XlogyBackward1", to_float=True),
    Binary("maximum", jnp.maximum, "MaximumBackward0"),
    Binary("minimum", jnp.minimum, "MinimumBackward0"),
    Binary("fmax", _fmax, "FmaxBackward0"),
    Binary("fmin", _fmin, "FminBackward0"),
    Binary("nextafter", _nextafter, "NextafterBackward0", kernel="nextafter_cpu", refuses=(BOOL, INTEGER)),
    Binary("ldexp", _ldexp, "LdexpBackward0", to_float=True),
    Binary("heaviside", _heaviside, None, other_name="values", same_dtypes=True),
    Binary("gcd", jnp.gcd, None, kernel="gcd_cpu", refuses=(BOOL, FLOATING)),
    Binary("lcm", jnp.lcm, None, kernel="lcm_cpu", refuses=(BOOL, FLOATING)),
    Binary("bitwise_left_shift", jnp.left_shift, None, number_other=NOT_DIFFERENTIABLE,
           number_input=NOT_DIFFERENTIABLE, kernel="lshift_cpu", refuses=(BOOL, FLOATING)),
    Binary("bitwise_right_shift", jnp.right_shift, None, number_other=NOT_DIFFERENTIABLE,
           number_input=NOT_DIFFERENTIABLE, kernel="rshift_cpu", refuses=(BOOL, FLOATING)),
    Binary("logical_and", _logical(jnp.logical_and), None, predicate=True),
    Binary("logical_or", _logical(jnp.logical_or), None, predicate=True),
    Binary("logical_xor", _logical(jnp.logical_xor), None, predicate=True),
]

ALIASES = {"arctan2": "atan2"}


def _invalid_combination(name: str, a, b, other: str = "other") -> TypeError:
    """PyTorch's error for an op with a Number overload called with something else."""
    return TypeError(
        f"{name}() received an invalid combination of arguments - got ({type(a).__name__}, {type(b).__name__}), but "
        f"expected one of:\n * (Tensor input, Tensor {other}, *, Tensor out = None)\n"
        f" * (Tensor input, Number {other}, *, Tensor out = None)\n")


def _three_overloads(row: Binary, a, b) -> TypeError:
    """PyTorch's error for a function taking a number on either side called with neither
    side a tensor (or something else than a number)."""
    first, other = row.input_name, row.other_name
    number_first = "self" if first == "input" else first
    got = ", ".join(type(value).__name__ for value in (a, b))
    return TypeError(
        f"{row.name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
        f" * (Tensor {first}, Tensor {other}, *, Tensor out = None)\n"
        f" * (Number {number_first}, Tensor {other}, *, Tensor out = None)\n"
        f" * (Tensor {first}, Number {other}, *, Tensor out = None)\n")


def _check_operands(row: Binary, a, b, first_position: int) -> None:
    """PyTorch's argument errors: a number where only a tensor is taken, or neither."""
    if row.number_input is not None and first_position == 1:
        a_tensor, b_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
        if not ((a_tensor and (b_tensor or isinstance(b, SCALARS))) or (b_tensor and isinstance(a, SCALARS))):
            raise _three_overloads(row, a, b)
        return
    numbers_taken = row.number_other is not None
    for value, argument, position, taken in ((a, "input", first_position, row.number_input is not None),
                                             (b, row.other_name, first_position + 1, numbers_taken)):
        if isinstance(value, Tensor) or (taken and isinstance(value, SCALARS)):
            continue
        if numbers_taken and row.number_input is None:
            raise _invalid_combination(row.name, a, b)
        raise TypeError(f"{row.name}(): argument '{argument}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def _dtypes(row: Binary, a, b) -> dt.dtype:
    """The dtype the op computes in, after PyTorch's checks of the operands' dtypes."""
    if row.same_dtypes and a.dtype is not b.dtype:
        raise RuntimeError(f"{row.name} is not yet implemented for tensors with different dtypes.")
    result = dt.result_type(a, b)
    if row.kernel is not None and result._category in row.refuses:
        broadcast_shapes(shape_of(a), shape_of(b))  # PyTorch checks shapes before it looks for a kernel
        raise not_implemented(row.kernel, result)
    if row.to_float and not (result.is_floating_point or result.is_complex):
        return dt.get_default_dtype()
    return result


def _grad_name(row: Binary, a, b) -> str:
    if not isinstance(b, Tensor):
        return row.number_other
    if not isinstance(a, Tensor):
        return row.number_input
    return row.grad_name if row.grad_name is not None else NOT_DIFFERENTIABLE


def _op(row: Binary) -> Op:
    return Op(row.name, lambda a, b, *, dtype: row.fn(cast(a, dtype), cast(b, dtype)))


def _recorder(row: Binary, op: Op, *, method: bool = False):
    """`torch.<row.name>(input, other)`, or (`method`) `Tensor.<row.name>(self, other)`,
    whose argument errors count positions from `other`: both record `op`."""

    def apply(input, other):
        _check_operands(row, input, other, 0 if method else 1)
        compute = _dtypes(row, input, other)
        if row.predicate or not row.differentiable:
            shape = broadcast_shapes(shape_of(input), shape_of(other))
            result = np.dtype(np.bool_) if row.predicate else compute.numpy
            return record(op, (input, other), shape, result, None, (("dtype", compute.numpy),), differentiable=False)
        return record_binary(op, input, other, _grad_name(row, input, other), compute.numpy, compute.numpy,
                             broadcast_shapes)

    return named(apply, row.name, f"`torch.{row.name}`, elementwise.")


def binary_function(row: Binary):
    """The function `torch.<row.name>(input, other)` of a row of another table (special.py's)."""
    return _recorder(row, _op(row))


def float_power(input, exponent):
    """`input ** exponent` computed in float64 (complex128 for complex operands)."""
    def double(value):
        if isinstance(value, Tensor):
            return value.to(dt.complex128 if value.dtype.is_complex else dt.float64)
        return complex(value) if isinstance(value, complex) else float(value)

    if not isinstance(input, Tensor):
        return A.rpow(double(exponent), double(input))
    return A.pow(double(input), double(exponent))


def _clamp_bound(name: str, keyword: str):
    def clamp_bound(input: Tensor, bound) -> Tensor:
        if not isinstance(input, Tensor) or not isinstance(bound, (Tensor, *SCALARS)):
            raise _invalid_combination(f"clamp_{name}", input, bound, keyword)
        result = A.clamp(input, **{keyword: bound})
        result._current_expr().grad_name = f"Clamp{name.capitalize()}Backward{int(isinstance(bound, Tensor))}"
        return result

    return named(clamp_bound, f"clamp_{name}", f"`torch.clamp(input, {keyword}=bound)` (PyTorch's own node).")


clamp_min, clamp_max = _clamp_bound("min", "min"), _clamp_bound("max", "max")
_BITWISE = {f"bitwise_{name}": named(functools.partial(A.logical, name), f"bitwise_{name}", f"Bitwise {name}.")
            for name in ("and", "or", "xor")}

_ROWS = {row.name: row for row in BINARY}
_ROWS.update({alias: _ROWS[name]._replace(name=alias) for alias, name in ALIASES.items()})
_OPS = {name: _op(row) for name, row in _ROWS.items()}
FUNCTIONS = {name: _recorder(row, _OPS[name]) for name, row in _ROWS.items()}
FUNCTIONS.update(_BITWISE, float_power=float_power, clamp_min=clamp_min, clamp_max=clamp_max,
                 remainder=A.remainder, floor_divide=A.floor_divide)
METHODS = {**FUNCTIONS, **{name: _recorder(row, _OPS[name], method=True) for name, row in _ROWS.items()}}
