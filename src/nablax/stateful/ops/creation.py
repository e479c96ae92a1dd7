"""Making tensors: `tensor`, `zeros`, `ones`, `full`, `arange`, `linspace`, `eye`,
`from_numpy`, the `*_like` forms and the legacy constructors (`Tensor(...)`, `LongTensor(n)`)."""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from .. import engine
from ..device import as_device, get_default_device, of_jax, to_jax
from ..engine import Op
from ..engine.host import HOST_ELEMENTS
from ..layouts import check_layout, check_memory_format
from ..recording import record
from ..storage import Storage
from ..tensor import Size, Tensor
from .common import named


def finish(tensor, device=None, requires_grad: bool = False, layout=None):
    """Moves a new tensor to `device` (default: `get_default_device()`) and marks it as
    requiring grad, as factories do (`layout=` may only be the one layout, `torch.strided`)."""
    check_layout(layout)
    device = as_device(device) if device is not None else get_default_device()
    if device.type != "cpu":
        target = to_jax(device)
        tensor = type(tensor)._from_expr(engine.source(jax.device_put(tensor._value(), target)), of_jax(target))
    if requires_grad:
        if not (tensor.dtype.is_floating_point or tensor.dtype.is_complex):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        tensor.requires_grad_(True)
    return tensor


def _flat_size(size) -> tuple:
    """`f(2, 3)`, `f((2, 3))` and `f(torch.Size([2, 3]))` all mean (2, 3)."""
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


NO_SIZE = object()  # `size=` not given


def sizes_or_keyword(name: str, sizes: tuple, size=NO_SIZE) -> tuple:
    """The sizes of a factory `name`: given as arguments (`f(2, 3)`, `f((2, 3))`) or as
    NumPy's `size=` keyword (`f(size=(2, 3))`), not both."""
    if size is NO_SIZE:
        if not sizes:
            raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
        return sizes
    if sizes:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    return (size,)


def size_argument(size) -> tuple:
    """A size given as `f(2, 3)`, `f((2, 3))` or `f(torch.Size([2, 3]))`, checked as PyTorch does."""
    size = _flat_size(size)
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"expected a sequence of integers or a single integer, got '{s}'")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: [{', '.join(map(str, size))}]")
    return tuple(int(s) for s in size)


# -- constants ------------------------------------------------------------------------------------


FILL = Op("full", lambda value, *, shape, dtype: jnp.full(shape, value, dtype),
          host=lambda value, *, shape, dtype: np.full(shape, value, dtype))


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, grad_name=None, layout=None):
    """A tensor of `size` filled with `fill_value` (dtype inferred from it, as in PyTorch)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.of_scalar(fill_value)
    shape = size_argument((size,)) if not isinstance(size, (int, np.integer)) else (int(size),)
    tensor = record(FILL, (fill_value,), shape, dtype.numpy, grad_name, (("shape", shape), ("dtype", dtype.numpy)))
    return finish(tensor, device, requires_grad, layout)


CONSTANT = Op("constant", lambda *, shape, dtype, value: jnp.full(shape, value, dtype),
              host=lambda *, shape, dtype, value: np.full(shape, value, dtype))


def constant(shape: tuple, dtype, value, grad_name: str | None = None):
    """A tensor of `shape` and NumPy `dtype` holding `value`, which is part of the compiled
    program (fills with fixed values such as `zero_()` need no argument at each call)."""
    return record(CONSTANT, (), shape, dtype, grad_name, (("shape", shape), ("dtype", dtype), ("value", value)))


def zeros(*sizes, size=NO_SIZE, dtype=None, device=None, requires_grad=False, layout=None):
    size = sizes_or_keyword("zeros", sizes, size)
    if any(isinstance(s, (int, np.integer)) and s < 0 for s in _flat_size(size)):
        raise RuntimeError("zeros: Dimension size must be non-negative.")  # zeros words it apart from the others
    return full(size_argument(size), 0, dtype=dtype or dt.get_default_dtype(), device=device, requires_grad=requires_grad,
                layout=layout)


def ones(*sizes, size=NO_SIZE, dtype=None, device=None, requires_grad=False, layout=None):
    size = sizes_or_keyword("ones", sizes, size)
    return full(size_argument(size), 1, dtype=dtype or dt.get_default_dtype(), device=device, requires_grad=requires_grad,
                layout=layout)


def empty(*sizes, size=NO_SIZE, dtype=None, device=None, requires_grad=False, layout=None):
    """A tensor of `size` whose values are unspecified (zeros here)."""
    size = sizes_or_keyword("empty", sizes, size)
    return full(size_argument(size), 0, dtype=dtype or dt.get_default_dtype(), device=device, requires_grad=requires_grad,
                layout=layout)


def full_like(x, fill_value, *, dtype=None, device=None, requires_grad=False, grad_name=None, layout=None,
              memory_format=None):
    """A tensor of `x`'s shape (and dtype, device unless given) filled with `fill_value`;
    every `memory_format` gives nablax's one layout."""
    check_memory_format(memory_format, "full_like", x.ndim)
    return full(x.shape, fill_value, dtype=dtype or x.dtype, device=device or non_cpu_device(x), requires_grad=requires_grad,
                grad_name=grad_name, layout=layout)


def non_cpu_device(x):
    """`x`'s device for a new tensor like it: None (the default device) for the CPU."""
    return x.device if x.device.type != "cpu" else None


def zeros_like(x, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    return full_like(x, 0, dtype=dtype, device=device, requires_grad=requires_grad, layout=layout,
                     memory_format=memory_format)


def ones_like(x, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    return full_like(x, 1, dtype=dtype, device=device, requires_grad=requires_grad, layout=layout,
                     memory_format=memory_format)


def empty_like(x, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    return zeros_like(x, dtype=dtype, device=device, requires_grad=requires_grad, layout=layout,
                      memory_format=memory_format)


ARANGE = Op("arange", lambda start, step, *, length, dtype: (start + step * jnp.arange(length)).astype(dtype),
            host=lambda start, step, *, length, dtype: (start + step * np.arange(length)).astype(dtype))


def _arange_length(start, end, step, dtype) -> int:
    """PyTorch's count of `arange`'s values: for int64, of the bounds truncated to integers."""
    if dtype is dt.int64:
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is dt.int64:
        sign = (step > 0) - (step < 0)
        quotient = abs(end - start + step - sign) // abs(step)  # C++'s division, towards zero
        return max(quotient if (end - start + step - sign) * step >= 0 else -quotient, 0)
    return max(math.ceil((end - start) / step), 0)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, layout=None):
    """Values from `start` (default 0) up to but not including `end`, `step` apart."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if dtype is None:
        dtype = dt.int64 if all(isinstance(v, (int, np.integer)) for v in values) else dt.get_default_dtype()
    dtype = dt.as_dtype(dtype)
    length = _arange_length(start, end, step, dtype)
    if not (dtype.is_floating_point or dtype.is_complex):  # PyTorch counts from the bounds cast to the dtype
        start, step = int(start), int(step)
    tensor = record(ARANGE, (start, step), (length,), dtype.numpy, None, (("length", length), ("dtype", dtype.numpy)))
    return finish(tensor, device, requires_grad, layout)


def _integer_linspace(start: float, end: float, steps: int, dtype: dt.dtype) -> np.ndarray:
    """PyTorch's integer kernel: the bounds cast to the dtype, a float64 step, the first half
    counted from the start and the second from the end, each value truncated. Computed here
    with NumPy: XLA turns the division by a constant into an inexact multiplication."""
    start, end = float(math.trunc(start)), float(math.trunc(end))
    step = (end - start) / (steps - 1)
    index = np.arange(steps, dtype=np.float64)
    values = np.where(index < steps // 2, start + step * index, end - step * (steps - index - 1))
    return np.trunc(values).astype(dtype.numpy)


LINSPACE = Op("linspace", lambda start, end, *, steps, dtype: jnp.linspace(start, end, steps).astype(dtype))


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad=False, layout=None):
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if not (dtype.is_floating_point or dtype.is_complex) and steps >= 2:
        tensor = Tensor._from_expr(engine.source(jnp.asarray(_integer_linspace(float(start), float(end), steps, dtype))))
        return finish(tensor, device, requires_grad)
    tensor = record(LINSPACE, (float(start), float(end)), (int(steps),), dtype.numpy, None,
                    (("steps", int(steps)), ("dtype", dtype.numpy)))
    return finish(tensor, device, requires_grad, layout)


EYE = Op("eye", lambda *, n, m, dtype: jnp.eye(n, m, dtype=dtype), host=lambda *, n, m, dtype: np.eye(n, m, dtype=dtype))


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad=False, layout=None):
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()
    m = n if m is None else m
    tensor = record(EYE, (), (n, m), dtype.numpy, None, (("n", int(n)), ("m", int(m)), ("dtype", dtype.numpy)))
    return finish(tensor, device, requires_grad, layout)


# -- from data --------------------------------------------------------------------------------------


def _nested_shape(data, dim: int = 0) -> tuple:
    """The shape of nested sequences, with PyTorch's error for ragged ones."""
    if isinstance(data, Tensor):
        return tuple(data.shape)
    if isinstance(data, np.ndarray):
        return data.shape
    if not isinstance(data, (list, tuple)):
        return ()
    if not data:
        return (0,)
    inner = [_nested_shape(item, dim + 1) for item in data]
    for item_shape, item in zip(inner, data):
        if inner[0] and not isinstance(item, (list, tuple, np.ndarray, Tensor)):
            raise TypeError("not a sequence")
        if item_shape != inner[0]:
            length = len(item) if isinstance(item, (list, tuple)) else None
            expected = inner[0][0] if inner[0] else None
            raise ValueError(f"expected sequence of length {expected} at dim {dim + 1} (got {length})")
    return (len(data),) + inner[0]


def _plain(data):
    """Nested lists with tensors replaced by their values."""
    if isinstance(data, Tensor):
        return data._host()
    if isinstance(data, (list, tuple)):
        return [_plain(item) for item in data]
    return data


def _infer_dtype(data) -> dt.dtype:
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, np.ndarray):
        return dt.from_numpy(data.dtype)
    if isinstance(data, (list, tuple)):
        kinds = [_infer_dtype(item) for item in data]
        if not kinds:
            return dt.get_default_dtype()
        result = kinds[0]
        for kind in kinds[1:]:
            result = dt.promote_types(result, kind)
        return result
    if isinstance(data, (bool, int, float, complex, np.number, np.bool_)):
        return dt.from_numpy(np.asarray(data).dtype) if isinstance(data, np.number) else dt.of_scalar(data)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (a number, nested lists, a NumPy array or a tensor)."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
            "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).",
            UserWarning, stacklevel=2,
        )
    shape = _nested_shape(data)
    dtype = dt.as_dtype(dtype) if dtype is not None else _infer_dtype(data)
    # A private copy: JAX may read a host array after this returns (its transfer can be
    # asynchronous, or alias the memory), and the caller's array may change meanwhile.
    values = np.array(_plain(data), dtype=dtype.numpy, copy=True).reshape(shape)
    # A small tensor keeps its values on the host until a program takes them (see
    # `PlanBuilder._argument`): a dataset's samples, made one by one and batched on the host,
    # never pay for a transfer each (tens of microseconds).
    known = values if values.size <= HOST_ELEMENTS else engine.on_device(values)
    result = Tensor._from_expr(engine.source(known))
    return finish(result, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """`data` as a tensor, sharing memory with a NumPy array or tensor when it can."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype) if dtype is not None else data
    if isinstance(data, np.ndarray) and (dtype is None or dt.as_dtype(dtype).numpy == data.dtype) and device in (None, "cpu"):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray):
    """A tensor whose storage is `array` itself: changes to either show in both."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dt.from_numpy(array.dtype)  # PyTorch's error for dtypes it has no tensor type for
    strides = tuple(s // array.itemsize for s in array.strides) if array.size else None
    return Tensor._on_storage(Storage(None, numpy_buffer=array), strides=strides)


def legacy_constructor(dtype: dt.dtype, args: tuple, device=None):
    """`torch.Tensor(...)`, `torch.LongTensor(...)`: data, or sizes for an uninitialised tensor."""
    if not args:
        return empty(0, dtype=dtype, device=device)
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        data = args[0]
        if isinstance(data, Tensor):
            return data.to(dtype)
        if isinstance(data, Size):
            return empty(*data, dtype=dtype, device=device)
        return tensor(data, dtype=dtype, device=device)
    return empty(*args, dtype=dtype, device=device)


def _typed(dtype: dt.dtype, name: str):
    def constructor(*args, device=None):
        return legacy_constructor(dtype, args, device)

    return named(constructor, name, f"The legacy `torch.{name}` constructor: {dtype!r} data, or sizes.")


FloatTensor = _typed(dt.float32, "FloatTensor")
DoubleTensor = _typed(dt.float64, "DoubleTensor")
HalfTensor = _typed(dt.float16, "HalfTensor")
LongTensor = _typed(dt.int64, "LongTensor")
IntTensor = _typed(dt.int32, "IntTensor")
ShortTensor = _typed(dt.int16, "ShortTensor")
CharTensor = _typed(dt.int8, "CharTensor")
ByteTensor = _typed(dt.uint8, "ByteTensor")
BoolTensor = _typed(dt.bool_, "BoolTensor")
