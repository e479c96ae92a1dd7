"""PyTorch's layouts and memory formats: `torch.strided`, `torch.preserve_format`,
`torch.contiguous_format`, `torch.channels_last`, `torch.channels_last_3d`.

nablax has one layout (dense, strided) and computes values without regard to memory order,
so these are accepted where PyTorch takes `layout=` or `memory_format=` and change nothing:
a tensor made with `memory_format=torch.channels_last` has PyTorch's values and shape, in
nablax's one layout.

    >>> import nablax.stateful as torch
    >>> torch.zeros(1, 3, 2, 2, layout=torch.strided).double(memory_format=torch.channels_last).shape
    torch.Size([1, 3, 2, 2])
"""

from __future__ import annotations


class _Named:
    """An object that PyTorch prints by its name, `torch.<name>`."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class layout(_Named):  # noqa: N801 - PyTorch's name
    """A tensor layout: only `torch.strided` exists here."""

    __slots__ = ()


class memory_format(_Named):  # noqa: N801 - PyTorch's name
    """An order of a tensor's elements in memory, as PyTorch names them."""

    __slots__ = ()


layout.__module__ = memory_format.__module__ = "torch"

strided = layout("strided")
preserve_format = memory_format("preserve_format")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")

NAMES = {value.name: value for value in (strided, preserve_format, contiguous_format, channels_last, channels_last_3d)}


_RANKS = {"channels_last": 4, "channels_last_3d": 5}


def check_memory_format(value, function: str, ndim: int) -> None:
    """PyTorch's refusal of a `memory_format=` that is not one, or of a channels-last format
    for a tensor of another number of dims."""
    if value is None:
        return
    if not isinstance(value, memory_format):
        raise TypeError(f"{function}(): argument 'memory_format' must be torch.memory_format, not {type(value).__name__}")
    rank = _RANKS.get(value.name)
    if rank is not None and ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {value.name} format")


def check_layout(value, function: str | None = None) -> None:
    """PyTorch's refusal of a `layout=` that is not one; strided is the only layout here."""
    if value is not None and not isinstance(value, layout):
        prefix = f"{function}(): " if function else ""
        raise TypeError(f"{prefix}argument 'layout' must be torch.layout, not {type(value).__name__}")
