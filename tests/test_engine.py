"""The engine under `nablax.stateful`: plans, the one walk that builds them, the program
cache, backward passes, and the reference interpreter as a second oracle."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nablax.stateful as torch
from nablax.stateful import engine
from nablax.stateful.engine import cache, reference
from nablax.stateful.engine.plan import Kind, Plan, PlanBuilder, Ref


def test_refs_are_interned_typed_ints():
    ref = Ref.of(Kind.BODY, 3)
    assert ref is Ref.of(Kind.BODY, 3)
    assert (ref.kind, ref.index) == (Kind.BODY, 3)
    assert repr(ref) == "body[3]"
    assert isinstance(ref, int) and hash(ref) == hash(int(ref))


def test_a_plan_numbers_inputs_before_the_nodes_using_them():
    x = torch.tensor([1.0, 2.0])
    y = (x * 2 + 1).sum()
    builder = PlanBuilder()
    root = builder.number(y._current_expr())
    names = [op.name for op, _, _ in builder.prelude.nodes]
    assert names == ["mul", "add", "sum"]
    assert root == Ref.of(Kind.PRELUDE, 2)
    _, _, inputs = builder.prelude.nodes[1]
    assert [ref.kind for ref in inputs] == [Kind.PRELUDE, Kind.ARG]  # the product, then the number 1
    assert [np.asarray(a).tolist() for a in builder.args] == [[1.0, 2.0], 2, 1]


def test_one_walk_differentiates_only_along_gradient_edges():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    scale = torch.tensor([3.0, 4.0]) * 2  # pending, but no gradient flows to it
    loss = (w * scale + w.detach()).sum()
    backward = engine.BackwardPass(loss._current_expr())
    body = [op.name for op, _, _ in backward._builder.body.nodes]
    prelude = [op.name for op, _, _ in backward._builder.prelude.nodes]
    assert body == ["mul", "add", "sum"]  # what the gradient passes through
    assert prelude == ["mul"]  # the scale: computed before, outside differentiation
    assert [engine.leaf_of(v) is w for v in backward.variables] == [True]


def test_a_leaf_changed_in_place_between_two_uses_gets_one_gradient():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    first = w * 3
    with torch.no_grad():
        w.add_(1.0)
    (first + w * w).sum().backward()
    leaves, groups = engine.BackwardPass((first + w * w).sum()._current_expr()).leaves()
    assert leaves == [w] and len(groups[0]) == 2  # two variables of one leaf
    np.testing.assert_allclose(w.grad.numpy(), [3 + 2 * 2.0, 3 + 2 * 3.0])


def test_a_plan_is_the_cache_key_of_its_program():
    x = torch.tensor([1.0, 2.0])
    compiles = cache.PROGRAMS.compiles
    for value in (1.0, 2.0, 3.0):  # other values, the same program
        (x * value).sum().item()
    assert cache.PROGRAMS.compiles - compiles <= 1
    plans = [key for key in cache.PROGRAMS.entries if isinstance(key, Plan)]
    assert plans and all(hash(plan) == hash(tuple(plan)) for plan in plans)


def _mlp_gradients(x, y):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    hidden = model[1](model[0](x))
    (probe,) = torch.autograd.grad(model[2](hidden).sum(), [hidden])
    return [loss.item(), probe.numpy(), *[p.grad.numpy() for p in model.parameters()]]


def test_the_reference_interpreter_agrees_with_compiled_programs():
    x = torch.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    y = torch.tensor([0, 1, 1, 0])
    compiled = _mlp_gradients(x, y)
    compiles = cache.PROGRAMS.compiles
    with reference.interpreting():
        interpreted = _mlp_gradients(x, y)
    assert cache.PROGRAMS.compiles == compiles  # nothing was compiled under the interpreter
    for ours, theirs in zip(interpreted, compiled):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_the_reference_interpreter_evaluates_op_by_op():
    double = engine.Op("double", lambda v: v * 2)
    x = engine.source(jnp.arange(3.0))
    y = engine.Expr(double, (), (x,), (False,), (3,), x.dtype, False)
    z = engine.Expr(double, (), (y,), (False,), (3,), x.dtype, False)
    assert reference.evaluate(z).tolist() == [0.0, 4.0, 8.0]
    assert y.value is None  # nothing settled on the way


@pytest.mark.parametrize("interpreted", [False, True])
def test_a_second_backward_through_a_freed_graph_raises(interpreted):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with reference.interpreting() if interpreted else np.errstate():
        y = (x.exp() * 2).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()


def test_a_small_tensor_made_from_data_moves_to_the_device_once_a_program_takes_it():
    t = torch.tensor([1.0, 2.0, 3.0])
    expr = t._current_expr()
    assert isinstance(expr.value, np.ndarray)  # no transfer for a value only the host may read
    (t.exp() * 2).sum().item()
    moved = expr.value
    assert isinstance(moved, jax.Array)
    (t.exp() * 3).sum().item()
    assert expr.value is moved  # moved once, not at every program
