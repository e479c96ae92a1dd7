"""`nn.Parameter`: a leaf tensor that a `Module` registers as one of its parameters."""

from __future__ import annotations

from .. import printing
from ..ops.creation import empty
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that requires grad by default and prints as `Parameter containing:`.

    It shares its storage with the tensor it is made from, as in PyTorch, and is a leaf:
    made from a computed tensor (`Parameter(torch.randn(2, 3, requires_grad=True) * 0.01)`),
    it takes the values, not the graph.
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = empty(0)
        parameter = data._alias(detached=not data.is_leaf, cls=cls)
        if requires_grad:
            parameter.requires_grad_(True)
        return parameter

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self) -> str:
        return printing.parameter_repr(super().__repr__())

    __str__ = __repr__


Parameter.__module__ = "torch.nn.parameter"
