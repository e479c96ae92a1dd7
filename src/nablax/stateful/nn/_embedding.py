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


def _flattened_bags(input: Tensor, offsets, per_sample_weights):
    """PyTorch's reading of the arguments: a 2-D input is a batch of equal bags (its rows), a
    1-D one is split at `offsets`. Returns the flat indices, the offsets and the weights."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed "
                             f"length sequences. However, found offsets of type {type(offsets)}")
        offsets = arange(0, input.numel(), input.shape[1], dtype=input.dtype)
        weights = None if per_sample_weights is None else per_sample_weights.reshape(-1)
        return input.reshape(-1), offsets, weights
    if input.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    return input, offsets, per_sample_weights


def _bag_of_each_index(offsets: Tensor, length: int, include_last_offset: bool) -> tuple[np.ndarray, int]:
    """The bag of each of the `length` flat indices (-1: none, past the last offset when it
    closes the last bag) and the number of bags, from the offsets' values (read, as PyTorch
    reads them)."""
    _check_indices_dtype(offsets, "embedding_bag")
    starts = np.asarray(offsets._value()).astype(np.int64)
    if starts.size and starts[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {starts[0]}\n[ torch.LongTensor{{}} ]")
    if starts.size and starts[-1] > length:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {length} but got offsets[-1] of "
                           f"{starts[-1]}")
    bags = max(len(starts) - 1, 0) if include_last_offset else len(starts)
    bag = np.searchsorted(starts, np.arange(length), side="right") - 1
    if include_last_offset:
        bag = np.where(bag >= bags, -1, bag)
    return bag, bags


def _check_bag_arguments(weight: Tensor, mode: str, scale_grad_by_freq: bool, per_sample_weights, input) -> None:
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape!r}) is not None, then it must "
                         f"have the same shape as the input ({input.shape!r})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only supported "
                                  f"for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None):
    """The sum, mean or maximum of each bag of looked-up rows of `weight`: bags are the rows of
    a 2-D `input`, or the runs of a 1-D `input` that start at `offsets`. Indices equal to
    `padding_idx` are left out of their bag; an empty bag gives zeros.

        >>> import nablax.stateful as torch
        >>> weight = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        >>> torch.nn.functional.embedding_bag(torch.tensor([0, 2, 1]), weight, torch.tensor([0, 2]), mode="sum").tolist()
        [[6.0, 8.0], [3.0, 4.0]]
    """
    if weight.dtype is dt.int64 and input.dtype.is_floating_point:
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, input, "
                      "...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.", stacklevel=2)
        weight, input = input, weight
    _check_bag_arguments(weight, mode, scale_grad_by_freq, per_sample_weights, input)
    indices, offsets, per_sample_weights = _flattened_bags(input, offsets, per_sample_weights)
    _check_indices_dtype(indices, "embedding_bag")
    padding_idx = padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        renormalize_rows(weight, indices, max_norm, norm_type)
    bag, bags = _bag_of_each_index(offsets, indices.shape[0], include_last_offset)
    rows = embedding(indices, weight, scale_grad_by_freq=scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    members = make_tensor(bag) == arange(bags).unsqueeze(1)  # [bag, index]
    if padding_idx is not None:
        members = members & (indices != padding_idx)
    counts = members.sum(1, keepdim=True)
    if mode == "max":
        candidates = A.where(members.unsqueeze(2), rows.unsqueeze(0), float("-inf"))
        return A.where(counts > 0, candidates.amax(1), 0.0)
    sums = members.to(weight.dtype) @ rows
    return sums if mode == "sum" else sums / counts.clamp_min(1)
