"""Flax NNX as its documentation writes a training step: a stateful `nnx.Module`, an
`nnx.Optimizer`, and `@nnx.jit` over `nnx.value_and_grad`, updating the model in place;
also the same step through `nnx.cached_partial`, which caches the traversal of the model and
optimizer graphs between calls.

Linear kernels are `[in, out]` and convolutions NHWC with HWIO kernels in Flax, so the
workload's PyTorch-layout parameters are transposed once, and the CNN's images are fed NHWC.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from .loops import cycling_runner


class MLP(nnx.Module):
    def __init__(self, sizes, rngs: nnx.Rngs):
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])])

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = nnx.relu(layer(x))
        return self.layers[-1](x)


class Scalar(nnx.Module):
    """The notes' model `w * x`."""

    def __init__(self, w):
        self.w = nnx.Param(jnp.asarray(w))

    def __call__(self, x):
        return self.w * x


class DigitsCNN(nnx.Module):
    """The digits CNN in Flax's NHWC layout. Flax's BatchNorm momentum is the weight of the
    old statistics: 0.9 is PyTorch's 0.1."""

    def __init__(self, rngs: nnx.Rngs):
        self.conv1 = nnx.Conv(1, 16, (3, 3), padding="SAME", rngs=rngs)
        self.norm1 = nnx.BatchNorm(16, momentum=0.9, epsilon=1e-5, rngs=rngs)
        self.conv2 = nnx.Conv(16, 32, (3, 3), padding="SAME", rngs=rngs)
        self.norm2 = nnx.BatchNorm(32, momentum=0.9, epsilon=1e-5, rngs=rngs)
        self.dropout = nnx.Dropout(0.25, rngs=rngs)
        self.linear = nnx.Linear(32 * 2 * 2, 10, rngs=rngs)

    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.norm1(self.conv1(x))), (2, 2), (2, 2))
        x = nnx.max_pool(nnx.relu(self.norm2(self.conv2(x))), (2, 2), (2, 2))
        return self.linear(self.dropout(x.reshape(x.shape[0], -1)))


class GPTBlock(nnx.Module):
    """A pre-norm block of examples/gpt.py: Flax's MultiHeadAttention under a causal mask, a
    GELU MLP. Flax's LayerNorm epsilon defaults to 1e-6 and its GELU to the tanh form: set to
    PyTorch's 1e-5 and the exact form."""

    def __init__(self, width, heads, rngs: nnx.Rngs):
        self.ln_1 = nnx.LayerNorm(width, epsilon=1e-5, rngs=rngs)
        self.attn = nnx.MultiHeadAttention(heads, width, decode=False, rngs=rngs)
        self.ln_2 = nnx.LayerNorm(width, epsilon=1e-5, rngs=rngs)
        self.mlp_in = nnx.Linear(width, 4 * width, rngs=rngs)
        self.mlp_out = nnx.Linear(4 * width, width, rngs=rngs)

    def __call__(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask=mask)
        return x + self.mlp_out(nnx.gelu(self.mlp_in(self.ln_2(x)), approximate=False))


class GPT(nnx.Module):
    """The GPT of examples/gpt.py; the output head is the token embedding (`Embed.attend`)."""

    def __init__(self, config, rngs: nnx.Rngs):
        self.wte = nnx.Embed(config.vocab, config.width, rngs=rngs)
        self.wpe = nnx.Embed(config.context, config.width, rngs=rngs)
        self.blocks = nnx.List([GPTBlock(config.width, config.heads, rngs) for _ in range(config.depth)])
        self.ln_f = nnx.LayerNorm(config.width, epsilon=1e-5, rngs=rngs)

    def __call__(self, tokens):
        x = self.wte(tokens) + self.wpe(jnp.arange(tokens.shape[1]))
        mask = nnx.make_causal_mask(tokens)
        for block in self.blocks:
            x = block(x, mask)
        return self.wte.attend(self.ln_f(x))


def _set(variable, value) -> None:
    variable.value = jnp.asarray(value)


def _set_linear(linear, initial, name: str) -> None:
    """A Linear from PyTorch's `name.weight` [out, in] (Flax's kernel is [in, out]) and `name.bias`."""
    _set(linear.kernel, initial[f"{name}.weight"].T)
    _set(linear.bias, initial[f"{name}.bias"])


def _set_norm(norm, initial, name: str) -> None:
    _set(norm.scale, initial[f"{name}.weight"])
    _set(norm.bias, initial[f"{name}.bias"])


def model_for(workload):
    """The workload's model with its initial parameters, and its batches in Flax's layout."""
    initial, rngs = workload.initial, nnx.Rngs(0)
    batches = workload.batches()
    if workload.kind == "linreg":
        return Scalar(initial["w"]), batches
    if workload.kind == "mlp":
        model = MLP(workload.sizes, rngs)
        for layer, name in zip(model.layers, workload.linear_names()):
            _set_linear(layer, initial, name)
        return model, batches
    if workload.kind == "gpt":
        return _gpt_with(initial, workload.config, rngs), batches
    model = DigitsCNN(rngs)
    for conv, norm, conv_name, norm_name in ((model.conv1, model.norm1, "0", "1"), (model.conv2, model.norm2, "4", "5")):
        _set(conv.kernel, initial[f"{conv_name}.weight"].transpose(2, 3, 1, 0))  # OIHW -> HWIO
        _set(conv.bias, initial[f"{conv_name}.bias"])
        _set_norm(norm, initial, norm_name)
    # PyTorch flattens (C, H, W), Flax (H, W, C): reorder the linear layer's inputs to match.
    weight = initial["10.weight"].reshape(10, 32, 2, 2).transpose(2, 3, 1, 0).reshape(-1, 10)
    _set(model.linear.kernel, weight)
    _set(model.linear.bias, initial["10.bias"])
    return model, [(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), y) for x, y in batches]


def _gpt_with(initial, config, rngs):
    """The GPT with the workload's parameters: PyTorch's packed [3E, E] input projection split
    into Flax's query, key and value kernels of shape [E, heads, E / heads]."""
    model = GPT(config, rngs)
    heads, width = config.heads, config.width
    _set(model.wte.embedding, initial["wte.weight"])
    _set(model.wpe.embedding, initial["wpe.weight"])
    for index, block in enumerate(model.blocks):
        name = f"blocks.{index}"
        weights = np.split(initial[f"{name}.attn.in_proj_weight"], 3)
        biases = np.split(initial[f"{name}.attn.in_proj_bias"], 3)
        for projection, weight, bias in zip((block.attn.query, block.attn.key, block.attn.value), weights, biases):
            _set(projection.kernel, weight.T.reshape(width, heads, -1))
            _set(projection.bias, bias.reshape(heads, -1))
        _set(block.attn.out.kernel, initial[f"{name}.attn.out_proj.weight"].T.reshape(heads, -1, width))
        _set(block.attn.out.bias, initial[f"{name}.attn.out_proj.bias"])
        _set_norm(block.ln_1, initial, f"{name}.ln_1")
        _set_norm(block.ln_2, initial, f"{name}.ln_2")
        _set_linear(block.mlp_in, initial, f"{name}.mlp.0")
        _set_linear(block.mlp_out, initial, f"{name}.mlp.2")
    _set_norm(model.ln_f, initial, "ln_f")
    return model


def make_train_step(kind: str):
    """A fresh `nnx.jit` step (fresh, so that each build compiles anew)."""

    @nnx.jit
    def train_step(model, optimizer, x, y):
        def loss_fn(model):
            outputs = model(x)
            if kind == "linreg":
                return jnp.mean(jnp.square(outputs - y))
            return optax.softmax_cross_entropy_with_integer_labels(outputs, y).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    return train_step


def _setup(workload):
    model, batches = model_for(workload)
    optimizer = nnx.Optimizer(model, workload.optax_optimizer(), wrt=nnx.Param)
    device_batches = [(jnp.asarray(x), jnp.asarray(y)) for x, y in batches]
    return model, optimizer, make_train_step(workload.kind), device_batches


def build_jit_runner(workload):
    model, optimizer, train_step, batches = _setup(workload)
    return cycling_runner(lambda batch: train_step(model, optimizer, *batch), batches)


def build_cached_partial_runner(workload):
    model, optimizer, train_step, batches = _setup(workload)
    cached_step = nnx.cached_partial(train_step, model, optimizer)
    return cycling_runner(lambda batch: cached_step(*batch), batches)
