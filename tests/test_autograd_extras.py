"""Autograd past the notes, against PyTorch: `autograd.Function`, gradients of gradients
(`create_graph=True`) and `retain_grad()`."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nablax.stateful as nxt
from nablax.stateful.engine import cache

from conftest import to_numpy


def cube_function(T):
    class Cube(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return scale * x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * ctx.scale * x ** 2, None

    return Cube


def split_function(T):
    class Split(T.autograd.Function):
        """Two outputs, a gradient for one input only."""

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b, a + b

        @staticmethod
        def backward(ctx, grad_product, grad_sum):
            a, b = ctx.saved_tensors
            return grad_product * b + grad_sum, None

    return Split


@pytest.mark.parametrize("make", [cube_function, split_function])
def test_a_function_runs_the_users_backward(torch, make):
    results = []
    for T in (torch, nxt):
        a = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
        b = T.tensor([1.5, 2.0, -0.5], requires_grad=True)
        function = make(T)
        outputs = function.apply(a, 2.0) if function.__name__ == "Cube" else function.apply(a, b)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        sum(o.sum() * (index + 1) for index, o in enumerate(outputs)).backward()
        results.append([*(to_numpy(o) for o in outputs), to_numpy(a.grad), None if b.grad is None else to_numpy(b.grad)])
        assert type(outputs[0].grad_fn).__name__ == f"{function.__name__}Backward"
    for theirs, ours in zip(*results):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_the_legendre_tutorial_trains_with_one_program_per_step():
    """PyTorch's "defining new autograd functions" example, shortened."""

    class LegendrePolynomial3(nxt.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    x = nxt.linspace(-math.pi, math.pi, 200)
    y = nxt.sin(x)
    a, b, c, d = (nxt.full((), value, requires_grad=True) for value in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for step in range(12):
        if step == 4:
            compiles = cache.PROGRAMS.compiles
        loss = (a + b * LegendrePolynomial3.apply(c + d * x) - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with nxt.no_grad():
            for p in (a, b, c, d):
                p -= 5e-5 * p.grad
                p.grad = None
    assert cache.PROGRAMS.compiles == compiles
    assert losses[-1] < losses[0]


def test_gradients_of_gradients_match_torch(torch):
    results = []
    for T in (torch, nxt):
        x = T.tensor([0.5, -1.5, 2.0], requires_grad=True)
        w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (w * x.sin() * x ** 2).sum()
        (dx,) = T.autograd.grad(y, x, create_graph=True)
        penalty = (dx ** 2).sum()  # a gradient penalty, as in WGAN-GP
        penalty.backward()
        results.append([to_numpy(dx), to_numpy(x.grad), to_numpy(w.grad)])
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # PyTorch's, about reference cycles
def test_backward_with_create_graph_leaves_differentiable_grads(torch):
    results = []
    for T in (torch, nxt):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        first = x.grad
        assert first.requires_grad
        (second,) = T.autograd.grad(first.sum(), x)
        results.append([to_numpy(first), to_numpy(second)])
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_retain_grad_keeps_a_non_leafs_gradient(torch):
    results = []
    for T in (torch, nxt):
        x = T.tensor([1.0, -2.0], requires_grad=True)
        h = x * 3
        h.retain_grad()
        assert h.retains_grad and not x.retains_grad
        (h.tanh() * h).sum().backward()
        results.append([to_numpy(x.grad), to_numpy(h.grad)])
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)  # tanh' at -6: float32 rounding


def test_retain_grad_of_a_tensor_without_grad_raises_as_in_torch(torch):
    for T in (torch, nxt):
        with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
            T.ones(2).retain_grad()


def test_a_function_with_an_unhashable_argument_says_what_to_pass():
    with pytest.raises(TypeError, match="neither a tensor nor hashable"):
        cube_function(nxt).apply(nxt.ones(2, requires_grad=True), [2.0])


def graph_of(node, depth: int = 4):
    """A grad_fn and what it leads to, as nested (name, children), `depth` levels down."""
    if node is None:
        return None
    children = [graph_of(child, depth - 1) for child, _ in node.next_functions] if depth else []
    return type(node).__name__, children


@pytest.mark.parametrize("bias, input_shape, input_requires_grad", [
    (True, (4, 2), False), (True, (4, 2), True), (False, (4, 2), False), (True, (5, 4, 2), True), (True, (2,), False),
])
def test_a_linear_layers_graph_is_pytorchs(torch, bias, input_shape, input_requires_grad):
    graphs = []
    for T in (torch, nxt):
        layer = T.nn.Linear(2, 3, bias=bias)
        x = T.ones(*input_shape, requires_grad=input_requires_grad)
        graphs.append(graph_of(layer(x * 2 if input_requires_grad else x).grad_fn))
    assert graphs[1] == graphs[0]


def test_a_parameter_made_from_a_computed_tensor_is_a_leaf(torch):
    for T in (torch, nxt):
        weight = T.nn.Parameter(T.randn(3, 2, requires_grad=True) * 0.01)
        assert weight.is_leaf and weight.requires_grad and weight.grad_fn is None
        (weight * 2).sum().backward()
        np.testing.assert_array_equal(to_numpy(weight.grad), np.full((3, 2), 2.0, np.float32))
