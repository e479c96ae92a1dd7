"""The window functions of `torch.signal.windows`, written as PyTorch writes them: a
`linspace` of the window's positions and a few elementwise ops, in the window's dtype
(float32 or float64). `sym=False` gives the periodic window (one point longer, last
point dropped). nablax has no layouts: `layout` may only be None (PyTorch's default,
strided).

    >>> import nablax.stateful as torch
    >>> torch.signal.windows.hann(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .. import dtypes as dt
from ..tensor import Tensor
from . import arithmetic as A
from . import elementwise as E
from .creation import arange, empty, linspace, ones, tensor
from .reductions import sum as sum_


def _checked(name: str, M: int, dtype, layout):
    """PyTorch's checks of every window; returns the dtype (the default one when None)."""
    dtype = dt.get_default_dtype() if dtype is None else dtype
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None:
        raise ValueError(f"{name} is implemented for strided tensors only (layout=None), got: {layout}")
    if dtype not in (dt.float32, dt.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _trivial(M: int, dtype, device, requires_grad, *, one_point: bool = True) -> Tensor | None:
    """The window of no point (and, where `one_point`, of one point: [1.]), else None."""
    if M == 0:
        return empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if M == 1 and one_point:
        return ones((1,), dtype=dtype, device=device, requires_grad=requires_grad)
    return None


def _positions(start: float, end: float, M: int, dtype, device, requires_grad) -> Tensor:
    return linspace(start, end, M, dtype=dtype, device=device, requires_grad=requires_grad)


def _span(M: int, sym: bool) -> int:
    """The number of intervals the window spans: M - 1, or M for a periodic window."""
    return M if not sym and M > 1 else M - 1


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True, dtype=None, layout=None,
                device=None, requires_grad: bool = False) -> Tensor:
    """exp(-|n - center| / tau)."""
    dtype = _checked("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    trivial = _trivial(M, dtype, device, requires_grad, one_point=False)
    if trivial is not None:
        return trivial
    center = _span(M, sym) / 2.0 if center is None else center
    step = 1 / tau
    k = _positions(-center * step, (-center + (M - 1)) * step, M, dtype, device, requires_grad)
    return E.exp(E.neg(E.FUNCTIONS["abs"](k)))


def cosine(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """sin(pi (n + 1/2) / M) (SciPy's cosine window)."""
    dtype = _checked("cosine", M, dtype, layout)
    trivial = _trivial(M, dtype, device, requires_grad, one_point=False)
    if trivial is not None:
        return trivial
    step = math.pi / (M + 1 if not sym and M > 1 else M)
    return E.FUNCTIONS["sin"](_positions(0.5 * step, (0.5 + (M - 1)) * step, M, dtype, device, requires_grad))


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """exp(-(n / (2 std))²) about the window's middle."""
    dtype = _checked("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    trivial = _trivial(M, dtype, device, requires_grad, one_point=False)
    if trivial is not None:
        return trivial
    step = 1 / (std * math.sqrt(2))
    start = -_span(M, sym) / 2.0
    k = _positions(start * step, (start + (M - 1)) * step, M, dtype, device, requires_grad)
    return E.exp(E.neg(A.pow(k, 2)))


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """I0(beta sqrt(1 - (2n/N - 1)²)) / I0(beta), N = M - 1 (M when periodic)."""
    dtype = _checked("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    beta = tensor(beta, dtype=dtype, device=device)
    start = E.neg(beta)
    # The last position, no further out than beta: sqrt(beta² - k²) must not see a negative.
    end = A.minimum(beta, start + (M - 1) * (2.0 * beta / (M if not sym else M - 1)))
    k = linspace(float(start), float(end), M, dtype=dtype, device=device, requires_grad=requires_grad)
    i0 = E.FUNCTIONS["i0"]
    return i0(E.sqrt(beta * beta - A.pow(k, 2))) / i0(beta)


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """The triangle 1 - |2n/N - 1|."""
    dtype = _checked("bartlett", M, dtype, layout)
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    k = _positions(-1, -1 + (M - 1) * (2 / (M if not sym else M - 1)), M, dtype, device, requires_grad)
    return 1 - E.FUNCTIONS["abs"](k)


def general_cosine(M: int, *, a: Iterable, sym: bool = True, dtype=None, layout=None, device=None,
                   requires_grad: bool = False) -> Tensor:
    """Σ_i (-1)^i a_i cos(2 pi i n / N): the sum of cosines of weights `a`."""
    dtype = _checked("general_cosine", M, dtype, layout)
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    k = _positions(0, (M - 1) * (2 * math.pi / (M if not sym else M - 1)), M, dtype, device, requires_grad)
    weights = tensor([(-1) ** i * w for i, w in enumerate(a)], dtype=dtype, device=device, requires_grad=requires_grad)
    i = arange(weights.shape[0], dtype=dtype, device=device)
    return sum_(weights.unsqueeze(-1) * E.FUNCTIONS["cos"](i.unsqueeze(-1) * k), 0)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=None, device=None,
                    requires_grad: bool = False) -> Tensor:
    """alpha - (1 - alpha) cos(2 pi n / N)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    _checked("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)
