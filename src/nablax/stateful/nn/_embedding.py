"""The lookups of `nn.functional`: `embedding` (one op whose math is `nablax.nn.embedding`)
and `embedding_bag` (sums, means or maxima of bags of looked-up rows, composed from the
tensor ops), with PyTorch's `max_norm`, which renormalises the looked-up rows of the weight
in place before the lookup."""

from __future__ import annotations

import warnings

import numpy as np

from ... import nn as pure
from .. import dtypes as dt
from ..engine import Op, no_grad
from ..ops import arithmetic as A
from ..ops import linalg
from ..ops.creation import arange
from ..ops.creation import tensor as make_tensor
from ..recording import record
from ..tensor import Tensor
from ._checks import known_value, padding_index

EMBEDDING = Op("embedding", pure.embedding)


def _check_known_indices(indices: Tensor, num_embeddings: int) -> None:
    """PyTorch's range check, for indices whose values are already known (data, usually);
    pending ones are computed in the same program as the lookup, where a bad one gives NaNs."""
    value = known_value(indices)
    if value is None or not np.size(value):
        return
    values = np.asarray(value)
    if values.min() < 0 or values.max() >= num_embeddings:
        raise IndexError("index out of range in self")


def renormalize_rows(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> None:
    """PyTorch's `embedding_renorm_`: each row of `weight` that `indices` looks up and whose
    `norm_type`-norm exceeds `max_norm` is scaled in place to norm `max_norm` (outside
    autograd). PyTorch reads the indices for this; so does nablax."""
    rows = np.unique(np.asarray(indices._value()))
    if not rows.size:
        return
    if rows.min() < 0 or rows.max() >= weight.shape[0]:
        raise IndexError("index out of range in self")
    with no_grad():
        positions = make_tensor(rows.astype(np.int64))
        looked_up = weight.index_select(0, positions)
        norms = linalg.vector_norm(looked_up, norm_type, 1, True)
        scale = A.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[positions] = looked_up * scale


def _check_indices_dtype(input: Tensor, who: str) -> None:
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
                           f"Int; but got {input.type()} instead (while checking arguments for {who})")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False):
    """Rows of `weight` ([num_embeddings, embedding_dim]) for the integer indices `input`; the
    `padding_idx` row gets no gradient (`nablax.nn.embedding`). `max_norm` first renormalises
    the looked-up rows of `weight` in place; `scale_grad_by_freq` divides each row's gradient
    by its count in `input`. `sparse=True` gives the same values as a dense gradient.

        >>> import nablax.stateful as torch
        >>> weight = torch.tensor([[3.0, 4.0], [0.5, 0.0]])
        >>> torch.nn.functional.embedding(torch.tensor([0, 1]), weight, max_norm=1.0).tolist()
        [[0.6000000238418579, 0.800000011920929], [0.5, 0.0]]
    """
    padding_idx = padding_index(padding_idx, weight.shape[0])
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_indices_dtype(input, "embedding")
    _check_known_indices(input, weight.shape[0])
    if max_norm is not None:
        renormalize_rows(weight, input, max_norm, norm_type)
    return record(EMBEDDING, (input, weight), (*input.shape, weight.shape[1]), weight.dtype.numpy, "EmbeddingBackward0",
                  (("padding_idx", padding_idx), ("scale_grad_by_freq", bool(scale_grad_by_freq))),
                  differentiable=(False, True))
