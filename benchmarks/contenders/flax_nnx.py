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


def _set(variable, value) -> None:
    variable.value = jnp.asarray(value)


def model_for(workload):
    """The workload's model with its initial parameters, and its batches in Flax's layout."""
    initial, rngs = workload.initial, nnx.Rngs(0)
    batches = workload.batches()
    if workload.kind == "linreg":
        return Scalar(initial["w"]), batches
    if workload.kind == "mlp":
        model = MLP(workload.sizes, rngs)
        for layer, name in zip(model.layers, workload.linear_names()):
            _set(layer.kernel, initial[f"{name}.weight"].T)
            _set(layer.bias, initial[f"{name}.bias"])
        return model, batches
    model = DigitsCNN(rngs)
    for conv, norm, conv_name, norm_name in ((model.conv1, model.norm1, "0", "1"), (model.conv2, model.norm2, "4", "5")):
        _set(conv.kernel, initial[f"{conv_name}.weight"].transpose(2, 3, 1, 0))  # OIHW -> HWIO
        _set(conv.bias, initial[f"{conv_name}.bias"])
        _set(norm.scale, initial[f"{norm_name}.weight"])
        _set(norm.bias, initial[f"{norm_name}.bias"])
    # PyTorch flattens (C, H, W), Flax (H, W, C): reorder the linear layer's inputs to match.
    weight = initial["10.weight"].reshape(10, 32, 2, 2).transpose(2, 3, 1, 0).reshape(-1, 10)
    _set(model.linear.kernel, weight)
    _set(model.linear.bias, initial["10.bias"])
    return model, [(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), y) for x, y in batches]


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
