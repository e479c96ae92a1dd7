"""The distances of `nn.functional` (`cosine_similarity`, `pairwise_distance`, `pdist`),
composed from the tensor ops as PyTorch composes them, so their values, dtypes and gradients
are those ops'."""

from __future__ import annotations

import numpy as np

from .. import dtypes as dt
from ..ops import linalg
from ..ops.common import broadcast_shapes
from ..ops.creation import tensor as make_tensor
from ..tensor import Tensor


def clamped_below(value: Tensor, least: float) -> Tensor:
    """`value` raised to at least `least`, with the gradient of `value` itself: PyTorch clamps
    such norms in place under `no_grad`, which its backward pass does not see."""
    return value + (value.clamp_min(least) - value).detach()


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8):
    """The cosine of the angle between `x1` and `x2` (broadcast together) along `dim`; each
    norm is at least `eps`.

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.cosine_similarity(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 1.0]])).tolist()
        [0.7071067690849304]
    """
    common = dt.promote_types(x1.dtype, x2.dtype)
    if not common.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {common.scalar_name}")
    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = x1.to(common).expand(shape), x2.to(common).expand(shape)
    norm1 = clamped_below(linalg.vector_norm(x1, 2, dim, True), eps)
    norm2 = clamped_below(linalg.vector_norm(x2, 2, dim, True), eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """The p-norm of `x1 - x2 + eps` along the last dimension (of the broadcast shape)."""
    last = max(x1.ndim, x2.ndim) - 1
    return linalg.vector_norm(x1 - x2 + eps, p, last, keepdim)


def pdist(input: Tensor, p: float = 2.0):
    """The p-norm distances between the rows of an [N, M] `input`, for each pair i < j in
    row-major order ([N * (N - 1) / 2]).

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.pdist(torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])).tolist()
        [5.0, 1.0, 4.242640495300293]
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    first, second = np.triu_indices(input.shape[0], 1)
    rows = make_tensor(first.astype(np.int64)), make_tensor(second.astype(np.int64))
    differences = input.index_select(0, rows[0]) - input.index_select(0, rows[1])
    return linalg.vector_norm(differences, p, 1)
