"""Equinox as its documentation writes a training step: models are pytrees of
`eqx.Module`s applied to one example and `jax.vmap`-ed over the batch, gradients from
`eqx.filter_value_and_grad`, and the step compiled by `eqx.filter_jit`. The CNN's
BatchNorm keeps its statistics in an `eqx.nn.State` threaded through the step.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .loops import cycling_runner


class MLP(eqx.Module):
    layers: list

    def __init__(self, sizes, key):
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = [eqx.nn.Linear(a, b, key=k) for a, b, k in zip(sizes[:-1], sizes[1:], keys)]

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        return self.layers[-1](x)


class Scalar(eqx.Module):
    """The notes' model `w * x`."""

    w: jax.Array

    def __call__(self, x):
        return self.w * x


class DigitsCNN(eqx.Module):
    """The digits CNN on one (C, H, W) image; BatchNorm's `mode="batch"` normalises by the
    batch's statistics in training, as PyTorch does, and its momentum 0.9 is PyTorch's 0.1."""

    conv1: eqx.nn.Conv2d
    norm1: eqx.nn.BatchNorm
    conv2: eqx.nn.Conv2d
    norm2: eqx.nn.BatchNorm
    pool: eqx.nn.MaxPool2d
    dropout: eqx.nn.Dropout
    linear: eqx.nn.Linear

    def __init__(self, key):
        keys = jax.random.split(key, 3)
        norm = lambda size: eqx.nn.BatchNorm(size, axis_name="batch", momentum=0.9, mode="batch", dtype=jnp.float32)
        self.conv1, self.norm1 = eqx.nn.Conv2d(1, 16, 3, padding=1, key=keys[0]), norm(16)
        self.conv2, self.norm2 = eqx.nn.Conv2d(16, 32, 3, padding=1, key=keys[1]), norm(32)
        self.pool = eqx.nn.MaxPool2d(2, 2)
        self.dropout = eqx.nn.Dropout(0.25)
        self.linear = eqx.nn.Linear(32 * 2 * 2, 10, key=keys[2])

    def __call__(self, x, state, key):
        x, state = self.norm1(self.conv1(x), state)
        x = self.pool(jax.nn.relu(x))
        x, state = self.norm2(self.conv2(x), state)
        x = self.pool(jax.nn.relu(x))
        return self.linear(self.dropout(x.reshape(-1), key=key)), state


class GPTBlock(eqx.Module):
    """A pre-norm block of examples/gpt.py on one sequence [T, E]: Equinox's
    MultiheadAttention (biases on, as PyTorch's) under a causal mask, a GELU MLP; the
    per-position layers are vmapped over the sequence."""

    ln_1: eqx.nn.LayerNorm
    attn: eqx.nn.MultiheadAttention
    ln_2: eqx.nn.LayerNorm
    mlp_in: eqx.nn.Linear
    mlp_out: eqx.nn.Linear

    def __init__(self, width, heads, key):
        keys = jax.random.split(key, 3)
        biases = dict(use_query_bias=True, use_key_bias=True, use_value_bias=True, use_output_bias=True)
        self.ln_1, self.ln_2 = eqx.nn.LayerNorm(width, eps=1e-5), eqx.nn.LayerNorm(width, eps=1e-5)
        self.attn = eqx.nn.MultiheadAttention(heads, width, **biases, key=keys[0])
        self.mlp_in = eqx.nn.Linear(width, 4 * width, key=keys[1])
        self.mlp_out = eqx.nn.Linear(4 * width, width, key=keys[2])

    def __call__(self, x, mask):
        h = jax.vmap(self.ln_1)(x)
        x = x + self.attn(h, h, h, mask=mask)
        h = jax.nn.gelu(jax.vmap(self.mlp_in)(jax.vmap(self.ln_2)(x)), approximate=False)
        return x + jax.vmap(self.mlp_out)(h)


class GPT(eqx.Module):
    """The GPT of examples/gpt.py on one sequence of tokens; logits from the token embedding."""

    wte: eqx.nn.Embedding
    wpe: eqx.nn.Embedding
    blocks: list
    ln_f: eqx.nn.LayerNorm

    def __init__(self, config, key):
        keys = jax.random.split(key, config.depth + 2)
        self.wte = eqx.nn.Embedding(config.vocab, config.width, key=keys[0])
        self.wpe = eqx.nn.Embedding(config.context, config.width, key=keys[1])
        self.blocks = [GPTBlock(config.width, config.heads, k) for k in keys[2:]]
        self.ln_f = eqx.nn.LayerNorm(config.width, eps=1e-5)

    def __call__(self, tokens):
        length = tokens.shape[0]
        x = jax.vmap(self.wte)(tokens) + jax.vmap(self.wpe)(jnp.arange(length))
        mask = jnp.tril(jnp.ones((length, length), bool))
        for block in self.blocks:
            x = block(x, mask)
        return jax.vmap(self.ln_f)(x) @ self.wte.weight.T


def _with(model, where, value):
    return eqx.tree_at(where, model, jnp.asarray(value))


def model_for(workload):
    """`(model, state)` with the workload's initial parameters (state None without BatchNorm)."""
    initial, key = workload.initial, jax.random.key(0)
    if workload.kind == "linreg":
        return Scalar(jnp.asarray(initial["w"])), None
    if workload.kind == "mlp":
        model = MLP(workload.sizes, key)
        for index, name in enumerate(workload.linear_names()):
            model = _with(model, lambda m, i=index: m.layers[i].weight, initial[f"{name}.weight"])
            model = _with(model, lambda m, i=index: m.layers[i].bias, initial[f"{name}.bias"])
        return model, None
    if workload.kind == "gpt":
        return _gpt_with(initial, workload.config, key), None
    model, state = eqx.nn.make_with_state(DigitsCNN)(key)
    for conv, norm, conv_name, norm_name in (("conv1", "norm1", "0", "1"), ("conv2", "norm2", "4", "5")):
        model = _with(model, lambda m, c=conv: getattr(m, c).weight, initial[f"{conv_name}.weight"])
        model = _with(model, lambda m, c=conv: getattr(m, c).bias, initial[f"{conv_name}.bias"].reshape(-1, 1, 1))
        model = _with(model, lambda m, n=norm: getattr(m, n).weight, initial[f"{norm_name}.weight"])
        model = _with(model, lambda m, n=norm: getattr(m, n).bias, initial[f"{norm_name}.bias"])
    model = _with(model, lambda m: m.linear.weight, initial["10.weight"])
    model = _with(model, lambda m: m.linear.bias, initial["10.bias"])
    return model, state


def _gpt_with(initial, config, key):
    """The GPT with the workload's parameters: Equinox's Linear weights are [out, in], as
    PyTorch's; the packed input projection splits into query, key and value."""
    values = {name: initial[name] for name in ("wte.weight", "wpe.weight", "ln_f.weight", "ln_f.bias")}
    renamed = (("ln_1", "ln_1"), ("ln_2", "ln_2"), ("mlp_in", "mlp.0"), ("mlp_out", "mlp.2"), ("attn.output_proj", "attn.out_proj"))
    for index in range(config.depth):
        block = f"blocks.{index}"
        for ours, theirs in renamed:
            for kind in ("weight", "bias"):
                values[f"{block}.{ours}.{kind}"] = initial[f"{block}.{theirs}.{kind}"]
        weights, biases = (np.split(initial[f"{block}.attn.in_proj_{kind}"], 3) for kind in ("weight", "bias"))
        for projection, weight, bias in zip(("query_proj", "key_proj", "value_proj"), weights, biases):
            values[f"{block}.attn.{projection}.weight"], values[f"{block}.attn.{projection}.bias"] = weight, bias
    model = GPT(config, key)
    for path, value in values.items():
        model = _with(model, _leaf(path), value)
    return model


def _leaf(path: str):
    """`model -> model.<path>`, where a numbered part indexes a list."""

    def where(model):
        for part in path.split("."):
            model = model[int(part)] if part.isdigit() else getattr(model, part)
        return model

    return where


def loss_for(kind: str):
    """`loss(model, state, key, x, y) -> (loss, new_state)`."""

    def loss(model, state, key, x, y):
        if kind == "cnn":
            keys = jax.random.split(key, x.shape[0])  # a dropout mask per image
            batched = jax.vmap(model, axis_name="batch", in_axes=(0, None, 0), out_axes=(0, None))
            logits, state = batched(x, state, keys)
        else:
            outputs = jax.vmap(model)(x)
            if kind == "linreg":
                return jnp.mean(jnp.square(outputs - y)), state
            logits = outputs
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), state

    return loss


def build_runner(workload):
    model, state = model_for(workload)
    optimizer = workload.optax_optimizer()
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    loss = loss_for(workload.kind)

    @eqx.filter_jit
    def train_step(model, opt_state, state, key, x, y):
        step_key = None
        if key is not None:  # only the CNN draws randomness (dropout)
            key, step_key = jax.random.split(key)
        (value, state), grads = eqx.filter_value_and_grad(loss, has_aux=True)(model, state, step_key, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, state, key, value

    carry = (model, opt_state, state, jax.random.key(1) if workload.kind == "cnn" else None)

    def one_step(batch):
        nonlocal carry
        *carry, value = train_step(*carry, *batch)
        return value

    batches = [(jnp.asarray(x), jnp.asarray(y)) for x, y in workload.batches()]
    return cycling_runner(one_step, batches)
