"""Arithmetic, comparisons, elementwise functions, reductions and matmul on tensors, with
PyTorch's type promotion, broadcasting errors and backward-node names."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from . import dtypes as dt
from .core import TensorCore, infer, record, record_binary, record_expr
from .lazy import Op
from .views import wrap_dim

SCALARS = (bool, int, float, complex, np.number, np.bool_)


def _cast(value, dtype):
    return value if getattr(value, "dtype", None) == dtype else jnp.asarray(value).astype(dtype)


def _shape(value) -> tuple:
    return value.shape if isinstance(value, TensorCore) else ()


def broadcast_shapes(a: tuple, b: tuple) -> tuple:
    """NumPy broadcasting, with PyTorch's error message."""
    if a == b:
        return a
    result = []
    for index in range(max(len(a), len(b))):
        size_a = a[len(a) - 1 - index] if index < len(a) else 1
        size_b = b[len(b) - 1 - index] if index < len(b) else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            dim = max(len(a), len(b)) - 1 - index
            raise RuntimeError(
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) at non-singleton dimension {dim}"
            )
        result.append(size_a if size_b == 1 else size_b)
    return tuple(reversed(result))


def _check_operand(value, name: str):
    if not isinstance(value, (TensorCore, *SCALARS)):
        raise TypeError(f"{name}(): argument 'other' must be Tensor or Number, not {type(value).__name__}")


# -- binary arithmetic -------------------------------------------------------------------------


def _binary_op(name: str, fn, *, saves: bool = True) -> Op:
    return Op(name, lambda a, b, *, dtype: fn(_cast(a, dtype), _cast(b, dtype)), saves=saves)


ADD = _binary_op("add", jnp.add, saves=False)  # PyTorch's AddBackward0/SubBackward0 keep no tensors
SUB = _binary_op("sub", jnp.subtract, saves=False)
MUL = _binary_op("mul", jnp.multiply)
DIV = _binary_op("div", jnp.divide)
FLOOR_DIV = _binary_op("floor_divide", jnp.floor_divide)
REMAINDER = _binary_op("remainder", jnp.remainder)
MAXIMUM = _binary_op("maximum", jnp.maximum)
MINIMUM = _binary_op("minimum", jnp.minimum)
POW_TENSOR = _binary_op("pow", jnp.power)


def _binary(op: Op, a, b, grad_name: str, *, dtype=None, compute_dtype=None):
    """Records a binary op: PyTorch's promotion gives the dtype it computes in
    (`compute_dtype`) and returns (`dtype`), unless given."""
    compute = compute_dtype.numpy if compute_dtype is not None else (dtype.numpy if dtype is not None else None)
    return record_binary(op, a, b, grad_name, dtype.numpy if dtype is not None else None, compute, broadcast_shapes)


def add(a, b, alpha=1):
    _check_operand(b, "add")
    if alpha != 1:
        b = mul(b, alpha)
    return _binary(ADD, a, b, "AddBackward0")


def sub(a, b, alpha=1):
    _check_operand(b, "sub")
    if alpha != 1:
        b = mul(b, alpha)
    return _binary(SUB, a, b, "SubBackward0")


def rsub(a, b):
    """`b - a` for a Python scalar `b`."""
    return _binary(SUB, b, a, "RsubBackward1")


def mul(a, b):
    _check_operand(b, "mul")
    return _binary(MUL, a, b, "MulBackward0")


def div(a, b, rounding_mode=None):
    _check_operand(b, "div")
    if rounding_mode == "floor":
        return floor_divide(a, b)
    result = dt.result_type(a, b)
    if not (result.is_floating_point or result.is_complex):
        result = dt.get_default_dtype()
    out = _binary(DIV, a, b, "DivBackward0", dtype=result)
    return trunc(out) if rounding_mode == "trunc" else out


def rdiv(a, b):
    """`b / a` for a Python scalar `b`: PyTorch computes it as `reciprocal(a) * b`."""
    result = dt.result_type(a, b)
    if not (result.is_floating_point or result.is_complex):
        result = dt.get_default_dtype()
    return _binary(DIV, b, a, "MulBackward0", dtype=result)


def floor_divide(a, b):
    return _binary(FLOOR_DIV, a, b, "FloorDivideBackward0")


def remainder(a, b):
    return _binary(REMAINDER, a, b, "RemainderBackward0")


def maximum(a, b):
    return _binary(MAXIMUM, a, b, "MaximumBackward0")


def minimum(a, b):
    return _binary(MINIMUM, a, b, "MinimumBackward0")


def _pow_scalar_fn(x, *, exponent, dtype):
    x = _cast(x, dtype)
    if isinstance(exponent, int):
        return jax.lax.integer_pow(x, exponent) if exponent >= 0 else 1 / jax.lax.integer_pow(x, -exponent)
    return jnp.power(x, jnp.asarray(exponent, dtype))


POW_SCALAR = Op("pow_scalar", _pow_scalar_fn)


def pow(a, exponent):  # noqa: A001 - PyTorch's name
    if isinstance(exponent, TensorCore):
        return _binary(POW_TENSOR, a, exponent, "PowBackward1")
    _check_operand(exponent, "pow")
    result = dt.result_type(a, exponent)
    if not result.is_floating_point and isinstance(exponent, (int, np.integer)) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if isinstance(exponent, (bool, int, np.integer, np.bool_)) or (float(exponent).is_integer() and abs(exponent) < 2**31):
        exponent = int(exponent)  # x ** 2.0 is x * x exactly, as in PyTorch
    else:
        exponent = float(exponent)
    return record(POW_SCALAR, (a,), a.shape, result.numpy, "PowBackward0", (("exponent", exponent), ("dtype", result.numpy)))


def rpow(a, base):
    """`base ** a` for a Python scalar `base`."""
    return _binary(POW_TENSOR, base, a, "PowBackward2")


# -- comparisons and logic ---------------------------------------------------------------------


def _compare_op(name: str, fn) -> Op:
    return Op(name, lambda a, b, *, dtype: fn(_cast(a, dtype), _cast(b, dtype)))


_COMPARISONS = {
    "eq": _compare_op("eq", jnp.equal), "ne": _compare_op("ne", jnp.not_equal),
    "lt": _compare_op("lt", jnp.less), "le": _compare_op("le", jnp.less_equal),
    "gt": _compare_op("gt", jnp.greater), "ge": _compare_op("ge", jnp.greater_equal),
}


def compare(name: str, a, b):
    if not isinstance(b, (TensorCore, *SCALARS)):
        return NotImplemented
    return _binary(_COMPARISONS[name], a, b, None, dtype=dt.bool_, compute_dtype=dt.result_type(a, b))


_LOGICAL = {
    "and": Op("and", lambda a, b, *, dtype: _cast(a, dtype) & _cast(b, dtype)),
    "or": Op("or", lambda a, b, *, dtype: _cast(a, dtype) | _cast(b, dtype)),
    "xor": Op("xor", lambda a, b, *, dtype: _cast(a, dtype) ^ _cast(b, dtype)),
}


def logical(name: str, a, b):
    result = dt.result_type(a, b)
    if result.is_floating_point:
        raise RuntimeError(f'"bitwise_{name}_cpu" not implemented for \'{result.name.capitalize()}\'')
    return _binary(_LOGICAL[name], a, b, None)


WHERE = Op("where", lambda condition, x, y, *, dtype: jnp.where(condition, _cast(x, dtype), _cast(y, dtype)))


def where(condition, x, y):
    result = dt.result_type(x, y)
    shape = broadcast_shapes(broadcast_shapes(_shape(condition), _shape(x)), _shape(y))
    return record(WHERE, (condition, x, y), shape, result.numpy, "WhereBackward0", (("dtype", result.numpy),),
                  differentiable=(False, True, True))


# -- unary -------------------------------------------------------------------------------------


def _unary_op(name: str, fn) -> Op:
    return Op(name, lambda x, *, dtype: fn(_cast(x, dtype)))


def _floating(x: TensorCore) -> dt.dtype:
    return x.dtype if (x.dtype.is_floating_point or x.dtype.is_complex) else dt.get_default_dtype()


def _unary(name, fn, *, grad_name, promote_to_float):
    op = _unary_op(name, fn)

    def apply(x: TensorCore):
        result = _floating(x) if promote_to_float else x.dtype
        return record(op, (x,), x.shape, result.numpy, grad_name, (("dtype", result.numpy),))

    apply.__name__ = name
    return apply


neg = _unary("neg", jnp.negative, grad_name="NegBackward0", promote_to_float=False)
abs = _unary("abs", jnp.abs, grad_name="AbsBackward0", promote_to_float=False)  # noqa: A001
relu = _unary("relu", jax.nn.relu, grad_name="ReluBackward0", promote_to_float=False)
exp = _unary("exp", jnp.exp, grad_name="ExpBackward0", promote_to_float=True)
log = _unary("log", jnp.log, grad_name="LogBackward0", promote_to_float=True)
sqrt = _unary("sqrt", jnp.sqrt, grad_name="SqrtBackward0", promote_to_float=True)
sin = _unary("sin", jnp.sin, grad_name="SinBackward0", promote_to_float=True)
cos = _unary("cos", jnp.cos, grad_name="CosBackward0", promote_to_float=True)
tan = _unary("tan", jnp.tan, grad_name="TanBackward0", promote_to_float=True)
sigmoid = _unary("sigmoid", jax.nn.sigmoid, grad_name="SigmoidBackward0", promote_to_float=True)
tanh = _unary("tanh", jnp.tanh, grad_name="TanhBackward0", promote_to_float=True)
log1p = _unary("log1p", jnp.log1p, grad_name="Log1PBackward0", promote_to_float=True)
rsqrt = _unary("rsqrt", jax.lax.rsqrt, grad_name="RsqrtBackward0", promote_to_float=True)
reciprocal = _unary("reciprocal", lambda x: 1 / x, grad_name="ReciprocalBackward0", promote_to_float=True)
floor = _unary("floor", jnp.floor, grad_name="FloorBackward0", promote_to_float=False)
ceil = _unary("ceil", jnp.ceil, grad_name="CeilBackward0", promote_to_float=False)
round = _unary("round", jnp.round, grad_name="RoundBackward0", promote_to_float=False)  # noqa: A001
trunc = _unary("trunc", jnp.trunc, grad_name="TruncBackward0", promote_to_float=False)
sign = _unary("sign", jnp.sign, grad_name="SignBackward0", promote_to_float=False)
square = _unary("square", jnp.square, grad_name="PowBackward0", promote_to_float=False)

_NOT = Op("logical_not", lambda x: ~x if x.dtype == jnp.bool_ else x == 0)


def logical_not(x):
    return record(_NOT, (x,), x.shape, np.dtype(np.bool_), None)


def clamp(x, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    out = x
    if min is not None:
        out = maximum(out, min) if isinstance(min, TensorCore) else _clamp_scalar(out, min, "min")
    if max is not None:
        out = minimum(out, max) if isinstance(max, TensorCore) else _clamp_scalar(out, max, "max")
    return out


_CLAMP_MIN = Op("clamp_min", lambda x, bound, *, dtype: jnp.maximum(_cast(x, dtype), _cast(bound, dtype)))
_CLAMP_MAX = Op("clamp_max", lambda x, bound, *, dtype: jnp.minimum(_cast(x, dtype), _cast(bound, dtype)))


def _clamp_scalar(x, bound, which):
    result = dt.result_type(x, bound)
    op = _CLAMP_MIN if which == "min" else _CLAMP_MAX
    return record(op, (x, bound), x.shape, result.numpy, "ClampMinBackward0" if which == "min" else "ClampMaxBackward0",
                  (("dtype", result.numpy),))


# -- reductions ----------------------------------------------------------------------------------


def _dims(x: TensorCore, dim) -> tuple | None:
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(sorted(wrap_dim(d, x.ndim) for d in dims))


def _reduced_shape(shape: tuple, dims, keepdim: bool) -> tuple:
    if dims is None:
        return tuple(1 for _ in shape) if keepdim else ()
    return tuple(1 if i in dims else s for i, s in enumerate(shape)) if keepdim else tuple(s for i, s in enumerate(shape) if i not in dims)


SUM = Op("sum", lambda x, *, dims, keepdim, dtype: jnp.sum(_cast(x, dtype), axis=dims, keepdims=keepdim))
MEAN = Op("mean", lambda x, *, dims, keepdim, dtype: jnp.mean(_cast(x, dtype), axis=dims, keepdims=keepdim))
PROD = Op("prod", lambda x, *, dims, keepdim, dtype: jnp.prod(_cast(x, dtype), axis=dims, keepdims=keepdim))


def sum(x, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    result = dt.as_dtype(dtype) if dtype is not None else (dt.int64 if not (x.dtype.is_floating_point or x.dtype.is_complex) else x.dtype)
    dims = _dims(x, dim)
    name = "SumBackward0" if dim is None else "SumBackward1"
    return record(SUM, (x,), _reduced_shape(x.shape, dims, keepdim), result.numpy, name,
                  (("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)), saves=False)


def mean(x, dim=None, keepdim=False, *, dtype=None):
    result = dt.as_dtype(dtype) if dtype is not None else x.dtype
    if not (result.is_floating_point or result.is_complex):
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {_type_name(result)}"
        )
    dims = _dims(x, dim)
    name = "MeanBackward0" if dim is None else "MeanBackward1"
    return record(MEAN, (x,), _reduced_shape(x.shape, dims, keepdim), result.numpy, name,
                  (("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)), saves=False)


def prod(x, dim=None, keepdim=False, *, dtype=None):
    result = dt.as_dtype(dtype) if dtype is not None else (dt.int64 if not (x.dtype.is_floating_point or x.dtype.is_complex) else x.dtype)
    dims = _dims(x, dim)
    return record(PROD, (x,), _reduced_shape(x.shape, dims, keepdim), result.numpy,
                  "ProdBackward0" if dim is None else "ProdBackward1", (("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)))


def _type_name(d: dt.dtype) -> str:
    """PyTorch's ScalarType name in messages: Long, Float, Double, ..."""
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
            "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16"}.get(d.name, d.name)


_REDUCE_ALL = {
    "max": Op("max_all", lambda x: jnp.max(x)),
    "min": Op("min_all", lambda x: jnp.min(x)),
}


def _argextreme(x, *, dim, keepdim, which):
    index = (jnp.argmax if which == "max" else jnp.argmin)(x, axis=dim, keepdims=True)
    values = jnp.take_along_axis(x, index, axis=dim)  # the gradient goes to this one element, as in PyTorch
    if not keepdim:
        values, index = jnp.squeeze(values, dim), jnp.squeeze(index, dim)
    return values, index.astype(jnp.int64)


_REDUCE_DIM = Op("reduce_dim", _argextreme)
SELECT_OUTPUT = Op("select_output", lambda values, *, index: values[index])


class _ValuesIndices(tuple):
    """`torch.return_types.max(values=..., indices=...)`."""

    __slots__ = ()
    _name = "max"

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


@functools.lru_cache(maxsize=None)
def _return_type(name: str) -> type:
    return type(name, (_ValuesIndices,), {"__slots__": (), "_name": name})


def extreme(x, which: str, dim=None, keepdim=False):
    """`max`/`min`: of everything (`dim=None`), per `dim` (values and indices), or
    elementwise against another tensor."""
    if isinstance(dim, TensorCore):
        return maximum(x, dim) if which == "max" else minimum(x, dim)
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{which}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        return record(_REDUCE_ALL[which], (x,), (), x.dtype.numpy, f"{which.capitalize()}Backward1")
    d = wrap_dim(dim, x.ndim)
    shape = _reduced_shape(x.shape, (d,), keepdim)
    both, _ = record_expr(_REDUCE_DIM, (x,), (shape, shape), None, f"{which.capitalize()}Backward0",
                          (("dim", d), ("keepdim", bool(keepdim)), ("which", which)))
    values = record(SELECT_OUTPUT, (both,), shape, x.dtype.numpy, f"{which.capitalize()}Backward0", (("index", 0),))
    indices = record(SELECT_OUTPUT, (both,), shape, np.dtype(np.int64), None, (("index", 1),), differentiable=False)
    return _return_type(which)((values, indices))


_ARG = {
    "argmax": Op("argmax", lambda x, *, dim, keepdim: jnp.argmax(x, axis=dim, keepdims=keepdim).astype(jnp.int64)),
    "argmin": Op("argmin", lambda x, *, dim, keepdim: jnp.argmin(x, axis=dim, keepdims=keepdim).astype(jnp.int64)),
}


def arg_extreme(x, name: str, dim=None, keepdim=False):
    if dim is None:
        shape = tuple(1 for _ in x.shape) if keepdim else ()
        source = x.reshape(-1) if not keepdim else x
        d = 0 if not keepdim else None
        if keepdim:
            return record(_ARG[name], (x,), shape, np.dtype(np.int64), None, (("dim", None), ("keepdim", True)))
        return record(_ARG[name], (source,), shape, np.dtype(np.int64), None, (("dim", d), ("keepdim", False)))
    d = wrap_dim(dim, x.ndim)
    return record(_ARG[name], (x,), _reduced_shape(x.shape, (d,), keepdim), np.dtype(np.int64), None,
                  (("dim", d), ("keepdim", bool(keepdim))))


# -- softmax family --------------------------------------------------------------------------------


SOFTMAX = Op("softmax", lambda x, *, dim, dtype: jax.nn.softmax(_cast(x, dtype), axis=dim))
LOG_SOFTMAX = Op("log_softmax", lambda x, *, dim, dtype: jax.nn.log_softmax(_cast(x, dtype), axis=dim))


def softmax(x, dim, dtype=None):
    result = dt.as_dtype(dtype) if dtype is not None else _floating(x)
    d = wrap_dim(dim, x.ndim)
    return record(SOFTMAX, (x,), x.shape, result.numpy, "SoftmaxBackward0", (("dim", d), ("dtype", result.numpy)))


def log_softmax(x, dim, dtype=None):
    result = dt.as_dtype(dtype) if dtype is not None else _floating(x)
    d = wrap_dim(dim, x.ndim)
    return record(LOG_SOFTMAX, (x,), x.shape, result.numpy, "LogSoftmaxBackward0", (("dim", d), ("dtype", result.numpy)))


# -- matmul ------------------------------------------------------------------------------------------


MATMUL = Op("matmul", jnp.matmul)


def matmul(a, b):
    """PyTorch's `matmul`, with its shape errors and backward-node names per case."""
    if not isinstance(b, TensorCore):
        raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not {type(b).__name__}")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype.name} != {b.dtype.name}"
                           .replace("float32", "float").replace("float64", "double"))
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and {len(sb)}D")
    if len(sa) == 1 and len(sb) == 1:
        if sa != sb:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same number of "
                f"elements, but got {sa[0]} and {sb[0]} elements respectively"
            )
        return record(MATMUL, (a, b), (), a.dtype.numpy, "DotBackward0")
    if len(sa) == 2 and len(sb) == 1:
        if sa[1] != sb[0]:
            raise RuntimeError(f"size mismatch, got input ({sa[0]}), mat ({sa[0]}x{sa[1]}), vec ({sb[0]})")
        return record(MATMUL, (a, b), (sa[0],), a.dtype.numpy, "MvBackward0")
    if len(sa) <= 2 and len(sb) == 2:
        rows = sa[0] if len(sa) == 2 else 1
        if sa[-1] != sb[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and {sb[0]}x{sb[1]})")
        shape = (sa[0], sb[1]) if len(sa) == 2 else (sb[1],)
        return record(MATMUL, (a, b), shape, a.dtype.numpy, "MmBackward0" if len(sa) == 2 else "SqueezeBackward4")
    if sa[-1] != sb[-2 if len(sb) > 1 else -1]:
        batch = sa[:-2] if len(sa) > 2 else ()
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{math.prod(batch) if batch else 1}, {sa[-1]}] "
            f"but got: [{math.prod(sb[:-2]) if len(sb) > 2 else 1}, {sb[-2] if len(sb) > 1 else sb[-1]}]."
        )
    shape, dtype = infer(MATMUL, (a, b))
    return record(MATMUL, (a, b), shape, dtype, "UnsafeViewBackward0")
