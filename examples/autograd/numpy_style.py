"""Autograd's results, derived by hand in NumPy: each gradient that the notes get from
`backward()` is written here as the formula the chain rule gives, which is the work
autograd saves. The same examples — a mean, a vector-Jacobian product, a small graph,
accumulation and a detached factor — print the same numbers as the stateful and
functional twins.
"""

import numpy as np


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def gradient_of_a_mean():
    """z = mean(x**2 + 3) over n entries: dz/dx = 2x / n."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    z = np.mean(x ** 2 + 3)
    return z.item(), (2 * x / x.size).tolist()


def vector_jacobian_product():
    """z = 2 * (x + 2)**2 acts entry by entry, so dz/dx is diagonal with 4 * (x + 2) on
    it and v^T dz/dx = v * 4 * (x + 2)."""
    x = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    v = np.array([0.01, 0.01, 0.02], dtype=np.float32)
    return (v * 4 * (x + 2)).tolist()


def gradients_through_a_graph():
    """g = e * f with e = a + b and f = c * d: dg/da = dg/db = f, dg/dc = e * d,
    dg/dd = e * c (the local gradient of each node times the gradient flowing into it)."""
    a, b, c, d = (np.float32(value) for value in (2.0, -4.0, -2.0, 2.0))
    e, f = a + b, c * d
    g = e * f
    return g.item(), [f.item(), f.item(), (e * d).item(), (e * c).item()]


def gradients_over_two_passes(zero_between: bool):
    """(3 * weights).sum() has gradient 3 for every weight; a `.grad` that is not zeroed
    adds each pass's gradient to the last."""
    weights = np.ones(4, dtype=np.float32)
    grad = np.zeros_like(weights)
    seen = []
    for _ in range(2):
        grad = (0 if zero_between else grad) + 3 * np.ones_like(weights)
        seen.append(grad.tolist())
    return seen


def gradient_with_a_detached_factor():
    """d(w * w)/dw = 2w; if the second factor is treated as a constant c, d(w * c)/dw = c = w."""
    w = np.float32(3.0)
    return (2 * w).item(), w.item()


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
