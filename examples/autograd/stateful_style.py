"""Autograd, as the notes write it, on `nablax.stateful`: `requires_grad=True` records the
operations, `backward()` fills `.grad` (from a scalar, or with a `gradient` vector for a
non-scalar output), gradients accumulate until `.grad.zero_()`, and `detach()` and
`no_grad()` keep values out of the graph.

Where the notes call `torch.randn`, fixed numbers stand in, so that this script prints
exactly what its NumPy and functional twins print.
"""

import numpy as np

import nablax.stateful as torch


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def gradient_of_a_mean():
    """z = mean(x**2 + 3): backward() from a scalar; dz/dx = 2x / 4."""
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x ** 2 + 3
    z = y.mean()  # a scalar, so backward() needs no argument
    z.backward()
    return z.item(), x.grad.tolist()


def vector_jacobian_product():
    """z = 2 * (x + 2)**2 is a vector: backward(v) gives v^T dz/dx, the chain rule's input
    when z feeds a later scalar loss whose gradient with respect to z is v."""
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)  # the notes: torch.randn(3, ...)
    y = x + 2
    z = 2 * y * y
    z.backward(torch.tensor([0.01, 0.01, 0.02], dtype=torch.float32))
    return x.grad.tolist()


def gradients_through_a_graph():
    """g = (a + b) * (c * d): every leaf gets its gradient from one backward()."""
    a = torch.tensor([2.0], requires_grad=True)
    b = torch.tensor([-4.0], requires_grad=True)
    c = torch.tensor([-2.0], requires_grad=True)
    d = torch.tensor([2.0], requires_grad=True)
    e = a + b
    f = c * d
    g = e * f
    g.backward()
    return g.item(), [leaf.grad.item() for leaf in (a, b, c, d)]


def gradients_over_two_passes(zero_between: bool):
    """Two backward passes of (3 * weights).sum(): `.grad` adds them up unless zeroed."""
    weights = torch.ones(4, requires_grad=True)
    seen = []
    for _ in range(2):
        model_output = (weights * 3).sum()
        model_output.backward()
        seen.append(weights.grad.tolist())
        if zero_between:
            weights.grad.zero_()
    return seen


def gradient_with_a_detached_factor():
    """d(w * w)/dw = 2w, but with the second factor detached it is a constant: w."""
    w = torch.tensor(3.0, requires_grad=True)
    (w * w).backward()
    full = w.grad.item()
    w.grad.zero_()
    (w * w.detach()).backward()
    with torch.no_grad():  # inside, nothing is recorded: doubled.requires_grad is False
        doubled = w * 2
    assert not doubled.requires_grad
    return full, w.grad.item()


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
