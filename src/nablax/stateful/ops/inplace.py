"""In-place ops (`add_`, `mul_`, `zero_`, `fill_`, `copy_`, ...): the result is computed as
by the out-of-place op and written into the tensor's storage, with PyTorch's checks first:
autograd's rules, memory that partly overlaps, the broadcast shape and the cast."""

from __future__ import annotations

import numpy as np

from .. import engine, views
from ..tensor import Tensor
from . import arithmetic as A
from . import copies, creation, elements
from .common import broadcast_shapes, named
from .elementwise import neg

_PARTIAL_OVERLAP = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                    "single memory location. Please clone() the tensor before performing the operation.")


def check_no_partial_overlap(written: Tensor, source, steps: tuple = (), strides: tuple | None = None,
                             source_strides: tuple | None = None) -> None:
    """PyTorch's refusal of an in-place op that reads `source` (seen with `source_strides`)
    while writing `written` (seen through `steps`, with `strides`) when the two share some
    memory but are not the same elements in the same order (`x.add_(x)` is fine)."""
    if not isinstance(source, Tensor) or source._storage is not written._storage:
        return
    storage = written._storage
    ours = storage.memory_range(written._steps + steps, written._strides if strides is None else strides)
    theirs = storage.memory_range(source._steps, source._strides if source_strides is None else source_strides)
    if ours is None or theirs is None or ours == theirs:
        return
    if ours[0] < theirs[1] and theirs[0] < ours[1]:
        raise RuntimeError(_PARTIAL_OVERLAP)


def same_elements(written: Tensor, source, steps: tuple = ()) -> bool:
    """Whether `source` is the very elements of `written` (seen through `steps`), in the same
    order and of the same dtype. PyTorch's copy skips such a copy, so it is allowed even into
    an expanded view (a write `fill`s it: every element shared by several positions gets its
    own value back)."""
    if not isinstance(source, Tensor) or source._storage is not written._storage or source.dtype != written.dtype:
        return False
    ours, shape = written._steps + steps, written._storage.shape
    return source._steps == ours or bool(np.array_equal(views.positions(shape, source._steps), views.positions(shape, ours)))


def _can_cast(source, target) -> bool:
    """PyTorch's canCast: no floating to integral, no complex to real, no non-bool to bool."""
    if source._category > target._category:
        return False
    return not (target.name == "bool" and source.name != "bool")


def write_result(tensor: Tensor, result: Tensor, *, fill: bool = False) -> Tensor:
    """Writes `result` (computed from `tensor`) into `tensor`, with PyTorch's checks (see
    `Tensor._write` for `fill`)."""
    tensor._check_inplace()
    new, own = result._current_expr(), tensor._current_expr()
    if new.shape != own.shape:
        raise RuntimeError(
            f"output with shape [{', '.join(map(str, own.shape))}] doesn't match the broadcast shape "
            f"[{', '.join(map(str, new.shape))}]"
        )
    if new.dtype != own.dtype:
        if not _can_cast(result.dtype, tensor.dtype):
            raise RuntimeError(f"result type {result.dtype.scalar_name} can't be cast to the desired output type "
                               f"{tensor.dtype.scalar_name}")
        grad_name = new.grad_name
        new = copies.to_dtype(result, tensor.dtype)._current_expr()
        new.grad_name = grad_name  # the cast is part of the op in PyTorch's graph
    tensor._write(new, fill=fill)
    return tensor


def check_sources(tensor: Tensor, *sources, broadcast: bool = True) -> None:
    """PyTorch's checks before an in-place op computes anything (or looks for a kernel for
    its dtypes): autograd's rules, that no tensor read partly overlaps the memory written,
    and (with `broadcast`) that the sources broadcast to this tensor's shape."""
    tensor._check_inplace()
    for source in sources:
        check_no_partial_overlap(tensor, source)
    if broadcast:
        own = shape = tuple(tensor.shape)
        for source in sources:
            if isinstance(source, Tensor):
                shape = broadcast_shapes(shape, tuple(source.shape))
        if shape != own:
            raise RuntimeError(f"output with shape [{', '.join(map(str, own))}] doesn't match the broadcast shape "
                               f"[{', '.join(map(str, shape))}]")


def _in_place(function, name: str):
    """The in-place form `name` of the binary op `function(tensor, other, **options)`."""

    def apply(self: Tensor, other, **options):
        if type(other) in elements.NUMBERS and elements.update(self, name, other, options):  # one element on the host
            return self
        check_sources(self, other)
        return write_result(self, function(self, other, **options))

    return named(apply, name, f"`{function.__name__}`, in place.")


add_, sub_, mul_, div_, pow_ = (_in_place(function, f"{function.__name__}_")
                                for function in (A.add, A.sub, A.mul, A.div, A.pow))


def clamp_(self: Tensor, min=None, max=None):  # noqa: A002 - PyTorch's names
    check_sources(self, min, max)
    return write_result(self, A.clamp(self, min, max))


def neg_(self: Tensor):
    return write_result(self, neg(self))


def _filled(tensor: Tensor, value: Tensor, grad_name: str) -> Tensor:
    """`value` as a fill of `tensor`; one that keeps its gradient history where it has one."""
    if engine.is_grad_enabled() and tensor.requires_grad:
        return copies.overwrite(tensor, value, grad_name)
    value._current_expr().grad_name = grad_name
    return value


def zero_(self: Tensor):
    expr = self._current_expr()
    return write_result(self, _filled(self, creation.constant(expr.shape, expr.dtype, 0), "ZeroBackward0"), fill=True)


def fill_(self: Tensor, value):
    value = value.item() if isinstance(value, Tensor) else value
    return write_result(self, _filled(self, creation.full_like(self, value), "FillBackward2"), fill=True)


def copy_(self: Tensor, source: Tensor, non_blocking: bool = False):
    check_sources(self, source, broadcast=False)
    if source.shape != self.shape:
        source.expand(self.shape)  # PyTorch's error where the shapes do not broadcast
    self._write(copies.overwrite(self, source, "CopyBackwards")._current_expr(), fill=same_elements(self, source))
    return self


FUNCTIONS = {function.__name__: function for function in
             (add_, sub_, mul_, div_, pow_, clamp_, neg_, zero_, fill_, copy_)}
