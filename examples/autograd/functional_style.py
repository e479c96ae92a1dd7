"""Autograd, functionally: `jax.grad` turns a function into the function of its gradient.
Nothing is recorded on arrays and nothing is stored in a `.grad`: the gradient is a return
value. So the notes' `backward(v)` is `jax.vjp`, gradient accumulation is an explicit sum,
and `detach()` is `jax.lax.stop_gradient`.

Where the notes call `torch.randn`, fixed numbers stand in, so that this script prints
exactly what its NumPy and stateful twins print.
"""

import jax
import jax.numpy as jnp
import numpy as np


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def gradient_of_a_mean():
    """z = mean(x**2 + 3): value and gradient from one call; dz/dx = 2x / 4."""
    x = jnp.array([[1.0, 2.0], [3.0, 4.0]], dtype=jnp.float32)
    z, dz_dx = jax.value_and_grad(lambda x: jnp.mean(x ** 2 + 3))(x)
    return z.item(), dz_dx.tolist()


def vector_jacobian_product():
    """z = 2 * (x + 2)**2 is a vector: `jax.vjp` returns a function mapping v to v^T dz/dx,
    which is what the notes' `z.backward(v)` leaves in `x.grad`."""
    x = jnp.array([0.5, -1.0, 2.0], dtype=jnp.float32)
    _, pull_back = jax.vjp(lambda x: 2 * (x + 2) ** 2, x)
    (v_dz_dx,) = pull_back(jnp.array([0.01, 0.01, 0.02], dtype=jnp.float32))
    return v_dz_dx.tolist()


def gradients_through_a_graph():
    """g = (a + b) * (c * d): `argnums` picks the inputs to differentiate with respect to."""

    def g(a, b, c, d):
        return (a + b) * (c * d)

    leaves = [jnp.float32(value) for value in (2.0, -4.0, -2.0, 2.0)]
    value, grads = jax.value_and_grad(g, argnums=(0, 1, 2, 3))(*leaves)
    return value.item(), [grad.item() for grad in grads]


def gradients_over_two_passes(zero_between: bool):
    """Two gradients of (3 * weights).sum(). `jax.grad` stores nothing, so "accumulating"
    is a sum we write, and "zeroing" is not adding the previous one."""
    weights = jnp.ones(4, dtype=jnp.float32)
    grad_fn = jax.grad(lambda w: (w * 3).sum())
    total = jnp.zeros_like(weights)
    seen = []
    for _ in range(2):
        total = grad_fn(weights) if zero_between else total + grad_fn(weights)
        seen.append(total.tolist())
    return seen


def gradient_with_a_detached_factor():
    """d(w * w)/dw = 2w, but with `stop_gradient` on the second factor it is a constant: w."""
    w = jnp.float32(3.0)
    full = jax.grad(lambda w: w * w)(w)
    detached = jax.grad(lambda w: w * jax.lax.stop_gradient(w))(w)
    return full.item(), detached.item()


def main(verbose: bool = True) -> dict:
    """Runs each example and returns its values and gradients as Python numbers."""
    z, mean_grad = gradient_of_a_mean()
    vjp = vector_jacobian_product()
    g, graph_grads = gradients_through_a_graph()
    accumulated = gradients_over_two_passes(zero_between=False)
    zeroed = gradients_over_two_passes(zero_between=True)
    full, detached = gradient_with_a_detached_factor()
    if verbose:
        print(f"z = mean(x**2 + 3) = {z:.4f}, dz/dx = {rounded(mean_grad)}")
        print(f"z = 2 * (x + 2)**2, v^T dz/dx = {rounded(vjp)}")
        print(f"g = (a + b) * (c * d) = {g:.4f}, dg/d(a, b, c, d) = {rounded(graph_grads)}")
        print(f"two passes, no zeroing: {rounded(accumulated)}")
        print(f"two passes, zeroed in between: {rounded(zeroed)}")
        print(f"d(w * w)/dw at w = 3: {full:.4f}; with the second factor detached: {detached:.4f}")
    return dict(mean_value=z, mean_grad=mean_grad, vector_jacobian_product=vjp, graph_value=g,
                graph_grads=graph_grads, accumulated_grads=accumulated, zeroed_grads=zeroed,
                full_grad=full, detached_grad=detached)


if __name__ == "__main__":
    main()
