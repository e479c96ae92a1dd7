"""Elementwise functions of one tensor, one row an op: PyTorch's name, the function of the
values, its backward node's name, the result's dtype (the input's, the default float dtype
for integer inputs, or bool), the error PyTorch raises for a bool input (if it refuses one)
and the kernel that refuses integer inputs (if one does). PyTorch's other names for an op
are rows of `ALIASES`."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from .common import cast, host_cast, named, not_implemented
from .zeta import trigamma


class Unary(NamedTuple):
    name: str
    fn: Callable
    grad_name: str | None
    to_float: bool = False  # integer and bool inputs compute in the default float dtype
    bool_error: tuple | None = None  # (exception type, message)
    saves: bool = True
    integer_kernel: str | None = None  # the kernel that refuses integer (and bool) inputs
    predicate: bool = False  # a bool result, never differentiable
    host: Callable | None = None  # the NumPy twin, where it computes the same bits (engine/host.py)
    differentiable: bool = True  # False: PyTorch's result never requires grad (its Bessel functions)


def _for_bool(kernel: str) -> tuple:
    return NotImplementedError, f'"{kernel}" not implemented for \'Bool\''


@jax.custom_jvp
def _abs_inexact(x):
    return jnp.abs(x)


# PyTorch's derivative of |x| is sign(x), zero at zero (JAX's is one there).
_abs_inexact.defjvps(lambda tangent, _, x: jnp.sign(x) * tangent)


def abs_value(x):
    """|x| of an array, with PyTorch's derivative (sign(x), zero at zero)."""
    return _abs_inexact(x) if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.abs(x)


@jax.custom_jvp
def digamma(x):
    """The digamma function; PyTorch's is -inf at 0 (JAX's is nan there). Its derivative is
    PyTorch's trigamma, finite (and large) near the poles where JAX's is not."""
    return jnp.where(x == 0, -jnp.inf, jax.scipy.special.digamma(x))


digamma.defjvps(lambda tangent, _, x: trigamma(x) * tangent)


def _sign(x):
    """-1, 0 or 1; PyTorch's sign of nan is 0 (JAX's is nan)."""
    if x.dtype == jnp.bool_:
        return x
    return jnp.where(jnp.isnan(x), jnp.zeros_like(x), jnp.sign(x)) if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.sign(x)


def _of_floats(test):
    """The predicate `test` of floating values, False for every integer or bool."""
    return lambda x: test(x) if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.zeros(x.shape, bool)


def _isfinite(x):
    return jnp.isfinite(x) if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.ones(x.shape, bool)


def _frac(x):
    return x - jnp.trunc(x)


def _signbit(x):
    return jnp.signbit(x) if x.dtype != jnp.bool_ else jnp.zeros(x.shape, bool)


_NEGATION = ("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use "
             "the `~` or `logical_not()` operator instead.")

UNARY = [
    Unary("neg", jnp.negative, "NegBackward0", bool_error=(RuntimeError, _NEGATION), saves=False, host=np.negative),
    Unary("abs", abs_value, "AbsBackward0", bool_error=_for_bool("abs_cpu"), host=np.abs),
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
    Unary("sgn", _sign, "SgnBackward0"),
    Unary("asin", jnp.arcsin, "AsinBackward0", to_float=True),
    Unary("acos", jnp.arccos, "AcosBackward0", to_float=True),
    Unary("atan", jnp.arctan, "AtanBackward0", to_float=True),
    Unary("sinh", jnp.sinh, "SinhBackward0", to_float=True),
    Unary("cosh", jnp.cosh, "CoshBackward0", to_float=True),
    Unary("asinh", jnp.arcsinh, "AsinhBackward0", to_float=True),
    Unary("acosh", jnp.arccosh, "AcoshBackward0", to_float=True),
    Unary("atanh", jnp.arctanh, "AtanhBackward0", to_float=True),
    Unary("exp2", jnp.exp2, "Exp2Backward0", to_float=True),
    Unary("expm1", jnp.expm1, "Expm1Backward0", to_float=True),
    Unary("log2", jnp.log2, "Log2Backward0", to_float=True),
    Unary("log10", jnp.log10, "Log10Backward0", to_float=True),
    Unary("erf", jax.scipy.special.erf, "ErfBackward0", to_float=True),
    Unary("erfc", jax.scipy.special.erfc, "ErfcBackward0", to_float=True),
    Unary("erfinv", jax.scipy.special.erfinv, "ErfinvBackward0", to_float=True),
    Unary("lgamma", jax.scipy.special.gammaln, "LgammaBackward0", to_float=True),
    Unary("digamma", digamma, "DigammaBackward0", to_float=True),
    Unary("i0", jax.scipy.special.i0, "I0Backward0", to_float=True),
    Unary("sinc", jnp.sinc, "SincBackward0", to_float=True),
    Unary("deg2rad", jnp.deg2rad, "Deg2RadBackward0", to_float=True, saves=False),
    Unary("rad2deg", jnp.rad2deg, "Rad2DegBackward0", to_float=True, saves=False),
    Unary("frac", _frac, "FracBackward0", integer_kernel="frac_cpu", saves=False),
    Unary("isnan", _of_floats(jnp.isnan), None, predicate=True),
    Unary("isinf", _of_floats(jnp.isinf), None, predicate=True),
    Unary("isposinf", _of_floats(jnp.isposinf), None, predicate=True),
    Unary("isneginf", _of_floats(jnp.isneginf), None, predicate=True),
    Unary("isfinite", _isfinite, None, predicate=True),
    Unary("signbit", _signbit, None, predicate=True),
]

# PyTorch's other names of table rows.
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
           "arctanh": "atanh", "absolute": "abs", "negative": "neg", "fix": "trunc"}


def _floating(x: Tensor) -> dt.dtype:
    return x.dtype if (x.dtype.is_floating_point or x.dtype.is_complex) else dt.get_default_dtype()


def unary_function(row: Unary):
    """The function `torch.<row.name>` (and the method) of a table row."""
    host = None if row.host is None else (lambda x, *, dtype: row.host(host_cast(x, dtype)))
    op = Op(row.name, lambda x, *, dtype: row.fn(cast(x, dtype)), saves=row.saves, host=host)

    def apply(input: Tensor) -> Tensor:
        if row.bool_error is not None and input.dtype is dt.bool_:
            raise row.bool_error[0](row.bool_error[1])
        if row.integer_kernel is not None and not (input.dtype.is_floating_point or input.dtype.is_complex):
            raise not_implemented(row.integer_kernel, input.dtype)
        if row.predicate:
            return record(op, (input,), input.shape, np.dtype(np.bool_), None, (("dtype", input.dtype.numpy),),
                          differentiable=False)
        result = _floating(input) if row.to_float else input.dtype
        return record(op, (input,), input.shape, result.numpy, row.grad_name, (("dtype", result.numpy),),
                      differentiable=row.differentiable)

    return named(apply, row.name, f"`torch.{row.name}`, elementwise.")


FUNCTIONS = {row.name: unary_function(row) for row in UNARY}
FUNCTIONS.update({alias: FUNCTIONS[name] for alias, name in ALIASES.items()})
neg, relu, exp, log, sigmoid, tanh, sqrt = (FUNCTIONS[n] for n in ("neg", "relu", "exp", "log", "sigmoid", "tanh", "sqrt"))
reciprocal, trunc = FUNCTIONS["reciprocal"], FUNCTIONS["trunc"]
_square = unary_function(Unary("square", jnp.square, "PowBackward0"))


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


def positive(input: Tensor) -> Tensor:
    """`+x`: the tensor itself (PyTorch refuses bools)."""
    if input.dtype is dt.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def _round_to(x, *, decimals, dtype):
    """PyTorch's rounding to `decimals` places: scaled by a power of ten, rounded half to
    even, scaled back (dividing by the power when `decimals` is negative)."""
    scale = jnp.asarray(10.0 ** abs(decimals), dtype)
    if decimals < 0:
        return jnp.round(x / scale) * scale
    return jnp.round(x * scale) / scale


_ROUND_TO = Op("round_decimals", _round_to, saves=False)
_round = FUNCTIONS["round"]


def round(input: Tensor, *, decimals: int | None = None) -> Tensor:  # noqa: A001 - PyTorch's name
    """`torch.round`: half to even; to `decimals` places when given (a node of its own in
    PyTorch, `RoundBackward1`, even for `decimals=0`)."""
    if decimals is None:
        return _round(input)
    if not input.dtype.is_floating_point:
        raise not_implemented("round_cpu", input.dtype)
    return record(_ROUND_TO, (input,), input.shape, input.dtype.numpy, "RoundBackward1",
                  (("decimals", int(decimals)), ("dtype", input.dtype.numpy)))


def _nan_to_num(x, *, nan, posinf, neginf):
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return x
    return jnp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


_NAN_TO_NUM = Op("nan_to_num", _nan_to_num)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """nan, inf and -inf replaced by `nan`, `posinf` and `neginf` (by default 0 and the
    dtype's largest and lowest finite values); integers pass unchanged."""
    static = (("nan", float(nan)), ("posinf", None if posinf is None else float(posinf)),
              ("neginf", None if neginf is None else float(neginf)))
    return record(_NAN_TO_NUM, (input,), input.shape, input.dtype.numpy, "NanToNumBackward0", static)


def _logit(x, *, eps, dtype):
    """log(x / (1 - x)), with `x` first limited to [eps, 1 - eps] (no gradient outside
    that range; inside it, bounds included, the usual one), as PyTorch's `logit`."""
    x = cast(x, dtype)
    if eps is not None:
        low, high = jnp.asarray(eps, dtype), jnp.asarray(1 - eps, dtype)
        x = jnp.where(x < low, jax.lax.stop_gradient(low), jnp.where(x > high, jax.lax.stop_gradient(high), x))
    return jnp.log(x / (1 - x))


_LOGIT = Op("logit", _logit)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    result = _floating(input)
    return record(_LOGIT, (input,), input.shape, result.numpy, "LogitBackward0",
                  (("eps", None if eps is None else float(eps)), ("dtype", result.numpy)))


FUNCTIONS.update(positive=positive, round=round, nan_to_num=nan_to_num, logit=logit)
