"""`Tensor`: PyTorch's tensor API over the lazy JAX engine (see core.py and lazy.py)."""

from __future__ import annotations

import functools

import numpy as np

from . import autograd, core, creation, lazy, printing, views
from . import dtypes as dt
from . import math_ops as M
from . import matmul as MM
from . import reductions as R
from . import shape_ops as S
from .device import as_device, device as Device, of_jax, to_jax
from .grad import backward as _backward


class Size(tuple):
    """A tensor's shape: a tuple that prints as `torch.Size([2, 3])`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(map(str, self))}])"

    def numel(self) -> int:
        total = 1
        for size in self:
            total *= size
        return total


def _operator(function, *, reflected: bool = False, operands=(core.TensorCore, *M.SCALARS)):
    """A binary operator method calling `function(self, other)` (`function(other, self)` when
    `reflected`). It returns NotImplemented for other operands, so that Python raises its
    usual TypeError ("unsupported operand type(s) for +: 'Tensor' and 'NoneType'"), as it
    does for PyTorch's tensors."""
    def method(self, other):
        if isinstance(other, np.ndarray):  # PyTorch takes a NumPy array operand as a tensor
            other = creation.tensor(other)
        if not isinstance(other, operands):
            return NotImplemented
        return function(other, self) if reflected else function(self, other)

    return method


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "bfloat16": "BFloat16Tensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
               "uint8": "ByteTensor", "bool": "BoolTensor"}


class Tensor(core.TensorCore):
    """A multi-dimensional array with PyTorch's API, autograd included.

        >>> import nablax.stateful as torch
        >>> x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        >>> y = (x ** 2 + 3).mean()
        >>> y.backward()
        >>> x.grad
        tensor([[0.5000, 1.0000],
                [1.5000, 2.0000]])
    """

    __slots__ = ()
    __hash__ = object.__hash__  # __eq__ is elementwise, as in PyTorch
    __array_priority__ = 1000  # numpy scalars on the left defer to us

    def __new__(cls, *args, device=None):
        """The legacy constructor: `Tensor([1, 2])` copies data (as float32), `Tensor(2, 3)`
        makes an uninitialised 2x3 tensor."""
        return creation.legacy_constructor(dt.float32, args, device)

    # -- metadata ----------------------------------------------------------------------------

    @property
    def shape(self) -> Size:
        return Size(self._current_expr().shape)

    def size(self, dim: int | None = None):
        shape = self._current_expr().shape
        return Size(shape) if dim is None else shape[views.wrap_dim(dim, len(shape))]

    @property
    def dtype(self) -> dt.dtype:
        return dt.from_numpy(self._current_expr().dtype)

    @property
    def device(self) -> Device:
        return self._storage.device

    @property
    def is_cuda(self) -> bool:
        return self._storage.device.type == "cuda"

    @property
    def ndim(self) -> int:
        return len(self._current_expr().shape)

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return Size(self._current_expr().shape).numel()

    nelement = numel

    def stride(self, dim: int | None = None):
        return self._strides if dim is None else self._strides[views.wrap_dim(dim, self.ndim)]

    def is_contiguous(self) -> bool:
        return views.is_contiguous(self.shape, self._strides)

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def element_size(self) -> int:
        return self.dtype.itemsize

    def type(self, dtype=None):
        if dtype is None:
            prefix = "torch.cuda." if self.is_cuda else "torch."
            return prefix + _TYPE_NAMES.get(self.dtype.name, "Tensor")
        return self.to(dtype)

    # -- autograd ----------------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        return self._current_expr().requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        # PyTorch's setter is stricter than requires_grad_() and words its errors differently.
        if flag and not self.is_leaf:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if flag and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self.requires_grad_(flag)

    @property
    def is_leaf(self) -> bool:
        expr = self._current_expr()
        return expr.op is lazy.VAR or not expr.requires_grad

    @property
    def grad_fn(self):
        expr = self._current_expr()
        if expr.op is lazy.VAR or not expr.requires_grad:
            return None
        return autograd.node_of(expr)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed variable "
                "in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if requires_grad and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._leaf = bool(requires_grad)
        self._detached = not requires_grad and self._detached
        self._seen = -1
        return self

    def detach(self) -> Tensor:
        """A tensor sharing this one's values, cut from the graph."""
        return self._alias(detached=True)

    def detach_(self) -> Tensor:
        if self._view:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for "
                "training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence "
                "detach_() cannot be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._leaf, self._detached, self._seen = False, True, -1
        return self

    @property
    def data(self) -> Tensor:
        return self._alias(detached=True)

    @data.setter
    def data(self, other: Tensor) -> None:
        self._storage, self._steps, self._strides, self._base = other._storage, other._steps, other._strides, other._base
        self._seen = -1

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulates d(self)/d(leaf) into the `.grad` of every leaf that requires grad."""
        _backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def retain_grad(self) -> None:
        raise NotImplementedError("retain_grad() is not supported; use torch.autograd.grad(output, [tensor]) to get the gradient of a non-leaf tensor")

    # -- values ------------------------------------------------------------------------------

    def _host(self) -> np.ndarray:
        value = np.asarray(self._value())
        return value.astype(np.float32) if self.dtype is dt.bfloat16 else value

    def item(self):
        numel = self.numel()
        if numel != 1:
            raise RuntimeError(f"a Tensor with {numel} elements cannot be converted to Scalar")
        return self._host().reshape(()).item()

    def tolist(self):
        return self._host().tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array sharing memory with this tensor (on the CPU)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.is_cuda:
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.")
            return self.cpu().numpy()
        return views.apply_steps(self._storage.share_with_numpy(), self._steps)

    def __array__(self, dtype=None, copy=None):
        array = self._host()
        return array.astype(dtype) if dtype is not None else array

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def _scalar(self):
        """The one element, for int()/float() (whose error PyTorch words apart from item()'s)."""
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[index] for index in range(self.shape[0]))

    def __repr__(self, *, tensor_contents=None) -> str:
        expr = self._current_expr()
        grad_fn = self.grad_fn
        return printing.format_tensor(
            self._host(), dtype_name=repr(self.dtype), device=str(self.device),
            requires_grad=expr.requires_grad and grad_fn is None,
            grad_fn_name=None if grad_fn is None else type(grad_fn).__name__,
        )

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    # -- devices and dtypes ------------------------------------------------------------------

    def to(self, *args, **kwargs) -> Tensor:
        """`to(dtype)`, `to(device)`, `to(device, dtype)`, `to(other)`, or keywords."""
        target_device, target_dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for arg in args:
            if isinstance(arg, Tensor):
                target_device, target_dtype = arg.device, arg.dtype
            elif isinstance(arg, dt.dtype) or arg in (float, int, bool):
                target_dtype = dt.as_dtype(arg)
            else:
                target_device = arg
        result = self
        if target_dtype is not None:
            result = S.to_dtype(result, dt.as_dtype(target_dtype), copy)
        if target_device is not None:
            result = result._to_device(as_device(target_device))
        return result

    def _to_device(self, target: Device) -> Tensor:
        jax_device = to_jax(target)
        if of_jax(jax_device) == self.device:
            return self
        import jax

        moved = Tensor._from_expr(lazy.source(jax.device_put(self._value(), jax_device)), of_jax(jax_device))
        return moved.requires_grad_(True) if self.requires_grad else moved

    def cuda(self, device=None) -> Tensor:
        return self._to_device(as_device("cuda" if device is None else device))

    def cpu(self) -> Tensor:
        return self._to_device(Device("cpu"))

    def float(self) -> Tensor:
        return S.to_dtype(self, dt.float32)

    def double(self) -> Tensor:
        return S.to_dtype(self, dt.float64)

    def half(self) -> Tensor:
        return S.to_dtype(self, dt.float16)

    def long(self) -> Tensor:
        return S.to_dtype(self, dt.int64)

    def int(self) -> Tensor:
        return S.to_dtype(self, dt.int32)

    def bool(self) -> Tensor:
        return S.to_dtype(self, dt.bool_)

    # -- shape ---------------------------------------------------------------------------------

    view = S.view
    reshape = S.reshape
    flatten = S.flatten
    permute = S.permute
    transpose = S.transpose
    t = S.t
    squeeze = S.squeeze
    unsqueeze = S.unsqueeze
    expand = S.expand
    clone = S.clone
    contiguous = S.contiguous

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return S.numpy_t(self)

    def view_as(self, other: Tensor) -> Tensor:
        return S.view(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return S.reshape(self, other.shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return S.expand(self, other.shape)

    def __getitem__(self, index) -> Tensor:
        return S.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        S.setitem(self, index, value)

    # -- math ----------------------------------------------------------------------------------

    add = M.add
    sub = M.sub
    mul = M.mul
    div = M.div
    pow = M.pow
    exp = M.exp
    log = M.log
    sqrt = M.sqrt
    abs = M.abs
    sin = M.sin
    cos = M.cos
    tan = M.tan
    relu = M.relu
    sigmoid = M.sigmoid
    tanh = M.tanh
    neg = M.neg
    log1p = M.log1p
    rsqrt = M.rsqrt
    reciprocal = M.reciprocal
    floor = M.floor
    ceil = M.ceil
    round = M.round
    sign = M.sign
    square = M.square
    clamp = M.clamp
    clip = M.clamp
    sum = R.sum
    mean = R.mean
    prod = R.prod
    softmax = R.softmax
    log_softmax = R.log_softmax
    maximum = M.maximum
    minimum = M.minimum

    def mm(self, other: Tensor) -> Tensor:
        if self.ndim != 2 or other.ndim != 2:
            raise RuntimeError("self must be a matrix" if self.ndim != 2 else "mat2 must be a matrix")
        return MM.matmul(self, other)

    def dot(self, other: Tensor) -> Tensor:
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")
        return MM.matmul(self, other)

    def max(self, dim=None, keepdim=False):
        return R.extreme(self, "max", dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return R.extreme(self, "min", dim, keepdim)

    def argmax(self, dim=None, keepdim=False) -> Tensor:
        return R.arg_extreme(self, "argmax", dim, keepdim)

    def argmin(self, dim=None, keepdim=False) -> Tensor:
        return R.arg_extreme(self, "argmin", dim, keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, *, correction=None) -> Tensor:
        correction = (1 if unbiased else 0) if correction is None else correction
        return R.variance(self, dim, correction, keepdim)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None) -> Tensor:
        correction = (1 if unbiased else 0) if correction is None else correction
        return R.variance(self, dim, correction, keepdim, root=True)

    def all(self) -> Tensor:
        return (self != 0).sum() == self.numel()

    def any(self) -> Tensor:
        return (self != 0).sum() > 0

    def equal(self, other: Tensor) -> bool:
        return self.shape == other.shape and bool((self == other).all())

    __add__ = _operator(M.add)
    __radd__ = _operator(M.add)
    __sub__ = _operator(M.sub)
    __rsub__ = _operator(M.rsub)
    __mul__ = _operator(M.mul)
    __rmul__ = _operator(M.mul)
    __truediv__ = _operator(M.div)
    __rtruediv__ = _operator(M.rdiv)
    __floordiv__ = _operator(M.floor_divide)
    __rfloordiv__ = _operator(M.floor_divide, reflected=True)
    __mod__ = _operator(M.remainder)
    __rmod__ = _operator(M.remainder, reflected=True)
    __pow__ = _operator(M.pow)
    __rpow__ = _operator(M.rpow)
    __matmul__ = _operator(MM.matmul, operands=core.TensorCore)
    __rmatmul__ = _operator(MM.matmul, reflected=True, operands=core.TensorCore)
    __neg__ = M.neg
    __abs__ = M.abs

    def matmul(self, other):
        if not isinstance(other, core.TensorCore):
            raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}")
        return MM.matmul(self, other)

    def __pos__(self):
        if self.dtype is dt.bool_:
            raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
        return self

    def __invert__(self):
        return M.bitwise_not(self)

    __eq__, __ne__, __lt__, __le__, __gt__, __ge__ = (M.comparison(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    __and__ = __rand__ = _operator(functools.partial(M.logical, "and"))
    __or__ = __ror__ = _operator(functools.partial(M.logical, "or"))
    __xor__ = __rxor__ = _operator(functools.partial(M.logical, "xor"))

    # -- in place -----------------------------------------------------------------------------

    def _inplace(self, result: Tensor, *, fill: bool = False) -> Tensor:
        """Writes `result` (computed from self) into self, with PyTorch's checks (see
        `_write` for `fill`)."""
        self._check_inplace()
        new, own = result._current_expr(), self._current_expr()
        if new.shape != own.shape:
            raise RuntimeError(
                f"output with shape [{', '.join(map(str, own.shape))}] doesn't match the broadcast shape "
                f"[{', '.join(map(str, new.shape))}]"
            )
        if new.dtype != own.dtype:
            if not _can_cast(result.dtype, self.dtype):
                raise RuntimeError(
                    f"result type {M._type_name(result.dtype)} can't be cast to the desired output type {M._type_name(self.dtype)}"
                )
            grad_name = new.grad_name
            new = S.to_dtype(result, self.dtype)._current_expr()
            new.grad_name = grad_name  # the cast is part of the op in PyTorch's graph
        self._write(new, fill=fill)
        return self

    def _check_sources(self, *sources, broadcast: bool = True) -> None:
        """PyTorch's checks before an in-place op computes anything (or looks for a kernel
        for its dtypes): autograd's rules, that no tensor read partly overlaps the memory
        written, and (with `broadcast`) that the sources broadcast to this tensor's shape."""
        self._check_inplace()
        for source in sources:
            core.check_no_partial_overlap(self, source)
        if broadcast:
            own = shape = tuple(self.shape)
            for source in sources:
                if isinstance(source, core.TensorCore):
                    shape = M.broadcast_shapes(shape, tuple(source.shape))
            if shape != own:
                raise RuntimeError(f"output with shape [{', '.join(map(str, own))}] doesn't match the broadcast shape "
                                   f"[{', '.join(map(str, shape))}]")

    def add_(self, other, alpha=1):
        self._check_sources(other)
        return self._inplace(M.add(self, other, alpha))

    def sub_(self, other, alpha=1):
        self._check_sources(other)
        return self._inplace(M.sub(self, other, alpha))

    def mul_(self, other):
        self._check_sources(other)
        return self._inplace(M.mul(self, other))

    def div_(self, other):
        self._check_sources(other)
        return self._inplace(M.div(self, other))

    def pow_(self, exponent):
        self._check_sources(exponent)
        return self._inplace(M.pow(self, exponent))

    def clamp_(self, min=None, max=None):  # noqa: A002
        self._check_sources(min, max)
        return self._inplace(M.clamp(self, min, max))

    def neg_(self):
        return self._inplace(M.neg(self))

    def zero_(self):
        expr = self._current_expr()
        return self._inplace(self._filled(creation.constant(expr.shape, expr.dtype, 0), "ZeroBackward0"), fill=True)

    def fill_(self, value):
        value = value.item() if isinstance(value, Tensor) else value
        return self._inplace(self._filled(creation.full_like(self, value), "FillBackward2"), fill=True)

    def _filled(self, value: Tensor, grad_name: str) -> Tensor:
        """`value` as a fill of this tensor; one that keeps its gradient history where it has one."""
        if autograd.is_grad_enabled() and self.requires_grad:
            return S.overwrite(self, value, grad_name)
        value._current_expr().grad_name = grad_name
        return value

    def copy_(self, source: Tensor, non_blocking: bool = False):
        self._check_sources(source, broadcast=False)
        if source.shape != self.shape:
            source.expand(self.shape)  # PyTorch's error where the shapes do not broadcast
        self._write(S.overwrite(self, source, "CopyBackwards")._current_expr())
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0):
        from . import random

        return self._inplace(random.randn(*self.shape, dtype=self.dtype) * std + mean)

    def uniform_(self, a: float = 0.0, b: float = 1.0):
        from . import random

        return self._inplace(random.rand(*self.shape, dtype=self.dtype) * (b - a) + a)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_


def _can_cast(source: dt.dtype, target: dt.dtype) -> bool:
    """PyTorch's canCast: no floating to integral, no complex to real, no non-bool to bool."""
    if source._category > target._category:
        return False
    return not (target is dt.bool_ and source is not dt.bool_)


core.TENSOR_CLASS = Tensor

# PyTorch's names, so that `type(x)` prints `<class 'torch.Tensor'>` as in the notes.
Tensor.__module__ = "torch"
Size.__module__ = "torch"
Size.__name__ = "torch.Size"  # error messages read "'torch.Size' object is not callable"
Size.__qualname__ = "Size"
