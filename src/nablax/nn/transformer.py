"""PyTorch's transformer family as composite layers: `TransformerEncoderLayer`,
`TransformerDecoderLayer`, `TransformerEncoder`, `TransformerDecoder` and `Transformer`, with
`torch.nn`'s arguments, parameter names (`layers.0.self_attn.in_proj_weight`, ...) and reprs.

The sublayers are `init=False` fields built from the arguments in `__post_init__`, listed
in `sublayer_order` as PyTorch registers its submodules, so the state_dict keys and the
printed tree come out in PyTorch's order. The `dropout` argument becomes the `Dropout`
sublayer of that name, as it does in PyTorch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from .._keys import as_key
from ._init import xavier_uniform
from .activation import gelu, relu
from .attention import MultiheadAttention
from .dropout import Dropout
from .layer import Layer, Params, sublayer_key
from .linear import Linear
from .norm import LayerNorm

_ACTIVATIONS = {"relu": relu, "gelu": gelu}


def _set(layer: Layer, **values) -> None:
    for name, value in values.items():
        object.__setattr__(layer, name, value)


def _as_dropout(value) -> Dropout:
    return value if isinstance(value, Dropout) else Dropout(value)


def _check_activation(activation) -> None:
    if isinstance(activation, str) and activation not in _ACTIVATIONS:
        raise ValueError(f"activation should be relu/gelu, not {activation}")
    if not isinstance(activation, str) and not callable(activation):
        raise TypeError(f"activation must be 'relu', 'gelu', a function or a layer, got {activation!r}")


def _attention_block(attention, dropout, memory=None, **masks):
    """x -> dropout(attention(x, source, source)), source being x itself or the encoder's `memory`."""
    def block(x):
        source = x if memory is None else memory
        attended, _ = attention(x, source, source, need_weights=False, **masks)
        return dropout(attended)
    return block


def _residual(x, norm, block, norm_first: bool):
    """x + block(norm(x)) (pre-norm) or norm(x + block(x)) (post-norm, PyTorch's default)."""
    return x + block(norm(x)) if norm_first else norm(x + block(x))


@dataclasses.dataclass(frozen=True, repr=False)
class _Block(Layer):
    """The arguments PyTorch's encoder and decoder layers share, and what they compute alike:
    the activation and the feed-forward block."""

    d_model: int
    nhead: int
    dim_feedforward: int = 2048
    dropout: float | Dropout = 0.1
    activation: str | Callable | Layer = "relu"
    layer_norm_eps: float = 1e-5
    batch_first: bool = False
    norm_first: bool = False
    bias: bool = True
    dtype: Any = dataclasses.field(default=jnp.float32, repr=False)
    self_attn: MultiheadAttention = dataclasses.field(init=False)
    linear1: Linear = dataclasses.field(init=False)
    linear2: Linear = dataclasses.field(init=False)
    norm1: LayerNorm = dataclasses.field(init=False)
    norm2: LayerNorm = dataclasses.field(init=False)
    dropout1: Dropout = dataclasses.field(init=False)
    dropout2: Dropout = dataclasses.field(init=False)

    def _build(self, attentions: tuple[str, ...], count: int) -> None:
        """Sets the sublayers: the attentions, linear1/linear2, and `count` norms and dropouts."""
        _check_activation(self.activation)
        width, options, dropout = self.d_model, dict(bias=self.bias, dtype=self.dtype), _as_dropout(self.dropout)
        attention = MultiheadAttention(width, self.nhead, dropout=dropout.p, batch_first=self.batch_first, **options)
        norm = LayerNorm(width, eps=self.layer_norm_eps, **options)
        _set(self, dropout=dropout, **dict.fromkeys(attentions, attention),
             linear1=Linear(width, self.dim_feedforward, **options), linear2=Linear(self.dim_feedforward, width, **options),
             **{f"norm{index}": norm for index in range(1, count + 1)},
             **{f"dropout{index}": dropout for index in range(1, count + 1)})

    def _activate(self, layers, x):
        if isinstance(self.activation, Layer):
            return layers.activation(x)
        return _ACTIVATIONS.get(self.activation, self.activation)(x)

    def _feed_forward(self, layers, x, last_dropout):
        return last_dropout(layers.linear2(layers.dropout(self._activate(layers, layers.linear1(x)))))


@dataclasses.dataclass(frozen=True, repr=False)
class TransformerEncoderLayer(_Block):
    """`torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation='relu', layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)`:
    self-attention and a feed-forward block, each with a residual connection and LayerNorm.

    `apply(params, src, *, src_mask=None, src_key_padding_mask=None, is_causal=False,
    key=None, train=False)`; the masks are `MultiheadAttention`'s.

        >>> import jax.numpy as jnp
        >>> layer = TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        >>> layer.apply(layer.init(0), jnp.ones((3, 5, 8))).shape
        (3, 5, 8)
    """

    sublayer_order = ("self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2")

    def __post_init__(self):
        self._build(("self_attn",), 2)

    def apply(self, params: Params, src, /, *, src_mask=None, src_key_padding_mask=None, is_causal: bool = False,
              key=None, train: bool = False):
        layers = self.bind(params, key=key, train=train)
        self_attention = _attention_block(layers.self_attn, layers.dropout1, attn_mask=src_mask,
                                          key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        x = _residual(src, layers.norm1, self_attention, self.norm_first)
        return _residual(x, layers.norm2, lambda x: self._feed_forward(layers, x, layers.dropout2), self.norm_first)


@dataclasses.dataclass(frozen=True, repr=False)
class TransformerDecoderLayer(_Block):
    """`torch.nn.TransformerDecoderLayer(d_model, nhead, ...)` (the encoder layer's arguments):
    self-attention, attention over the encoder's output (`memory`) and a feed-forward block.

    `apply(params, tgt, memory, *, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False, key=None, train=False)`.
    """

    multihead_attn: MultiheadAttention = dataclasses.field(init=False)
    norm3: LayerNorm = dataclasses.field(init=False)
    dropout3: Dropout = dataclasses.field(init=False)

    sublayer_order = ("self_attn", "multihead_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "norm3",
                      "dropout1", "dropout2", "dropout3")

    def __post_init__(self):
        self._build(("self_attn", "multihead_attn"), 3)

    def apply(self, params: Params, tgt, memory, /, *, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
              memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False,
              key=None, train: bool = False):
        layers = self.bind(params, key=key, train=train)
        self_attention = _attention_block(layers.self_attn, layers.dropout1, attn_mask=tgt_mask,
                                          key_padding_mask=tgt_key_padding_mask, is_causal=tgt_is_causal)
        memory_attention = _attention_block(layers.multihead_attn, layers.dropout2, memory, attn_mask=memory_mask,
                                            key_padding_mask=memory_key_padding_mask, is_causal=memory_is_causal)
        x = _residual(tgt, layers.norm1, self_attention, self.norm_first)
        x = _residual(x, layers.norm2, memory_attention, self.norm_first)
        return _residual(x, layers.norm3, lambda x: self._feed_forward(layers, x, layers.dropout3), self.norm_first)


def _clones(layer: Layer, num_layers: int, who: str) -> tuple[Layer, ...]:
    if not isinstance(layer, Layer):
        raise TypeError(f"{who}: the layer to repeat must be a nablax layer, got {type(layer).__name__}")
    if not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"{who}: num_layers must be a positive int, got {num_layers!r}")
    # Layers are immutable descriptions: the copies PyTorch makes are the same object here,
    # and each gets its own parameters from its own name (layers.0, layers.1, ...).
    return (layer,) * num_layers


@dataclasses.dataclass(frozen=True, repr=False)
class TransformerEncoder(Layer):
    """`torch.nn.TransformerEncoder(encoder_layer, num_layers, norm=None)`: `num_layers` copies
    of `encoder_layer` (`layers.0`, `layers.1`, ..., each with its own parameters), then `norm`.

    `apply(params, src, *, mask=None, src_key_padding_mask=None, is_causal=None, key=None,
    train=False)`. A `Remat(encoder_layer)` recomputes each layer's activations in the
    backward pass instead of storing them.
    """

    encoder_layer: dataclasses.InitVar[Layer]
    num_layers: int
    layers: tuple[Layer, ...] = dataclasses.field(init=False)
    norm: Layer | None = None
    enable_nested_tensor: bool = True  # accepted for PyTorch's signature; there are no nested tensors
    mask_check: bool = True

    def __post_init__(self, encoder_layer):
        _set(self, layers=_clones(encoder_layer, self.num_layers, type(self).__name__))

    def apply(self, params: Params, src, /, *, mask=None, src_key_padding_mask=None, is_causal: bool | None = None,
              key=None, train: bool = False):
        layers = self.bind(params, key=key, train=train)
        x = src
        for layer in layers.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return x if self.norm is None else layers.norm(x)


@dataclasses.dataclass(frozen=True, repr=False)
class TransformerDecoder(Layer):
    """`torch.nn.TransformerDecoder(decoder_layer, num_layers, norm=None)`.

    `apply(params, tgt, memory, *, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False, key=None, train=False)`.
    """

    decoder_layer: dataclasses.InitVar[Layer]
    num_layers: int
    layers: tuple[Layer, ...] = dataclasses.field(init=False)
    norm: Layer | None = None

    def __post_init__(self, decoder_layer):
        _set(self, layers=_clones(decoder_layer, self.num_layers, type(self).__name__))

    def apply(self, params: Params, tgt, memory, /, *, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
              memory_key_padding_mask=None, tgt_is_causal: bool | None = None, memory_is_causal: bool = False,
              key=None, train: bool = False):
        layers = self.bind(params, key=key, train=train)
        x = tgt
        for layer in layers.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=bool(tgt_is_causal),
                      memory_is_causal=memory_is_causal)
        return x if self.norm is None else layers.norm(x)


@dataclasses.dataclass(frozen=True, repr=False)
class Transformer(Layer):
    """`torch.nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
    dim_feedforward=2048, dropout=0.1, activation='relu', custom_encoder=None,
    custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)`:
    an encoder and a decoder, each closed by a LayerNorm; every parameter with two or more
    dimensions starts Xavier-uniform, as PyTorch's does.

    `apply(params, src, tgt, *, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False, key=None, train=False)`.

        >>> import jax.numpy as jnp
        >>> model = Transformer(8, 2, 1, 1, dim_feedforward=16)
        >>> src, tgt = jnp.ones((6, 2, 8)), jnp.ones((4, 2, 8))  # (length, batch, d_model)
        >>> mask = Transformer.generate_square_subsequent_mask(4)
        >>> model.apply(model.init(0), src, tgt, tgt_mask=mask).shape
        (4, 2, 8)
    """

    encoder: Layer = dataclasses.field(init=False)
    decoder: Layer = dataclasses.field(init=False)
    d_model: int = 512
    nhead: int = 8
    num_encoder_layers: int = 6
    num_decoder_layers: int = 6
    dim_feedforward: int = 2048
    dropout: float = 0.1
    activation: str | Callable | Layer = "relu"
    custom_encoder: dataclasses.InitVar[Layer | None] = None
    custom_decoder: dataclasses.InitVar[Layer | None] = None
    layer_norm_eps: float = 1e-5
    batch_first: bool = False
    norm_first: bool = False
    bias: bool = True
    dtype: Any = dataclasses.field(default=jnp.float32, repr=False)

    def __post_init__(self, custom_encoder, custom_decoder):
        options = dict(dim_feedforward=self.dim_feedforward, dropout=self.dropout, activation=self.activation,
                       layer_norm_eps=self.layer_norm_eps, batch_first=self.batch_first, norm_first=self.norm_first,
                       bias=self.bias, dtype=self.dtype)
        norm = LayerNorm(self.d_model, eps=self.layer_norm_eps, bias=self.bias, dtype=self.dtype)
        if custom_encoder is None:
            custom_encoder = TransformerEncoder(TransformerEncoderLayer(self.d_model, self.nhead, **options),
                                                self.num_encoder_layers, norm)
        if custom_decoder is None:
            custom_decoder = TransformerDecoder(TransformerDecoderLayer(self.d_model, self.nhead, **options),
                                                self.num_decoder_layers, norm)
        _set(self, encoder=custom_encoder, decoder=custom_decoder)

    def init(self, key) -> Params:
        key = as_key(key)

        def xavier(tree, path):  # a walk of our own keeps PyTorch's order, which tree_map would sort
            if isinstance(tree, dict):
                return {name: xavier(value, path + (name,)) for name, value in tree.items()}
            return tree if tree.ndim < 2 else xavier_uniform(sublayer_key(key, path), tree.shape, tree.dtype)

        return xavier(super().init(key), ())

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=jnp.float32) -> jax.Array:
        """The causal mask of `sz` positions: 0 on and below the diagonal, -inf above.

            >>> Transformer.generate_square_subsequent_mask(3).tolist()
            [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
        """
        del device  # accepted for PyTorch's signature; JAX places the array
        return jnp.triu(jnp.full((sz, sz), -jnp.inf, dtype), k=1)

    def apply(self, params: Params, src, tgt, /, *, src_mask=None, tgt_mask=None, memory_mask=None,
              src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
              src_is_causal: bool | None = None, tgt_is_causal: bool | None = None, memory_is_causal: bool = False,
              key=None, train: bool = False):
        src, tgt = jnp.asarray(src), jnp.asarray(tgt)
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise ValueError(f"{self.describe()}: the batch number of src and tgt must be equal, got src of shape "
                             f"{src.shape} and tgt of shape {tgt.shape} (batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"{self.describe()}: the feature number of src and tgt must be equal to d_model="
                             f"{self.d_model}, got src of shape {src.shape} and tgt of shape {tgt.shape}")
        layers = self.bind(params, key=key, train=train)
        memory = layers.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return layers.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                              tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                              tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
