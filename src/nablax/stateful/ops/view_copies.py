"""The `*_copy` forms of the view ops (`view_copy`, `permute_copy`, `diagonal_copy`, ...):
the view's values in a tensor of their own, which writes do not share.

    >>> import nablax.stateful as torch
    >>> x = torch.zeros(2, 3)
    >>> y = torch.t_copy(x)
    >>> y[0, 0] = 1
    >>> x[0, 0].item(), y.shape
    (0.0, torch.Size([3, 2]))
"""

from __future__ import annotations

from ..recording import record
from ..tensor import Tensor
from . import copies, dims, pieces, shape, splitting


def _alias(input: Tensor) -> Tensor:
    return input[...]


def _expand(input: Tensor, size, *, implicit: bool = False) -> Tensor:
    return shape.expand(input, tuple(size))


def _view(input: Tensor, size) -> Tensor:
    return shape.view(input, size)


def _copied(view: Tensor) -> Tensor:
    """A copy of `view`, its `grad_fn` named as PyTorch names the copy's (`ViewBackward0_copy`)."""
    grad_name = view._current_expr().grad_name
    return record(copies.COPY, (view,), view.shape, view.dtype.numpy, f"{grad_name}_copy" if grad_name else None)


def _copy_of(name: str, view):
    """`name`: `view`'s result (a tensor, or a tuple of them) copied."""

    def view_copy(*args, **kwargs):
        result = view(*args, **kwargs)
        if isinstance(result, tuple):
            return tuple(_copied(piece) for piece in result)
        return _copied(result)

    view_copy.__name__ = view_copy.__qualname__ = name
    view_copy.__doc__ = f"A copy of what the view `{view.__name__.strip('_')}` sees."
    return view_copy


_VIEWS = {"alias": _alias, "expand": _expand, "permute": shape.permute, "squeeze": shape.squeeze, "t": shape.t,
          "transpose": shape.transpose, "unsqueeze": shape.unsqueeze, "view": _view, "unbind": pieces.unbind,
          "unfold": dims.unfold, "narrow": splitting.narrow, "split_with_sizes": pieces.split_with_sizes,
          "diagonal": dims.diagonal}
FUNCTIONS = {f"{name}_copy": _copy_of(f"{name}_copy", view) for name, view in _VIEWS.items()}
METHODS = {"narrow_copy": FUNCTIONS["narrow_copy"]}
