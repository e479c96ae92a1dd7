"""Attention with PyTorch's semantics: `scaled_dot_product_attention` computes what
`torch.nn.functional`'s computes, `MultiheadAttention` holds `torch.nn.MultiheadAttention`'s
parameters under the same names.

One rule for the PRNG key: the attention inputs `query, key, value` are positional-only, in
the function and in `MultiheadAttention.apply`, so the keyword `key=` always means the PRNG
key, as it does for every nablax layer.

Masks follow each PyTorch API: `scaled_dot_product_attention`'s boolean `attn_mask` is True
where a query may attend; `MultiheadAttention`'s boolean `attn_mask` and `key_padding_mask`
are True where it may not. Float masks are added to the logits in both. A query with no key
left to attend to gets a zero output (PyTorch's scaled_dot_product_attention does the same;
its `MultiheadAttention` gives NaN there when it returns weights).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp

from .._keys import as_key
from ._init import xavier_normal, xavier_uniform
from ._spatial import check_positive_int
from .dropout import check_probability, dropout
from .layer import Layer, Params, check_params
from .linear import Linear, linear


def _large_negative(dtype) -> jax.Array:
    """What `jax.nn.dot_product_attention` puts at masked logits: finite, so that a row with
    nothing to attend to has a finite softmax (zeroed afterwards) and finite gradients."""
    return jnp.asarray(0.7 * jnp.finfo(dtype).min, dtype)


def _explicit_attention(q, k, v, allowed, bias, scale, dropout_p, key):
    """Attention written out, for what `jax.nn.dot_product_attention` can't express: weights
    returned, dropout on them, or a value width different from the query's."""
    groups = q.shape[2] // k.shape[2]
    if groups > 1:  # grouped-query attention: query head n reads key/value head n // groups
        k, v = jnp.repeat(k, groups, axis=2), jnp.repeat(v, groups, axis=2)
    logits_dtype = jnp.promote_types(q.dtype, jnp.float32)  # softmax in at least float32
    logits = jnp.einsum("btnh,bsnh->bnts", q, k, preferred_element_type=logits_dtype) * scale
    if bias is not None:
        logits = logits + bias
    if allowed is not None:
        logits = jnp.where(allowed, logits, _large_negative(logits.dtype))
        weights = jnp.where(jnp.any(allowed, axis=-1, keepdims=True), jax.nn.softmax(logits, axis=-1), 0.0)
    else:
        weights = jax.nn.softmax(logits, axis=-1)
    weights = weights.astype(q.dtype)
    if dropout_p > 0.0:  # on the weights, as PyTorch drops them (and returns them dropped)
        weights = dropout(weights, dropout_p, key)
    return jnp.einsum("bnts,bsnh->btnh", weights, v), weights


def _float16_on_cpu(q) -> bool:
    """JAX's attention asks for float16 logits by the F16_F16_F32 dot algorithm, which XLA's
    CPU backend cannot compile; the written-out formulation (its logits in float32 too) can."""
    return q.dtype == jnp.float16 and jax.default_backend() == "cpu"


def _attend(q, k, v, *, mask=None, bias=None, is_causal=False, scale, dropout_p=0.0, key=None, need_weights=False):
    """Attention in JAX's layout: q [B, T, N, H], k [B, S, K, H], v [B, S, K, Hv] with N a
    multiple of K; `mask` (True: may attend) and `bias` (added) broadcast to [B, N, T, S].
    Returns (output [B, T, N, Hv], weights [B, N, T, S] or None)."""
    allowed = mask
    if bias is not None:  # -inf entries block; the finite stand-in keeps gradients finite
        allowed = bias > -jnp.inf if allowed is None else allowed & (bias > -jnp.inf)
        bias = jnp.maximum(bias, _large_negative(bias.dtype))
    explicit = dropout_p > 0.0 or need_weights or v.shape[-1] != q.shape[-1] or _float16_on_cpu(q)
    if is_causal and (explicit or allowed is not None):
        causal = jnp.tril(jnp.ones((q.shape[1], k.shape[1]), bool))  # PyTorch's top-left alignment
        allowed = causal if allowed is None else allowed & causal
    if explicit:
        return _explicit_attention(q, k, v, allowed, bias, scale, dropout_p, key)
    # JAX's one attention op: computed by XLA by default; where JAX has a fused kernel
    # (cuDNN's, its implementation='cudnn'), this is the one place it would come in.
    out = jax.nn.dot_product_attention(q, k, v, bias, mask, scale=scale, is_causal=is_causal)
    if allowed is not None:  # zero the rows with nothing to attend to, as PyTorch does
        rows = jnp.swapaxes(jnp.any(allowed, axis=-1), 1, 2)[..., None]  # [B, T, N, 1]
        out = jnp.where(rows, out, jnp.zeros((), out.dtype))
    return out, None


def _check_attention_inputs(q, k, v, enable_gqa: bool, who: str) -> None:
    if not (q.ndim == k.ndim == v.ndim) or q.ndim < 2:
        raise ValueError(f"{who}: query, key and value must have the same number (>= 2) of dimensions, "
                         f"got shapes {q.shape}, {k.shape} and {v.shape}")
    if not (q.dtype == k.dtype == v.dtype):
        raise ValueError(f"{who}: query, key and value must have the same dtype, got {q.dtype}, {k.dtype} and {v.dtype}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{who}: query and key must have the same last dimension (E), got shapes {q.shape} and {k.shape}")
    if k.shape[-2] != v.shape[-2] or not (q.shape[:-3] == k.shape[:-3] == v.shape[:-3]):
        raise ValueError(f"{who}: query, key and value must share batch dimensions and key and value their "
                         f"length (S), got shapes {q.shape}, {k.shape} and {v.shape}")
    heads = [t.shape[-3] if t.ndim > 2 else 1 for t in (q, k, v)]
    if heads[1] != heads[2] or heads[0] % heads[1] or (heads[0] != heads[1] and not enable_gqa):
        hint = "" if enable_gqa else "; pass enable_gqa=True for grouped-query attention"
        raise ValueError(f"{who}: query has {heads[0]} heads and key/value {heads[1]}/{heads[2]}: key and value "
                         f"need the same number, and query as many or (with enable_gqa) a multiple{hint}")


def _mask_for(attn_mask, query_shape, source: int, dtype, who: str):
    """(mask, bias) in [B, H|1, L, S] for the attention core, from a boolean or float `attn_mask`
    broadcastable to the query's (..., H, L, S)."""
    mask = jnp.asarray(attn_mask)
    lead, target = query_shape[:-2], query_shape[-2]
    full = lead + (target, source)
    try:  # a mask over (L, S) alone stays small; anything with batch or head dims is broadcast out
        mask = jnp.broadcast_to(mask, full if mask.ndim > 2 else (target, source))
    except ValueError:
        raise ValueError(f"{who}: attn_mask of shape {mask.shape} can't be broadcast to (..., L, S) = {full}") from None
    mask = mask.reshape((-1, lead[-1], target, source)) if mask.ndim > 2 else mask[None, None]
    return (mask, None) if mask.dtype == jnp.bool_ else (None, mask.astype(dtype))


def _heads_second_to_third(t: jax.Array) -> jax.Array:
    """PyTorch's (..., H, L, E) as JAX's (B, L, H, E), batch dims flattened; 2-D (L, E) gets H = B = 1."""
    t = t.reshape((-1,) + t.shape[-3:]) if t.ndim > 2 else t[None, None]
    return jnp.swapaxes(t, 1, 2)


def scaled_dot_product_attention(
    query, key_, value, /, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False,
    scale: float | None = None, enable_gqa: bool = False, *, key=None,
) -> jax.Array:
    """`torch.nn.functional.scaled_dot_product_attention`: softmax(q k^T * scale + mask) v.

    `query` is (..., H, L, E), the key (second argument) (..., H_kv, S, E) and `value`
    (..., H_kv, S, E_v); the result is (..., H, L, E_v). `attn_mask` broadcasts to
    (..., H, L, S): a boolean one is True where a query may attend, a float one is added.
    `is_causal` lets query i see keys 0..i (PyTorch's top-left alignment); `scale` defaults
    to 1/sqrt(E); `enable_gqa` lets H be a multiple of H_kv. `dropout_p > 0` drops attention
    weights, drawing from the PRNG `key=` (query, key and value are positional-only).

    Without dropout this is one `jax.nn.dot_product_attention` call, JAX's own attention op
    (XLA's formulation by default; cuDNN's fused kernel is its `implementation='cudnn'`);
    dropout, E_v != E and float16 on the CPU take an explicit formulation.

        >>> import jax, jax.numpy as jnp
        >>> q = k = v = jnp.ones((2, 4, 3, 8))  # batch, heads, length, features
        >>> scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 3, 8)
    """
    who = "scaled_dot_product_attention"
    q, k, v = jnp.asarray(query), jnp.asarray(key_), jnp.asarray(value)
    _check_attention_inputs(q, k, v, enable_gqa, who)
    check_probability(dropout_p)
    if attn_mask is not None and is_causal:
        raise ValueError(f"{who}: pass attn_mask or is_causal=True, not both (PyTorch's rule)")
    if dropout_p > 0.0 and key is None:
        raise ValueError(f"{who}: dropout_p={dropout_p} needs a PRNG key: pass key=jax.random.key(...)")
    mask, bias = (None, None) if attn_mask is None else _mask_for(attn_mask, q.shape, k.shape[-2], q.dtype, who)
    out, _ = _attend(
        _heads_second_to_third(q), _heads_second_to_third(k), _heads_second_to_third(v), mask=mask, bias=bias,
        is_causal=is_causal, scale=1.0 / math.sqrt(q.shape[-1]) if scale is None else scale,
        dropout_p=dropout_p, key=None if key is None else as_key(key),
    )
    return jnp.swapaxes(out, 1, 2).reshape(q.shape[:-1] + (v.shape[-1],))


@dataclasses.dataclass(frozen=True, repr=False)
class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's class for `MultiheadAttention.out_proj`: a plain `Linear` under that name."""


def _blocking_masks(masks: list, dtype):
    """PyTorch's MultiheadAttention masks (boolean True: blocked; float: added) as the core's
    (mask: True where allowed, bias)."""
    allowed, bias = None, None
    for mask in masks:
        if mask.dtype == jnp.bool_:
            allowed = ~mask if allowed is None else allowed & ~mask
        else:
            bias = mask.astype(dtype) if bias is None else bias + mask.astype(dtype)
    return allowed, bias


def _with_extra_key(mask, bias):
    """The masks for one more key position that every query may attend (bias_k or a zero key)."""
    def pad(t, value):
        return None if t is None else jnp.pad(t, [(0, 0)] * (t.ndim - 1) + [(0, 1)], constant_values=value)
    return pad(mask, True), pad(bias, 0)


@dataclasses.dataclass(frozen=True, repr=False)
class MultiheadAttention(Layer):
    """`torch.nn.MultiheadAttention(embed_dim, num_heads, dropout, bias, add_bias_kv,
    add_zero_attn, kdim, vdim, batch_first)` with PyTorch's parameters: `in_proj_weight`
    [3E, E] (or `q_proj_weight`, `k_proj_weight`, `v_proj_weight` when kdim or vdim differ
    from E), `in_proj_bias`, `bias_k`/`bias_v` and the `out_proj` Linear, initialised as
    PyTorch does (Xavier-uniform projections, zero biases).

    `apply(params, query, key, value, *, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False, key=None, train=False)`
    returns `(output, weights)` as PyTorch's forward does (weights None without
    `need_weights`). query, key and value are positional-only: `key=` is the PRNG key for
    attention dropout in training.

        >>> import jax.numpy as jnp
        >>> attention = MultiheadAttention(8, 2, batch_first=True)
        >>> params = attention.init(0)
        >>> x = jnp.ones((3, 5, 8))  # batch, length, embed_dim
        >>> out, weights = attention.apply(params, x, x, x)
        >>> out.shape, weights.shape
        ((3, 5, 8), (3, 5, 5))
    """

    embed_dim: int
    num_heads: int
    dropout: float = 0.0
    bias: bool = True
    add_bias_kv: bool = False
    add_zero_attn: bool = False
    kdim: int | None = None
    vdim: int | None = None
    batch_first: bool = False
    dtype: Any = dataclasses.field(default=jnp.float32, repr=False)
    out_proj: Linear = dataclasses.field(init=False)

    def __post_init__(self):
        who = type(self).__name__
        check_positive_int(self.embed_dim, "embed_dim", who)
        check_positive_int(self.num_heads, "num_heads", who)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"{who}: embed_dim={self.embed_dim} must be divisible by num_heads={self.num_heads} "
                             f"(each head gets embed_dim // num_heads features)")
        check_probability(self.dropout)
        for name in ("kdim", "vdim"):  # None means embed_dim, as PyTorch stores it
            value = getattr(self, name)
            object.__setattr__(self, name, self.embed_dim if value is None else value)
            check_positive_int(getattr(self, name), name, who)
        linear_layer = NonDynamicallyQuantizableLinear(self.embed_dim, self.embed_dim, bias=self.bias, dtype=self.dtype)
        object.__setattr__(self, "out_proj", linear_layer)

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    @property
    def _packed(self) -> bool:
        """One [3E, E] in_proj_weight (PyTorch's `_qkv_same_embed_dim`), else three."""
        return self.kdim == self.embed_dim and self.vdim == self.embed_dim

    def _own_shapes(self) -> dict[str, tuple[int, ...]]:
        width = self.embed_dim
        if self._packed:
            shapes = {"in_proj_weight": (3 * width, width)}
        else:
            shapes = {"q_proj_weight": (width, width), "k_proj_weight": (width, self.kdim), "v_proj_weight": (width, self.vdim)}
        if self.bias:
            shapes["in_proj_bias"] = (3 * width,)
        if self.add_bias_kv:
            shapes["bias_k"] = shapes["bias_v"] = (1, 1, width)
        return shapes

    def init(self, key) -> Params:
        key = as_key(key)
        params: Params = {}
        for index, (name, shape) in enumerate(self._own_shapes().items()):
            draw = xavier_normal if name in ("bias_k", "bias_v") else xavier_uniform
            params[name] = jnp.zeros(shape, self.dtype) if name == "in_proj_bias" else draw(jax.random.fold_in(key, index), shape, self.dtype)
        params.update(super().init(key))
        if self.bias:  # PyTorch zeroes out_proj's bias after Linear's own initialisation
            params["out_proj"]["bias"] = jnp.zeros(self.embed_dim, self.dtype)
        return params

    def _inputs(self, query, key_, value):
        """query, key, value as checked (N, L, E) arrays, and whether they were batched."""
        q, k, v = jnp.asarray(query), jnp.asarray(key_), jnp.asarray(value)
        who = self.describe()
        if q.ndim not in (2, 3) or k.ndim != q.ndim or v.ndim != q.ndim:
            raise ValueError(f"{who}: query, key and value must all be 3-D (batched) or 2-D (unbatched), "
                             f"got shapes {q.shape}, {k.shape} and {v.shape}")
        for name, t, width, field in (("query", q, self.embed_dim, "embed_dim"), ("key", k, self.kdim, "kdim"),
                                      ("value", v, self.vdim, "vdim")):
            if t.shape[-1] != width:
                raise ValueError(f"{who}: expected {name} with {field}={width} features in its last dimension, "
                                 f"got {name} of shape {t.shape}")
        shapes = (q.shape, k.shape, v.shape)
        if q.ndim == 2:
            q, k, v = q[None], k[None], v[None]
        elif not self.batch_first:
            q, k, v = (jnp.swapaxes(t, 0, 1) for t in (q, k, v))
        if k.shape[:2] != v.shape[:2] or q.shape[0] != k.shape[0]:
            raise ValueError(f"{who}: key and value must have the same batch size and length, and query the same "
                             f"batch size, got shapes {shapes[0]}, {shapes[1]} and {shapes[2]}")
        return q, k, v, len(shapes[0]) == 3

    def _masks(self, attn_mask, key_padding_mask, batch: int, target: int, source: int, batched: bool, dtype):
        """The attention core's (mask, bias) in [N, H|1, L, S] from PyTorch's two masks."""
        who, heads, masks = self.describe(), self.num_heads, []
        if attn_mask is not None:
            attn_mask = jnp.asarray(attn_mask)
            if attn_mask.shape == (target, source):
                masks.append(attn_mask[None, None])
            elif attn_mask.shape == (batch * heads, target, source):
                masks.append(attn_mask.reshape(batch, heads, target, source))
            else:
                raise ValueError(f"{who}: attn_mask must have shape (L, S) = {(target, source)} or "
                                 f"(N * num_heads, L, S) = {(batch * heads, target, source)}, got {attn_mask.shape}")
        if key_padding_mask is not None:
            key_padding_mask = jnp.asarray(key_padding_mask)
            expected = (batch, source) if batched else (source,)
            if key_padding_mask.shape != expected:
                raise ValueError(f"{who}: key_padding_mask must have shape {'(N, S)' if batched else '(S,)'} = "
                                 f"{expected}, got {key_padding_mask.shape}")
            masks.append(key_padding_mask.reshape(batch, 1, 1, source))
        return _blocking_masks(masks, dtype)

    def _project(self, params: Params, q, k, v, self_attention: bool):
        bias = params.get("in_proj_bias")
        biases = (None,) * 3 if bias is None else jnp.split(bias, 3)
        if not self._packed:
            return tuple(linear(t, params[f"{name}_proj_weight"], b) for t, name, b in zip((q, k, v), "qkv", biases))
        if self_attention:  # one [3E, E] product instead of three
            return tuple(jnp.split(linear(q, params["in_proj_weight"], bias), 3, axis=-1))
        return tuple(linear(t, w, b) for t, w, b in zip((q, k, v), jnp.split(params["in_proj_weight"], 3), biases))

    def _extra_keys(self, params: Params, k, v, mask, bias):
        """PyTorch's `add_bias_kv` (a learnt key and value) and `add_zero_attn` (a zero key and
        value, after the heads are split), each one more key every query may attend."""
        batch, _, heads, width = k.shape
        extras = []
        if self.add_bias_kv:
            extras.append((params["bias_k"].reshape(1, 1, heads, width), params["bias_v"].reshape(1, 1, heads, width)))
        if self.add_zero_attn:
            extras.append((jnp.zeros((1, 1, heads, width), k.dtype),) * 2)
        for extra_k, extra_v in extras:
            k = jnp.concatenate([k, jnp.broadcast_to(extra_k.astype(k.dtype), (batch, 1, heads, width))], axis=1)
            v = jnp.concatenate([v, jnp.broadcast_to(extra_v.astype(v.dtype), (batch, 1, heads, width))], axis=1)
            mask, bias = _with_extra_key(mask, bias)
        return k, v, mask, bias

    def _outputs(self, params: Params, out, weights, batched: bool, average_attn_weights: bool):
        """The output projection, then PyTorch's layouts: (L, N, E), (N, L, E) or (L, E), and
        weights (N, L, S) averaged over heads or (N, heads, L, S), without N when unbatched."""
        batch, target = out.shape[:2]
        out = self.bind(params).out_proj(out.reshape(batch, target, self.embed_dim))
        out = out[0] if not batched else out if self.batch_first else jnp.swapaxes(out, 0, 1)
        if weights is not None:
            weights = weights.mean(axis=1) if average_attn_weights else weights
            weights = weights if batched else weights[0]
        return out, weights

    def apply(self, params: Params, query, key_, value, /, *, key_padding_mask=None, need_weights: bool = True,
              attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False, key=None, train: bool = False):
        check_params(self, params, self._own_shapes())
        if train and self.dropout > 0.0 and key is None:
            raise ValueError(f"{self.describe()} in training needs a PRNG key for attention dropout: pass key=... "
                             f"(or train=False for evaluation)")
        if is_causal and attn_mask is None:
            raise ValueError(f"{self.describe()}: is_causal=True is a hint that attn_mask is causal and needs attn_mask "
                             f"too: pass attn_mask=Transformer.generate_square_subsequent_mask(L) as well")
        q, k, v, batched = self._inputs(query, key_, value)
        (batch, target, _), source = q.shape, k.shape[1]
        # PyTorch's rule: the hint replaces the mask only when nothing else needs the mask.
        is_causal = is_causal and key_padding_mask is None and not need_weights
        mask, bias = self._masks(None if is_causal else attn_mask, key_padding_mask, batch, target, source, batched, q.dtype)
        q, k, v = self._project(params, q, k, v, query is key_ and key_ is value)
        q, k, v = (t.reshape(t.shape[:2] + (self.num_heads, self.head_dim)) for t in (q, k, v))
        k, v, mask, bias = self._extra_keys(params, k, v, mask, bias)
        out, weights = _attend(
            q, k, v, mask=mask, bias=bias, is_causal=is_causal, scale=1.0 / math.sqrt(self.head_dim),
            dropout_p=self.dropout if train else 0.0, key=None if key is None else as_key(key), need_weights=need_weights,
        )
        return self._outputs(params, out, weights, batched, average_attn_weights)
