"""PyTorch's dtypes over NumPy/JAX dtypes, with PyTorch's type promotion.

`torch.float32` prints `torch.float32`; Python floats make float32 tensors and Python ints
int64 ones; `tensor([1, 2]) / 2` is float32. JAX's own promotion differs (weak types,
float64 under x64), so every op asks `result_type` here and casts explicitly.
"""

from __future__ import annotations

import numpy as np

try:  # ml_dtypes comes with jax
    from ml_dtypes import bfloat16 as _bfloat16
except ImportError:  # pragma: no cover
    _bfloat16 = None


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor element type: `nablax.stateful.float32` prints `torch.float32`.

    Besides NumPy's dtype, each carries the names PyTorch gives it in messages: the
    ScalarType (`scalar_name`, "Float"), the C++ type (`cpp_name`, "float") and the legacy
    tensor type (`tensor_type`, "FloatTensor")."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_complex", "is_signed", "itemsize", "_category",
                 "scalar_name", "cpp_name", "tensor_type")

    def __init__(self, name: str, numpy_dtype, category: int, scalar_name: str, cpp_name: str, tensor_type: str):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self._category = category  # 0 bool, 1 integer, 2 floating, 3 complex
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = name not in ("bool", "uint8")
        self.itemsize = self.numpy.itemsize
        self.scalar_name, self.cpp_name, self.tensor_type = scalar_name, cpp_name, tensor_type

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))

    def to_complex(self) -> dtype:
        return complex128 if self is float64 else complex64


dtype.__module__ = "torch"

# PyTorch's dtypes and every name PyTorch has for them: one row each.
#          name          NumPy        category  ScalarType   C++ type                 tensor type       aliases
_TABLE = [("bool",       np.bool_,     0, "Bool",       "bool",                  "BoolTensor",     ("bool",)),
          ("uint8",      np.uint8,     1, "Byte",       "unsigned char",         "ByteTensor",     ("uint8",)),
          ("int8",       np.int8,      1, "Char",       "signed char",           "CharTensor",     ("int8",)),
          ("int16",      np.int16,     1, "Short",      "short int",             "ShortTensor",    ("int16", "short")),
          ("int32",      np.int32,     1, "Int",        "int",                   "IntTensor",      ("int32", "int")),
          ("int64",      np.int64,     1, "Long",       "long int",              "LongTensor",     ("int64", "long")),
          ("float16",    np.float16,   2, "Half",       "c10::Half",             "HalfTensor",     ("float16", "half")),
          ("bfloat16",   _bfloat16,    2, "BFloat16",   "c10::BFloat16",         "BFloat16Tensor", ("bfloat16",)),
          ("float32",    np.float32,   2, "Float",      "float",                 "FloatTensor",    ("float32", "float")),
          ("float64",    np.float64,   2, "Double",     "double",                "DoubleTensor",   ("float64", "double")),
          ("complex64",  np.complex64, 3, "ComplexFloat", "c10::complex<float>", "ComplexFloatTensor",
           ("complex64", "cfloat")),
          ("complex128", np.complex128, 3, "ComplexDouble", "c10::complex<double>", "ComplexDoubleTensor",
           ("complex128", "cdouble"))]

ALL = [dtype(*row[:6]) for row in _TABLE if row[1] is not None]
_BY_NAME = {d.name: d for d in ALL}
_BY_NUMPY = {d.numpy: d for d in ALL}
# PyTorch's aliases, as module attributes of nablax.stateful (`torch.float`, `torch.long`, ...).
ALIASES = {alias: _BY_NAME[row[0]] for row in _TABLE if row[0] in _BY_NAME for alias in row[6]}

bool_, uint8, int8, int16, int32, int64 = (_BY_NAME[n] for n in ("bool", "uint8", "int8", "int16", "int32", "int64"))
float16, float32, float64 = _BY_NAME["float16"], _BY_NAME["float32"], _BY_NAME["float64"]
bfloat16 = _BY_NAME.get("bfloat16")
complex64, complex128 = _BY_NAME["complex64"], _BY_NAME["complex128"]

_default_float = float32


def from_name(name: str) -> dtype:
    return _BY_NAME[name]


def get_default_dtype() -> dtype:
    """The dtype of tensors made from Python floats: float32 unless changed."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Makes `d` (float32 or float64, as in PyTorch) the dtype of new floating tensors."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def from_numpy(numpy_dtype) -> dtype:
    """The torch dtype of a NumPy/JAX dtype."""
    try:
        return _BY_NUMPY[np.dtype(numpy_dtype)]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type numpy.{np.dtype(numpy_dtype).type.__name__}. The only supported types are: "
                        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool.") from None


def as_dtype(value) -> dtype:
    """A torch dtype from a torch dtype, a NumPy dtype or a Python type. As in PyTorch, the
    Python types mean their C types whatever the default dtype: `float` is float64, `int`
    int64, `complex` complex128 (unlike Python scalars in data, which make float32)."""
    if isinstance(value, dtype):
        return value
    if value is float:
        return float64
    if value is int:
        return int64
    if value is bool:
        return bool_
    if value is complex:
        return complex128
    return from_numpy(value)


def of_scalar(value) -> dtype:
    """The dtype PyTorch gives a tensor made from the Python scalar `value`."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (float, np.floating)):
        return _default_float
    if isinstance(value, complex):
        return _default_float.to_complex()
    raise TypeError(f"expected a Python number, got {type(value).__name__}")


def promote_types(a: dtype, b: dtype) -> dtype:
    """PyTorch's `promote_types`: the smallest dtype both `a` and `b` convert to."""
    if a is b:
        return a
    if a._category != b._category:
        low, high = (a, b) if a._category < b._category else (b, a)
        if high._category == 3 and low is float64:
            return complex128
        return high
    if a._category == 1:
        if uint8 in (a, b):  # uint8 with a signed type needs a signed type that holds 0..255
            other = b if a is uint8 else a
            return int16 if other.itemsize <= 1 else other
        return a if a.itemsize >= b.itemsize else b
    if {a, b} == {float16, bfloat16}:
        return float32
    return a if a.itemsize >= b.itemsize else b


def _combine_categories(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """c10's rule for merging the result of a higher-priority operand class with a lower one:
    a lower class only matters when it is of a higher category (int tensor * 2.5 is float)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> dtype:
    """PyTorch's `result_type`: tensors with dimensions outrank zero-dim tensors, which
    outrank Python scalars, except that a lower class of a higher category wins.

    Each operand is a Python scalar or anything with `.dtype` (a torch dtype) and `.ndim`.
    """
    dim_result = zero_result = scalar_result = None
    for operand in operands:
        if isinstance(operand, (bool, int, float, complex, np.number, np.bool_)):
            kind = of_scalar(operand)
            # Scalars count by category only: the default dtype of their kind.
            scalar_result = kind if scalar_result is None else promote_types(scalar_result, kind)
        elif operand.ndim == 0:
            zero_result = operand.dtype if zero_result is None else promote_types(zero_result, operand.dtype)
        else:
            dim_result = operand.dtype if dim_result is None else promote_types(dim_result, operand.dtype)
    return _combine_categories(dim_result, _combine_categories(zero_result, scalar_result))
