"""PyTorch's update rules that optax words differently, as optax transforms.

Each is an `(init, update)` pair in optax's style whose update is PyTorch's rule without
the learning rate (the optimizer multiplies by it outside, so that changing it never
recompiles). Where optax's own transform computes PyTorch's rule (Adam, Adamax, Adadelta,
RMSprop, SGD without dampening), the optimizers use optax's. Step-dependent scalars are
computed in the widest float JAX has (float64 under the stateful face), as PyTorch computes
them in Python floats, and cast to the parameter's dtype where they meet a tensor.

    >>> import jax.numpy as jnp
    >>> rule = scale_by_torch_adagrad(lr_decay=0.0, eps=0.0, initial_accumulator_value=0.0)
    >>> state = rule.init(jnp.zeros(2, jnp.float32))
    >>> rule.update(jnp.array([3.0, -4.0], jnp.float32), state)[0]
    Array([ 1., -1.], dtype=float32)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax.numpy as jnp
import optax


def _moment(grad, moment, decay, order):
    """`decay * moment + (1 - decay) * grad ** order`, as PyTorch's running averages."""
    return decay * moment + (1 - decay) * (grad if order == 1 else grad * grad)


def _step_number(count):
    """The 1-based number of the step being taken, as a (wide) float."""
    return jnp.asarray(count + 1, dtype=float)


class DampenedMomentumState(NamedTuple):
    momentum_buffer: Any
    started: Any


def dampened_momentum(momentum, dampening, nesterov: bool = False) -> optax.GradientTransformation:
    """PyTorch's SGD momentum with dampening: the first step's buffer is the gradient
    itself, later ones `momentum * buffer + (1 - dampening) * gradient`."""

    def init(params):
        return DampenedMomentumState(jnp.zeros_like(params), jnp.zeros((), jnp.bool_))

    def update(updates, state, params=None):
        damped = momentum * state.momentum_buffer + (1 - dampening) * updates
        buffer = jnp.where(state.started, damped, updates)
        direction = updates + momentum * buffer if nesterov else buffer
        return direction, DampenedMomentumState(buffer, jnp.ones((), jnp.bool_))

    return optax.GradientTransformation(init, update)


def scale_by_torch_amsgrad(b1, b2, eps) -> optax.GradientTransformation:
    """Adam's AMSGrad variant as PyTorch computes it: the running maximum is of the raw
    second moment, bias-corrected afterwards (optax's `scale_by_amsgrad` takes the maximum
    of the corrected one)."""

    def init(params):
        zeros = jnp.zeros_like(params)
        return optax.ScaleByAmsgradState(count=jnp.zeros((), jnp.int32), mu=zeros, nu=zeros, nu_max=zeros)

    def update(updates, state, params=None):
        step = _step_number(state.count)
        mu = _moment(updates, state.mu, b1, 1)
        nu = _moment(updates, state.nu, b2, 2)
        nu_max = jnp.maximum(state.nu_max, nu)
        step_size = (1 / (1 - b1**step)).astype(updates.dtype)
        root_correction = jnp.sqrt(1 - b2**step).astype(updates.dtype)
        direction = step_size * mu / (jnp.sqrt(nu_max) / root_correction + eps)
        return direction, optax.ScaleByAmsgradState(count=state.count + 1, mu=mu, nu=nu, nu_max=nu_max)

    return optax.GradientTransformation(init, update)


class TorchAdagradState(NamedTuple):
    count: Any
    sum_of_squares: Any


def scale_by_torch_adagrad(lr_decay, eps, initial_accumulator_value) -> optax.GradientTransformation:
    """PyTorch's Adagrad: `grad / (sqrt(sum of squares) + eps)`, scaled down by
    `1 + (step - 1) * lr_decay` (optax's `scale_by_rss` puts eps inside the root)."""

    def init(params):
        return TorchAdagradState(jnp.zeros((), jnp.int32), jnp.full_like(params, initial_accumulator_value))

    def update(updates, state, params=None):
        total = state.sum_of_squares + updates * updates
        decay = (1 / (1 + (_step_number(state.count) - 1) * lr_decay)).astype(updates.dtype)
        return decay * updates / (jnp.sqrt(total) + eps), TorchAdagradState(state.count + 1, total)

    return optax.GradientTransformation(init, update)


class TorchNAdamState(NamedTuple):
    count: Any
    mu_product: Any
    mu: Any
    nu: Any


def scale_by_torch_nadam(b1, b2, eps, momentum_decay) -> optax.GradientTransformation:
    """PyTorch's NAdam (Dozat 2016 with its momentum schedule
    `mu_t = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))`, whose running product PyTorch
    keeps as `mu_product`); optax's `nadam` has no momentum schedule."""

    def init(params):
        zeros = jnp.zeros_like(params)
        return TorchNAdamState(jnp.zeros((), jnp.int32), jnp.ones((), jnp.float32), zeros, zeros)

    def update(updates, state, params=None):
        step = _step_number(state.count)
        mu_now = b1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        mu_product = (state.mu_product * mu_now).astype(state.mu_product.dtype)  # PyTorch keeps it in float32
        mu = _moment(updates, state.mu, b1, 1)
        nu = _moment(updates, state.nu, b2, 2)
        denominator = jnp.sqrt(nu / (1 - b2**step).astype(updates.dtype)) + eps
        wide_product = jnp.asarray(mu_product, dtype=float)
        grad_weight = ((1.0 - mu_now) / (1.0 - wide_product)).astype(updates.dtype)
        momentum_weight = (mu_next / (1.0 - wide_product * mu_next)).astype(updates.dtype)
        direction = grad_weight * updates / denominator + momentum_weight * mu / denominator
        return direction, TorchNAdamState(state.count + 1, mu_product, mu, nu)

    return optax.GradientTransformation(init, update)


def scale_by_torch_radam(b1, b2, eps) -> optax.GradientTransformation:
    """PyTorch's RAdam: bias-corrected momentum, rectified by the variance's
    `sqrt(1 - b2**t) / (sqrt(v) + eps)` once the length of its approximated SMA exceeds 5
    (optax's `scale_by_radam` puts eps on the corrected root and switches at 5 or more)."""

    def init(params):
        zeros = jnp.zeros_like(params)
        return optax.ScaleByAdamState(count=jnp.zeros((), jnp.int32), mu=zeros, nu=zeros)

    def update(updates, state, params=None):
        step = _step_number(state.count)
        mu = _moment(updates, state.mu, b1, 1)
        nu = _moment(updates, state.nu, b2, 2)
        correction2 = 1 - b2**step
        rho_inf = 2 / (1 - b2) - 1
        rho = rho_inf - 2 * step * b2**step / correction2
        rectified = rho > 5.0
        ratio = (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)
        rectifier = jnp.sqrt(jnp.where(rectified, ratio, 1.0)).astype(updates.dtype)
        adaptive = jnp.sqrt(correction2).astype(updates.dtype) / (jnp.sqrt(nu) + eps)
        corrected = mu / (1 - b1**step).astype(updates.dtype)
        direction = jnp.where(rectified, corrected * adaptive * rectifier, corrected)
        return direction, optax.ScaleByAdamState(count=state.count + 1, mu=mu, nu=nu)

    return optax.GradientTransformation(init, update)
