"""PyTorch's transformer modules: `TransformerEncoderLayer`, `TransformerDecoderLayer`,
`TransformerEncoder`, `TransformerDecoder` and `Transformer`, with `torch.nn`'s children,
parameter names and reprs.

An encoder or decoder layer holds its children as PyTorch does (`self_attn`, `linear1`,
`norm1`, ...), and its forward is one op whose math is the functional layer's apply
(`nablax.nn.TransformerEncoderLayer`), the children's parameters its operands. The stacks
and `Transformer` call their children in turn, as PyTorch's do, so a custom layer works too.
"""

from __future__ import annotations

import copy

from ... import nn as pure
from .. import dtypes as dt
from ..engine import no_grad
from . import functional as F
from . import init
from ._layer_op import as_jax_function, record_apply
from .attention import MultiheadAttention
from .layers import LayerNorm, _buffer, _numpy_dtype
from .module import Module
from .modules import GELU, Dropout, Linear, ModuleList, ReLU

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation_function(activation):
    """PyTorch's `_get_activation_fn`: a string names F.relu or F.gelu."""
    if not isinstance(activation, str):
        return activation
    if activation not in _ACTIVATIONS:
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return _ACTIVATIONS[activation]


def _functional_activation(activation):
    """The activation as the functional layer takes it: 'relu' or 'gelu' where PyTorch
    sees them too (its `activation_relu_or_gelu`), else the stateful callable run on arrays."""
    if activation is F.relu or isinstance(activation, ReLU):
        return "relu"
    if activation is F.gelu or (isinstance(activation, GELU) and activation.approximate == "none"):
        return "gelu"
    if isinstance(activation, Module) and any(True for _ in activation.parameters()):
        raise NotImplementedError(f"an activation with parameters ({type(activation).__name__}) is not supported by "
                                  "nablax's transformer layers: use a function or a module without parameters")
    return as_jax_function(activation)


def _check_mask_type(mask, name: str) -> None:
    """PyTorch's `_canonical_mask` check of a mask the layer receives."""
    if mask is not None and mask.dtype.name != "bool" and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported")


class _TransformerLayer(Module):
    """What the encoder and decoder layers share: PyTorch's children and the functional layer
    that computes their forward."""

    _pure_layer: type
    _attentions: tuple[str, ...]

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        options = dict(device=device, dtype=dtype)
        for name in self._attentions:
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                   **options))
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **options)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **options)
        self.norm_first = norm_first
        for index in range(1, len(self._attentions) + 2):
            setattr(self, f"norm{index}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **options))
        for index in range(1, len(self._attentions) + 2):
            setattr(self, f"dropout{index}", Dropout(dropout))
        activation = _activation_function(activation)
        functional_activation = _functional_activation(activation)
        self.activation_relu_or_gelu = {"relu": 1, "gelu": 2}.get(functional_activation, 0)
        self.activation = activation
        self._layer = self._pure_layer(d_model, nhead, dim_feedforward, dropout, functional_activation, layer_norm_eps,
                                       batch_first, norm_first, bias, dtype=_numpy_dtype(dtype))

    def _record(self, args: tuple, masks: dict, options: dict):
        """The layer's forward as one op over all its parameters."""
        return record_apply(self._layer, dict(self.named_parameters()), args, masks, options,
                            draws=self.training and self._layer.dropout.p > 0,
                            grad_names="AddBackward0" if self.norm_first else "NativeLayerNormBackward0")


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention and a feed-forward block, each with a residual connection and a
    LayerNorm (after it by default, before it with `norm_first=True`).

        >>> import nablax.stateful as torch
        >>> layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        >>> layer(torch.ones(3, 5, 8)).shape
        torch.Size([3, 5, 8])
    """

    _pure_layer = pure.TransformerEncoderLayer
    _attentions = ("self_attn",)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        _check_mask_type(src_key_padding_mask, "src_key_padding_mask")
        _check_mask_type(src_mask, "src_mask")
        self.self_attn.check_inputs(src, src, src, src_key_padding_mask, src_mask, False, is_causal)
        masks = dict(src_mask=src_mask, src_key_padding_mask=src_key_padding_mask)
        return self._record((src,), masks, dict(is_causal=bool(is_causal)))


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, attention over the encoder's output (`memory`) and a feed-forward
    block, each with a residual connection and a LayerNorm."""

    _pure_layer = pure.TransformerDecoderLayer
    _attentions = ("self_attn", "multihead_attn")

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False):
        self.self_attn.check_inputs(tgt, tgt, tgt, tgt_key_padding_mask, tgt_mask, False, tgt_is_causal)
        self.multihead_attn.check_inputs(tgt, memory, memory, memory_key_padding_mask, memory_mask, False,
                                         memory_is_causal)
        masks = dict(tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                     memory_key_padding_mask=memory_key_padding_mask)
        return self._record((tgt, memory), masks, dict(tgt_is_causal=bool(tgt_is_causal),
                                                       memory_is_causal=bool(memory_is_causal)))


class TransformerEncoder(Module):
    """`num_layers` copies of `encoder_layer` (`layers.0`, `layers.1`, ...), then `norm`.

    `is_causal=None` with a mask leaves the mask in charge: PyTorch would compare the mask
    with a causal one to use a faster kernel, which gives the same numbers."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check
        self.use_nested_tensor = False  # there are no nested tensors in nablax

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        _check_mask_type(src_key_padding_mask, "src_key_padding_mask")
        _check_mask_type(mask, "mask")
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=bool(is_causal), src_key_padding_mask=src_key_padding_mask)
        return output if self.norm is None else self.norm(output)


class TransformerDecoder(Module):
    """`num_layers` copies of `decoder_layer`, then `norm`."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """An encoder and a decoder (`num_encoder_layers` and `num_decoder_layers` layers, each
    stack closed by a LayerNorm); every parameter with two or more dimensions starts
    Xavier-uniform, as PyTorch's does.

        >>> import nablax.stateful as torch
        >>> model = torch.nn.Transformer(8, 2, 1, 1, dim_feedforward=16)
        >>> src, tgt = torch.ones(6, 2, 8), torch.ones(4, 2, 8)  # (length, batch, d_model)
        >>> mask = torch.nn.Transformer.generate_square_subsequent_mask(4)
        >>> model(src, tgt, tgt_mask=mask).shape
        torch.Size([4, 2, 8])
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        options = dict(layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first, bias=bias,
                       device=device, dtype=dtype)
        norm = dict(eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        if custom_encoder is None:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, **options)
            custom_encoder = TransformerEncoder(layer, num_encoder_layers, LayerNorm(d_model, **norm))
        if custom_decoder is None:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation, **options)
            custom_decoder = TransformerDecoder(layer, num_decoder_layers, LayerNorm(d_model, **norm))
        self.encoder, self.decoder = custom_encoder, custom_decoder
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        with no_grad():
            for parameter in self.parameters():
                if parameter.ndim > 1:
                    init.xavier_uniform_(parameter)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None):
        """The causal mask of `sz` positions: 0 on and below the diagonal, -inf above."""
        dtype = dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()
        return _buffer(pure.Transformer.generate_square_subsequent_mask(sz, dtype=dtype.numpy), device)
