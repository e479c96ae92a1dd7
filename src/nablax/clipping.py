"""Gradient clipping over pytrees of gradients, computing what PyTorch's
`torch.nn.utils.clip_grad_norm_` and `clip_grad_value_` compute (the stateful face's
versions record these functions). In a train step, apply them to the gradients before the
optimizer's update, or use optax's `clip_by_global_norm` in the optimizer chain (which
differs from PyTorch's formula by PyTorch's 1e-6 in the denominator).

    >>> import jax.numpy as jnp
    >>> grads, norm = clip_grad_norm({"w": jnp.array([3.0, 4.0])}, max_norm=1.0)
    >>> float(norm), [round(g, 4) for g in grads["w"].tolist()]
    (5.0, [0.6, 0.8])
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def total_norm(grads, norm_type: float = 2.0) -> jax.Array:
    """The `norm_type`-norm of all the leaves of `grads` together (`inf` for the largest
    magnitude), computed as PyTorch does: the norm of the leaves' norms, in their promoted
    dtype; 0 for no leaves (PyTorch's `torch.nn.utils.get_total_norm`)."""
    leaves = jax.tree_util.tree_leaves(grads)
    if not leaves:
        return jnp.zeros((), jnp.float32)
    norms = [jnp.linalg.norm(jnp.ravel(leaf), ord=norm_type) for leaf in leaves]
    dtype = jnp.result_type(*norms)
    return jnp.linalg.norm(jnp.stack([norm.astype(dtype) for norm in norms]), ord=norm_type)


def clip_to_norm(grads, max_norm, norm: jax.Array):
    """`grads` scaled by max_norm / (norm + 1e-6) where that is below 1, unchanged otherwise
    (PyTorch's `torch.nn.utils.clip_grads_with_norm_`)."""
    coefficient = jnp.minimum(jnp.asarray(max_norm, norm.dtype) / (norm + 1e-6), 1.0)
    return jax.tree_util.tree_map(lambda grad: (grad * coefficient).astype(grad.dtype), grads)


def clip_grad_norm(grads, max_norm: float, norm_type: float = 2.0):
    """`(clipped grads, total norm)`: the gradients scaled so that their total `norm_type`-norm
    is at most `max_norm`, and their norm before clipping."""
    norm = total_norm(grads, norm_type)
    return clip_to_norm(grads, max_norm, norm), norm


def clip_grad_value(grads, clip_value: float):
    """Each gradient element clipped to [-clip_value, clip_value]."""
    return jax.tree_util.tree_map(lambda grad: jnp.clip(grad, -clip_value, clip_value).astype(grad.dtype), grads)
