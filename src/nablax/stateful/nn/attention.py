"""`nn.MultiheadAttention`: PyTorch's parameters (`in_proj_weight`, `in_proj_bias`, the
`out_proj` child, ...), checks and messages; its forward is one op whose math is
`nablax.nn.MultiheadAttention.apply`."""

from __future__ import annotations

import warnings

from ... import nn as pure
from ..tensor import Size, Tensor
from ._layer_op import record_apply
from ._initial import initial_parameters
from .layers import _numpy_dtype, _register_parameters
from .module import Module
from .modules import Linear

# PyTorch's registration order of MultiheadAttention's own parameters (None where unused).
_OWN_PARAMETERS = ("q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_weight", "in_proj_bias", "bias_k", "bias_v")


class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's class of `MultiheadAttention.out_proj`: a `Linear` under that name."""


def _check_ranks(query: Tensor, key: Tensor, value: Tensor, key_padding_mask, attn_mask, num_heads: int) -> bool:
    """PyTorch's `_mha_shape_check`: whether the input is batched, or its AssertionError."""
    if query.ndim not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor")
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {query.ndim}-D but found "
                             f"{key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or {query.ndim - 1}-D but "
                             f"found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                             f"{attn_mask.ndim}-D tensor instead")
    if not batched and attn_mask is not None and attn_mask.ndim == 3:
        expected = (num_heads, query.shape[0], key.shape[0])
        if tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape!r}")
    return batched


def _bool_or_float(mask: Tensor) -> bool:
    return mask.dtype.name == "bool" or mask.dtype.is_floating_point


def _check_mask_types(key_padding_mask, attn_mask, need_weights: bool, is_causal: bool) -> None:
    """PyTorch's `_canonical_mask` checks of both masks, and its is_causal rule."""
    if key_padding_mask is not None and not _bool_or_float(key_padding_mask):
        raise AssertionError("only bool and floating types of key_padding_mask are supported")
    if key_padding_mask is not None and attn_mask is not None and key_padding_mask.dtype is not attn_mask.dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for both "
                      "instead.", UserWarning, stacklevel=5)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    hint_replaces_mask = is_causal and key_padding_mask is None and not need_weights  # PyTorch never looks at the mask
    if attn_mask is not None and not hint_replaces_mask and not _bool_or_float(attn_mask):
        raise AssertionError("only bool and floating types of attn_mask are supported")


class MultiheadAttention(Module):
    """Attention over `num_heads` heads of `embed_dim // num_heads` features, with PyTorch's
    parameters and initialisation (Xavier-uniform projections, zero biases).

    `forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)` returns `(output, weights)`: boolean masks
    are True where a query may not attend, float masks are added. Dropout on the attention
    weights applies in training mode (`.train()`), drawn from the global random stream.

        >>> import nablax.stateful as torch
        >>> attention = torch.nn.MultiheadAttention(8, 2, batch_first=True)
        >>> x = torch.ones(3, 5, 8)  # batch, length, embed_dim
        >>> output, weights = attention(x, x, x)
        >>> output.shape, weights.shape
        (torch.Size([3, 5, 8]), torch.Size([3, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True, add_bias_kv: bool = False,
                 add_zero_attn: bool = False, kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        self._layer = pure.MultiheadAttention(embed_dim, num_heads, dropout, bias, add_bias_kv, add_zero_attn, kdim,
                                              vdim, batch_first, dtype=_numpy_dtype(dtype))
        params = initial_parameters(self._layer)
        _register_parameters(self, params, _OWN_PARAMETERS, device)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        _register_parameters(self.out_proj, params["out_proj"], ("weight", "bias"), device)
        self.add_zero_attn = add_zero_attn

    def _check_widths(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        """The feature sizes and dtypes PyTorch's forward checks, with its messages; the
        shapes in them are (L, N, E), as PyTorch sees them after its batch_first transpose."""
        swap = (lambda s: Size((s[1], s[0], *s[2:]))) if self.batch_first and query.ndim == 3 else Size
        if query.shape[-1] != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {query.shape[-1]}")
        if not self._qkv_same_embed_dim and key.shape[:-1] != value.shape[:-1]:
            raise AssertionError(f"key's sequence and batch dims {swap(key.shape)[:2]!r} do not match value's "
                                 f"{swap(value.shape)[:2]!r}")
        if self._qkv_same_embed_dim and key.shape != value.shape:
            raise AssertionError(f"key shape {swap(key.shape)!r} does not match value shape {swap(value.shape)!r}")
        if not self._qkv_same_embed_dim:
            for name, tensor, weight in (("key", key, self.k_proj_weight), ("value", value, self.v_proj_weight)):
                if tuple(weight.shape) != (self.embed_dim, tensor.shape[-1]):
                    raise AssertionError(f"expecting {name} weights shape of {(self.embed_dim, tensor.shape[-1])}, "
                                         f"but got {weight.shape!r}")
        weight = self.in_proj_weight if self._qkv_same_embed_dim else self.q_proj_weight
        if query.dtype is not weight.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {query.dtype.scalar_name} and "
                               f"{weight.dtype.scalar_name}")

    def _check_mask_shapes(self, query: Tensor, key: Tensor, key_padding_mask, attn_mask, batched: bool) -> None:
        """PyTorch's checks of the mask shapes and of the key's batch size."""
        target, batch = (query.shape[0], 1) if not batched else (
            (query.shape[1], query.shape[0]) if self.batch_first else query.shape[:2])
        source, key_batch = (key.shape[0], 1) if not batched else (
            (key.shape[1], key.shape[0]) if self.batch_first else key.shape[:2])
        if attn_mask is not None:
            expected = (target, source) if attn_mask.ndim == 2 else (batch * self.num_heads, target, source)
            if tuple(attn_mask.shape) != expected:
                raise RuntimeError(f"The shape of the {attn_mask.ndim}D attn_mask is {attn_mask.shape!r}, but should "
                                   f"be {expected}.")
        if key_batch != batch:
            raise RuntimeError(f"shape '[{source}, {batch * self.num_heads}, {self.head_dim}]' is invalid for input of "
                               f"size {source * key_batch * self.embed_dim}")
        if key_padding_mask is not None:
            size = (1, *key_padding_mask.shape) if not batched else tuple(key_padding_mask.shape)
            for dim, expected in enumerate((batch, source)):
                if size[dim] != expected:
                    raise AssertionError(f"Expected key_padded_mask.shape[{dim}] to be {expected}, but got {size[dim]}")

    def check_inputs(self, query, key, value, key_padding_mask=None, attn_mask=None, need_weights: bool = True,
                     is_causal: bool = False) -> bool:
        """Runs PyTorch's checks of a forward call, in its order; returns whether it is batched."""
        batched = _check_ranks(query, key, value, key_padding_mask, attn_mask, self.num_heads)
        _check_mask_types(key_padding_mask, attn_mask, need_weights, is_causal)
        self._check_widths(query, key, value)
        self._check_mask_shapes(query, key, key_padding_mask, attn_mask, batched)
        return batched

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        batched = self.check_inputs(query, key, value, key_padding_mask, attn_mask, need_weights, is_causal)
        out_name = "SqueezeBackward1" if not batched else "TransposeBackward0" if self.batch_first else "ViewBackward0"
        weights_name = "SqueezeBackward1" if not batched else "MeanBackward1" if average_attn_weights else "ViewBackward0"
        options = dict(need_weights=bool(need_weights), average_attn_weights=bool(average_attn_weights),
                       is_causal=bool(is_causal))
        return record_apply(self._layer, dict(self.named_parameters()), (query, key, value),
                            dict(key_padding_mask=key_padding_mask, attn_mask=attn_mask), options,
                            draws=self.training and self.dropout > 0, grad_names=(out_name, weights_name))
