"""`nn.functional.scaled_dot_product_attention`: PyTorch's checks and messages, recorded as
one op whose math is `nablax.nn.scaled_dot_product_attention`.

PyTorch broadcasts the batch dimensions of query, key and value (and the heads, without
`enable_gqa`); the inputs are expanded to the common shape before the op, as views.
"""

from __future__ import annotations

import math

from ... import nn as pure
from ..engine import Op
from ..ops import random
from ..ops.common import broadcast_shapes
from ..recording import record
from ..tensor import Tensor


def _attention(query, key, value, *rest, dropout_p, is_causal, scale, enable_gqa, masked):
    """The pure function on the operands: the mask when `masked`, then the draw of dropout."""
    mask, draw = (rest[0], rest[1:]) if masked else (None, rest)
    return pure.scaled_dot_product_attention(query, key, value, mask, dropout_p if draw else 0.0, is_causal, scale,
                                             enable_gqa, key=random.key_of(*draw) if draw else None)


SCALED_DOT_PRODUCT_ATTENTION = Op("scaled_dot_product_attention", _attention)


def _check_inputs(query: Tensor, key: Tensor, value: Tensor, attn_mask, dropout_p: float, is_causal: bool) -> None:
    """PyTorch's `validate_sdpa_input` and the checks that follow it, in its order."""
    tensors = (query, key, value)
    if not query.dtype is key.dtype is value.dtype:
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype.cpp_name} key.dtype: {key.dtype.cpp_name} and value.dtype: "
                           f"{value.dtype.cpp_name} instead.")
    if any(t.ndim < 2 for t in tensors):
        raise RuntimeError("Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if attn_mask is not None and attn_mask.dtype.name != "bool" and not attn_mask.dtype.is_floating_point \
            and attn_mask.dtype is not query.dtype:
        raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {attn_mask.dtype.cpp_name} and  query.dtype: {query.dtype.cpp_name} instead.")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"expected scalar type Float but found {query.dtype.scalar_name}")


def _common_lead(query: Tensor, key: Tensor, value: Tensor, enable_gqa: bool) -> tuple:
    """The broadcast batch dimensions (with the heads, unless grouped-query attention sets
    them apart), after PyTorch's head-count check."""
    if not enable_gqa:
        return broadcast_shapes(broadcast_shapes(query.shape[:-2], key.shape[:-2]), value.shape[:-2])
    heads = [t.shape[-3] if t.ndim > 2 else 1 for t in (query, key, value)]
    if heads[1] != heads[2] or heads[0] % heads[1]:
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
    return broadcast_shapes(broadcast_shapes(query.shape[:-3], key.shape[:-3]), value.shape[:-3])


def _check_products(lead: tuple, query: Tensor, key: Tensor, value: Tensor) -> None:
    """PyTorch's messages for the two batched products q k^T and weights v."""
    batch = math.prod(lead)
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {query.shape[-1]}] "
                           f"but got: [{batch}, {key.shape[-1]}].")
    if value.shape[-2] != key.shape[-2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {key.shape[-2]}] "
                           f"but got: [{batch}, {value.shape[-2]}].")


def _expanded(tensor: Tensor, lead: tuple, own: int) -> Tensor:
    """`tensor` broadcast to `lead` followed by its own last `own` dimensions (a view)."""
    shape = lead + tuple(tensor.shape[-own:])
    return tensor if tuple(tensor.shape) == shape else tensor.expand(shape)


def _grad_name(query: Tensor, key: Tensor, value: Tensor, dropout_p: float, enable_gqa: bool) -> str:
    """The backward node PyTorch's CPU kernels leave: its fused kernel's for 4-D inputs that
    need no broadcasting, without dropout; its matrix product's for 2-D ones; a view's otherwise."""
    if query.ndim == 2:
        return "MmBackward0"
    same_heads = query.shape[1] == key.shape[1] or enable_gqa
    fused = query.ndim == 4 and dropout_p == 0.0 and key.shape == value.shape and query.shape[0] == key.shape[0] \
        and same_heads
    return "ScaledDotProductFlashAttentionForCpuBackward0" if fused else "UnsafeViewBackward0"


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False):
    """softmax(query @ key^T * scale + mask) @ value over (..., L, E) queries and (..., S, E)
    keys; a boolean `attn_mask` is True where a query may attend, a float one is added;
    `dropout_p` drops attention weights with the global random stream (PyTorch applies it
    whatever the module's mode: pass `dropout_p=0.0` in evaluation).

        >>> import nablax.stateful as torch
        >>> q = torch.ones(2, 4, 3, 8)  # batch, heads, length, features
        >>> torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True).shape
        torch.Size([2, 4, 3, 8])
    """
    _check_inputs(query, key, value, attn_mask, dropout_p, is_causal)
    grad_name = _grad_name(query, key, value, dropout_p, enable_gqa)
    lead = _common_lead(query, key, value, enable_gqa)
    own = 3 if enable_gqa and query.ndim > 2 else 2
    _check_products(lead, query, key, value)
    query, key, value = (_expanded(t, lead, own) for t in (query, key, value))
    shape = tuple(query.shape[:-1]) + (value.shape[-1],)
    if attn_mask is not None:  # (PyTorch's message: the logits are tensor a, the mask b)
        broadcast_shapes(shape[:-1] + (key.shape[-2],), tuple(attn_mask.shape))
    draw = random.default_generator.next_draw() if dropout_p > 0.0 else ()
    operands = (query, key, value, *(() if attn_mask is None else (attn_mask,)), *draw)
    static = (("dropout_p", float(dropout_p)), ("is_causal", bool(is_causal)),
              ("scale", None if scale is None else float(scale)), ("enable_gqa", bool(enable_gqa)),
              ("masked", attn_mask is not None))
    return record(SCALED_DOT_PRODUCT_ATTENTION, operands, shape, query.dtype.numpy, grad_name, static)
