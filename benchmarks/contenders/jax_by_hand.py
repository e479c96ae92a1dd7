"""Hand-written JAX + optax: the pure losses a JAX user writes for each workload, compiled one
step at a time with `jax.jit`, or one epoch at a time as a `lax.scan` (shuffle, batch, scan:
the same work as nablax's fused `fit` epoch). This is the engine's own limit, the figure a
framework on JAX can at best match.

Parameters are a flat dict under PyTorch's `state_dict` names. A loss takes
`(params, extra, batch)` and returns `(loss, extra)`: `extra` is what the model threads
besides its parameters (the CNN's running statistics and dropout key; None otherwise).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from .loops import cycling_runner, epoch_runner

BATCH_NORM_MOMENTUM = 0.1  # PyTorch's convention: the weight of the new batch's statistics
BATCH_NORM_EPS = 1e-5
DROPOUT = 0.25


def linear(x, params, name):
    return x @ params[f"{name}.weight"].T + params[f"{name}.bias"]


def mlp_loss(linear_names: list[str]):
    def loss(params, extra, batch):
        h, labels = batch
        for index, name in enumerate(linear_names):
            h = linear(h, params, name)
            if index < len(linear_names) - 1:
                h = jax.nn.relu(h)
        return optax.softmax_cross_entropy_with_integer_labels(h, labels).mean(), extra

    return loss


def layer_norm(x, params, name, eps=1e-5):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + eps) * params[f"{name}.weight"] + params[f"{name}.bias"]


def gpt_loss(config):
    """The GPT of examples/gpt.py written out: pre-norm blocks of causal self-attention
    (`jax.nn.dot_product_attention`) and a GELU MLP, logits from the token embedding."""

    def attention(x, params, name):
        batch, length, width = x.shape
        qkv = x @ params[f"{name}.in_proj_weight"].T + params[f"{name}.in_proj_bias"]
        q, k, v = (t.reshape(batch, length, config.heads, -1) for t in jnp.split(qkv, 3, axis=-1))
        out = jax.nn.dot_product_attention(q, k, v, is_causal=True)
        return linear(out.reshape(batch, length, width), params, f"{name}.out_proj")

    def loss(params, extra, batch):
        tokens, targets = batch
        x = params["wte.weight"][tokens] + params["wpe.weight"][: tokens.shape[1]]
        for index in range(config.depth):
            block = f"blocks.{index}"
            x = x + attention(layer_norm(x, params, f"{block}.ln_1"), params, f"{block}.attn")
            h = jax.nn.gelu(linear(layer_norm(x, params, f"{block}.ln_2"), params, f"{block}.mlp.0"), approximate=False)
            x = x + linear(h, params, f"{block}.mlp.2")
        logits = layer_norm(x, params, "ln_f") @ params["wte.weight"].T
        return optax.softmax_cross_entropy_with_integer_labels(logits, targets).mean(), extra

    return loss


def linear_regression_loss(params, extra, batch):
    x, y = batch
    return jnp.mean(jnp.square(params["w"] * x - y)), extra


def conv_3x3(x, params, name):
    y = jax.lax.conv_general_dilated(x, params[f"{name}.weight"], (1, 1), ((1, 1), (1, 1)))  # NCHW, OIHW
    return y + params[f"{name}.bias"][None, :, None, None]


def batch_norm(x, params, running, name):
    """Training-mode BatchNorm2d: normalise by the batch's statistics, update the running ones."""
    mean, var = jnp.mean(x, axis=(0, 2, 3)), jnp.var(x, axis=(0, 2, 3))
    y = (x - mean[:, None, None]) * jax.lax.rsqrt(var + BATCH_NORM_EPS)[:, None, None]
    y = y * params[f"{name}.weight"][:, None, None] + params[f"{name}.bias"][:, None, None]
    count = x.size // x.shape[1]
    blend = lambda old, new: (1 - BATCH_NORM_MOMENTUM) * old + BATCH_NORM_MOMENTUM * jax.lax.stop_gradient(new)
    updated = {f"{name}.running_mean": blend(running[f"{name}.running_mean"], mean),
               f"{name}.running_var": blend(running[f"{name}.running_var"], var * count / (count - 1))}
    return y, updated


def max_pool_2x2(x):
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def cnn_loss(params, extra, batch):
    """The digits CNN: (conv, BN, ReLU, max pool) twice, flatten, dropout, linear."""
    running, key = extra
    key, dropout_key = jax.random.split(key)
    h, labels = batch
    new_running = {}
    for conv_name, norm_name in (("0", "1"), ("4", "5")):
        h, updated = batch_norm(conv_3x3(h, params, conv_name), params, running, norm_name)
        new_running.update(updated)
        h = max_pool_2x2(jax.nn.relu(h))
    h = h.reshape(h.shape[0], -1)
    keep = jax.random.bernoulli(dropout_key, 1 - DROPOUT, h.shape)
    h = jnp.where(keep, h / (1 - DROPOUT), 0.0)
    logits = linear(h, params, "10")
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean(), (new_running, key)


def model_for(workload):
    """`(loss, params, extra)` for the workload, from its initial `state_dict`."""
    arrays = {name: jnp.asarray(value) for name, value in workload.initial.items()}
    if workload.kind == "mlp":
        return mlp_loss(workload.linear_names()), arrays, None
    if workload.kind == "linreg":
        return linear_regression_loss, arrays, None
    if workload.kind == "gpt":
        return gpt_loss(workload.config), arrays, None
    is_running = lambda name: ".running_" in name
    params = {name: value for name, value in arrays.items() if not is_running(name) and "num_batches" not in name}
    running = {name: value for name, value in arrays.items() if is_running(name)}
    return cnn_loss, params, (running, jax.random.key(1))


def make_step(loss_fn, optimizer):
    """`step(carry, batch) -> (carry, loss)` with carry `(params, opt_state, extra)`: the form
    both `jax.jit` and `lax.scan` take."""

    def step(carry, batch):
        params, opt_state, extra = carry
        (loss, extra), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, extra, batch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, extra), loss

    return step


def initial_carry(workload):
    loss_fn, params, extra = model_for(workload)
    optimizer = workload.optax_optimizer()
    return make_step(loss_fn, optimizer), (params, optimizer.init(params), extra)


def device_batches(workload):
    return [(jnp.asarray(x), jnp.asarray(y)) for x, y in workload.batches()]


def build_step_runner(workload):
    step, carry = initial_carry(workload)
    compiled = jax.jit(step, donate_argnums=0)

    def one_step(batch):
        nonlocal carry
        carry, loss = compiled(carry, batch)
        return loss

    return cycling_runner(one_step, device_batches(workload))


def build_epoch_runner(workload):
    step, carry = initial_carry(workload)
    batch_size, num_batches = workload.batch_size, workload.steps_per_epoch

    def epoch(carry, data, key):
        order = jax.random.permutation(key, data[0].shape[0])
        reshape = lambda a: jnp.take(a, order, axis=0).reshape((num_batches, batch_size) + a.shape[1:])
        return jax.lax.scan(step, carry, jax.tree_util.tree_map(reshape, data))

    epoch = jax.jit(epoch, donate_argnums=0)
    data = (jnp.asarray(workload.inputs), jnp.asarray(workload.targets))
    base_key = jax.random.key(0)

    def run_epoch(index):
        nonlocal carry
        carry, losses = epoch(carry, data, jax.random.fold_in(base_key, index))
        return losses

    return epoch_runner(run_epoch, num_batches)
