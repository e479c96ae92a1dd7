"""`histogram` and `histc`: counts of values in equal-width bins.

PyTorch computes them eagerly on the CPU and never differentiates them (`histogram` of an
input that requires grad gives results with a `NotImplemented` node, `histc` plain ones);
so do these, with NumPy on the values read to the host. `range=None` (`min == max` for
`histc`) spans the values' own minimum and maximum."""

from __future__ import annotations

import numpy as np

from .. import engine
from ..engine import Op
from ..grad_fn import NOT_DIFFERENTIABLE
from ..recording import record
from ..tensor import Tensor


def _values(input: Tensor, kernel: str) -> np.ndarray:
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{input.dtype.scalar_name}\'')
    return np.asarray(input.detach()._host())


class _Histogram(tuple):
    """`torch.return_types.histogram(hist=..., bin_edges=...)`."""

    __slots__ = ()

    @property
    def hist(self) -> Tensor:
        return self[0]

    @property
    def bin_edges(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.histogram(\nhist={self[0]!r},\nbin_edges={self[1]!r})"


_Histogram.__name__ = _Histogram.__qualname__ = "histogram"
_Histogram.__module__ = "torch.return_types"

# The computed values, as a result of the input in the graph (not differentiable).
_COMPUTED = Op("histogram", lambda input, computed: computed, host=lambda input, computed: computed)


def _computed(input: Tensor, array: np.ndarray) -> Tensor:
    array = array.astype(input.dtype.numpy)
    return record(_COMPUTED, (input, engine.source(engine.on_device(array))), array.shape, array.dtype, NOT_DIFFERENTIABLE,
                  differentiable=(True, False))


def histogram(input: Tensor, bins=100, *, range=None, weight: Tensor | None = None, density: bool = False):  # noqa: A002
    """`(hist, bin_edges)`: `bins` equal-width bins over `range` (or the values' span), or
    the edges given as a tensor; `weight` weighs each value, `density` normalises the
    counts to a density (their integral over the range is 1).

        >>> import nablax.stateful as torch
        >>> hist, edges = torch.histogram(torch.tensor([1.0, 2.0, 1.0]), bins=4, range=(0.0, 3.0))
        >>> hist
        tensor([0., 2., 1., 0.])
        >>> edges
        tensor([0.0000, 0.7500, 1.5000, 2.2500, 3.0000])
    """
    values = _values(input, "histogramdd")
    if isinstance(bins, Tensor):
        bins = np.asarray(bins.detach()._host())
    elif bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    weights = None if weight is None else np.asarray(weight.detach()._host()).reshape(-1)
    hist, edges = np.histogram(values.reshape(-1), bins, range=range, weights=weights, density=density)
    return _Histogram((_computed(input, hist), _computed(input, edges)))


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """The counts of `histogram` over [`min`, `max`] (the values' span where they are equal),
    values outside it left out, in the input's dtype."""
    values = _values(input, "histogram_cpu")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for dimension 0")
    span = None if min == max else (min, max)
    counts = np.histogram(values.reshape(-1), bins, range=span)[0].astype(values.dtype)
    return Tensor._from_expr(engine.source(engine.on_device(counts)))  # (PyTorch's is outside the graph)


FUNCTIONS = {function.__name__: function for function in (histogram, histc)}
