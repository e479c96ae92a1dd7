"""Single elements written in place, on the host: a fenced specialisation of the in-place
ops and of `x[index] = value`.

A learner's counting loop (`N[i, j] += 1` for each bigram, makemore's first model) writes
one element at a time. Recorded, each write is a view, an add, a write through the view and
a write back of the view onto itself: a dozen nodes and checks, tens of microseconds where
PyTorch takes five. Here, where the tensor is small, outside autograd, on the CPU and its
values are known, `view += number` (also `-=`, `*=`) computes the new element with the same
promotion (`recording.promote`) and the same NumPy twin (`Op.host`) the general path would
run, and writes it into the storage's host buffer; `x[index] = view_of_that_element`
(the write back Python makes after `+=` on an item) is then recognised as writing an
element onto itself, which it is, and skipped. tests/test_elements.py checks that both give
what the general path gives and counts what they save.
"""

from __future__ import annotations

import math

import numpy as np

from .. import engine
from ..engine.host import HOST_ELEMENTS
from ..recording import promote
from ..tensor import Tensor
from . import arithmetic as A
from .common import host_cast

NUMBERS = frozenset({int, float})  # the operands `update` takes (a bool has errors of its own: the general path)
_OPS = {"add_": A.ADD, "sub_": A.SUB, "mul_": A.MUL}  # what `+=`, `-=`, `*=` compute
WRITES = [0]  # elements written here: what tests count
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}  # ("V": bfloat16's NumPy kind)


def _outside_autograd(tensor: Tensor) -> bool:
    """Whether nothing about `tensor` or its storage takes part in autograd (asked of the
    storage, so that a view need not build its expr)."""
    storage, base = tensor._storage, tensor._base
    return not (tensor._leaf or tensor._no_grad_view or (base is not None and base._leaf)
                or (storage.expr is not None and storage.expr.requires_grad))


def _host_buffer(tensor: Tensor) -> np.ndarray | None:
    """The host buffer of the tensor's storage where the fast path may write into it."""
    storage = tensor._storage
    if not _outside_autograd(tensor) or storage.device.type != "cpu" or math.prod(storage.shape) > HOST_ELEMENTS:
        return None
    if storage.numpy is None:
        if storage.host_value() is None:
            engine.value_of(storage.expr)
        if storage.host_value() is None:
            return None  # traced, inside a program being built
    buffer = storage.share_with_numpy()  # the buffer is the storage from now on, as after `.numpy()`
    return None if buffer.dtype == np.bool_ else buffer


def _element_components(tensor: Tensor) -> tuple | None:
    """The position of the one element a view selects, as a tuple of ints, or None."""
    steps = tensor._steps
    if len(steps) != 1 or steps[0][0] != "index":
        return None
    components = steps[0][1]
    return components if all(type(c) is int for c in components) else None


def update(tensor: Tensor, name: str, other, options: dict) -> bool:
    """`tensor.<name>(other)` (`add_`, `sub_`, `mul_`) done on the host where it qualifies;
    whether it was. `other` is a Python number, of a type in NUMBERS (the caller asks: an
    in-place op with a tensor operand, as in a training loop's updates, never comes here)."""
    op = _OPS.get(name)
    if op is None or options:
        return False
    components = _element_components(tensor)
    if components is None:
        return False
    buffer = _host_buffer(tensor)
    if buffer is None:
        return False
    own = buffer.dtype
    compute = promote((own, True), type(other))
    if _CATEGORY[np.dtype(compute).kind] > _CATEGORY[own.kind]:
        return False  # PyTorch refuses to write a float into an integer tensor: the general path's error
    with np.errstate(all="ignore"):
        buffer[components] = host_cast(op.host(buffer[components], other, dtype=compute), own)
    tensor._storage.version += 1
    WRITES[0] += 1
    return True


def writes_onto_itself(tensor: Tensor, index, value) -> bool:
    """Whether `tensor[index] = value`, for an index of ints, writes an element onto itself:
    `value` is that very element of the same storage (Python's write back after
    `tensor[i, j] += 1`), with no autograd involved."""
    if not isinstance(value, Tensor) or value._storage is not tensor._storage or not _outside_autograd(value):
        return False
    steps = value._steps
    positions = (index,) if type(index) is int else index
    own = len(tensor._steps)
    if len(steps) != own + 1 or steps[:own] != tensor._steps or steps[own][0] != "index":
        return False
    shape = tensor._shape
    if len(positions) > len(shape) or not all(-size <= p < size for p, size in zip(positions, shape)):
        return False  # (the general path raises PyTorch's error)
    return steps[own][1] == tuple(p % size for p, size in zip(positions, shape))
