"""`Tensor`: a storage seen through view steps, with its autograd role and PyTorch's
metadata, values and printing.

This class holds what a tensor is and what needs no op. The methods that record ops
(`add`, `sum`, `view`, `__getitem__`, `add_`, ...) are the op functions of `ops/`, bound to
the class in methods.py, one table for all of them.

A leaf that requires grad enters graphs through a `VAR` node, an alias made by
`detach()`/`.data` through a `DETACH` node. In-place ops are functionalised: they compute a
new value and write it into the storage (scattering through the view steps), so every
alias sees the change, as in PyTorch.
"""

from __future__ import annotations

import weakref

import jax
import numpy as np

from . import dtypes as dt
from . import engine, grad_fn, printing, views
from .device import CPU, as_device, of_jax, to_jax
from .device import device as Device
from .engine import Expr
from .storage import Storage, copy_slices, view_expr

_BFLOAT16 = dt.bfloat16.numpy if dt.bfloat16 is not None else None


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


class Tensor:
    """A multi-dimensional array with PyTorch's API, autograd included.

        >>> import nablax.stateful as torch
        >>> x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        >>> y = (x ** 2 + 3).mean()
        >>> y.backward()
        >>> x.grad
        tensor([[0.5000, 1.0000],
                [1.5000, 2.0000]])
    """

    __slots__ = ("_storage", "_steps", "_stride_cache", "_base", "_expr", "_seen", "_leaf", "_detached", "_no_grad_view",
                 "_view", "grad", "__weakref__")
    __hash__ = object.__hash__  # __eq__ is elementwise, as in PyTorch
    __array_priority__ = 1000  # numpy scalars on the left defer to us

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def _from_expr(cls, expr: Expr, device: Device = CPU) -> Tensor:
        """A new tensor (on a storage of its own) whose value is `expr`."""
        return cls._on_storage(Storage(expr, device), expr)

    @classmethod
    def _on_storage(cls, storage: Storage, expr: Expr | None = None, steps: tuple = (), strides: tuple | None = None,
                    base=None, detached: bool = False) -> Tensor:
        """A tensor seeing `storage` through view `steps` (the whole of it by default); with
        no `expr`, its expr is built from the storage on first use."""
        tensor = object.__new__(cls)
        tensor._storage = storage
        tensor._steps = steps
        tensor._stride_cache = strides
        tensor._base = base
        tensor._expr = expr
        tensor._seen = -1 if expr is None else storage.version
        tensor._leaf = False
        tensor._detached = detached
        tensor._no_grad_view = False
        tensor._view = False  # made by a view op (`detach()` aliases share storage but are not views)
        tensor.grad = None
        return tensor

    def _alias(self, *, detached: bool, cls=None) -> Tensor:
        """A tensor sharing this one's storage and view (`detach()`, `.data`, `Parameter`)."""
        return (cls or Tensor)._on_storage(self._storage, steps=self._steps, strides=self._strides, base=self._base,
                                           detached=detached)

    def _view_of(self, steps: tuple, shape: tuple, strides: tuple, grad_name: str) -> Tensor:
        """A view of this tensor through more `steps`, sharing its storage."""
        source = self._current_expr()
        base = self._base if self._base is not None else self
        if not source.requires_grad and not self._no_grad_view:  # outside autograd: its expr when first needed
            view = Tensor._on_storage(self._storage, steps=self._steps + steps, strides=strides, base=base,
                                      detached=self._detached)
            view._view = True
            return view
        grad = engine.is_grad_enabled() and source.requires_grad
        expr = view_expr(source, steps, grad_name, grad, shape)
        # PyTorch: a view taken under no_grad of a tensor that requires grad still requires grad
        # (as a leaf that gradients never reach), and so do views of it.
        cut = source.requires_grad and not grad
        view = Tensor._on_storage(self._storage, engine.dead_end(expr) if cut else expr, self._steps + steps, strides, base,
                                  detached=self._detached and not grad)
        view._no_grad_view = self._no_grad_view or cut
        view._view = True
        expr.owner = weakref.ref(view)
        return view

    # -- the current value ------------------------------------------------------------------

    def _current_expr(self) -> Expr:
        storage = self._storage
        if self._seen == storage.version and (storage.numpy is None or storage.expr is not None) and (
                not self._no_grad_view or self._base._current_expr().requires_grad == self._expr.requires_grad):
            # (A view taken under no_grad requires grad while its base does: PyTorch asks the
            # base each time, so its `detach_()` or `requires_grad_()` show through.)
            return self._expr
        if self._steps:  # a view: the base's current value (with its autograd role) seen through the steps
            source = self._base._current_expr()
            expr = view_expr(source, self._steps, "AsStridedBackward0", source.requires_grad and not self._no_grad_view)
            expr.owner = weakref.ref(self)
            if self._no_grad_view and source.requires_grad:
                expr = engine.dead_end(expr)
        else:
            expr = storage.read()
        if self._leaf:
            expr = engine.variable(expr, self)
        elif self._detached and expr.requires_grad:
            expr = engine.detached(expr)
        self._expr = expr
        self._seen = storage.version
        return expr

    def _value(self) -> jax.Array:
        """The computed value, as a JAX array (values computed on the host are NumPy's)."""
        value = engine.value_of(self._current_expr())
        return engine.on_device(value) if isinstance(value, np.ndarray) else value

    @property
    def _shape(self) -> tuple:
        """The shape, without building the current expr where the storage has it."""
        return self._storage.shape if not self._steps else self._current_expr().shape

    @property
    def _strides(self) -> tuple:
        """PyTorch's strides (in elements); computed on first use for a fresh tensor."""
        strides = self._stride_cache
        if strides is None:
            strides = self._stride_cache = views.contiguous_strides(self._current_expr().shape)
        return strides

    # -- in-place writes ----------------------------------------------------------------------

    def _check_inplace(self) -> None:
        """PyTorch's autograd rules for an in-place op on this tensor."""
        if not engine.is_grad_enabled():
            return
        if self._leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        if self._no_grad_view and self._current_expr().requires_grad:
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that "
                "this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both "
                "the view and the inplace either both inside the no_grad block (if you don't want the inplace to be "
                "tracked) or both outside (if you want the inplace to be tracked).")
        if self._base is not None and self._base._leaf:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")

    def _write(self, new: Expr, *, fill: bool = False) -> None:
        """Makes `new` (this tensor's shape and dtype) this tensor's value, in place. A
        `fill` writes one value everywhere (or each element's own value back), which PyTorch
        allows into an expanded view."""
        storage = self._storage
        own_history = None
        if new.requires_grad and not self._leaf:
            if self._detached and not self._steps:
                # A `detach()` alias takes the history for itself: other tensors on the storage
                # see the new values only, as in PyTorch, where the alias is a tensor of its own.
                own_history, new = new, engine.detached(new)
            else:
                self._detached = False  # a view of an alias joins the graph
        if self._steps:
            if not fill and views.writes_overlap(storage.shape, self._steps):
                raise RuntimeError(
                    "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                    "location. Please clone() the tensor before performing the operation."
                )
            new = copy_slices(storage.read(), new, self._steps)
        old = storage.read()
        if old is not None and old.requires_grad and not new.requires_grad:  # a write autograd does not record
            new = engine.with_history(old, new)
        storage.write(new)
        if own_history is not None:
            self._expr, self._seen = own_history, storage.version
        else:
            self._seen = -1  # the next read rebuilds this tensor's expr from the storage

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
            return ("torch.cuda." if self.is_cuda else "torch.") + self.dtype.tensor_type
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
        return expr.op is engine.VAR or not expr.requires_grad

    @property
    def grad_fn(self):
        expr = self._current_expr()
        if expr.op is engine.VAR or not expr.requires_grad:
            return None
        return grad_fn.node_of(expr)

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
        self._storage, self._steps, self._stride_cache, self._base = other._storage, other._steps, other._strides, other._base
        self._seen = -1

    # -- values ------------------------------------------------------------------------------

    def _host(self) -> np.ndarray:
        """The values as a NumPy array (bfloat16 as float32), read off the storage: a view
        of known values costs no program (reading elements one by one in a loop must not
        build one per element), and a pending storage is computed whole, once, for every
        view of it."""
        storage = self._storage
        value = storage.host_value()
        if value is None:
            engine.value_of(storage.expr)
            value = storage.host_value()
            if value is None:  # traced: JAX's own error, where it is read
                return np.asarray(self._value())
        steps = self._steps
        if steps:
            value = views.apply_step(value, steps[0]) if len(steps) == 1 else views.apply_steps(value, steps)
        return value.astype(np.float32) if value.dtype == _BFLOAT16 else value

    def item(self):
        value = self._host()
        if value.size != 1:
            raise RuntimeError(f"a Tensor with {value.size} elements cannot be converted to Scalar")
        return value.reshape(()).item()

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
        node = self.grad_fn
        return printing.format_tensor(
            self._host(), dtype_name=repr(self.dtype), device=str(self.device),
            requires_grad=expr.requires_grad and node is None,
            grad_fn_name=None if node is None else type(node).__name__,
        )

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    # -- devices -------------------------------------------------------------------------------

    def _to_device(self, target: Device) -> Tensor:
        jax_device = to_jax(target)
        if of_jax(jax_device) == self.device:
            return self
        moved = Tensor._from_expr(engine.source(jax.device_put(self._value(), jax_device)), of_jax(jax_device))
        return moved.requires_grad_(True) if self.requires_grad else moved

    def cuda(self, device=None) -> Tensor:
        return self._to_device(as_device("cuda" if device is None else device))

    def cpu(self) -> Tensor:
        return self._to_device(CPU)


# PyTorch's names, so that `type(x)` prints `<class 'torch.Tensor'>` as in the notes.
Tensor.__module__ = "torch"
Size.__module__ = "torch"
Size.__name__ = "torch.Size"  # error messages read "'torch.Size' object is not callable"
Size.__qualname__ = "Size"
