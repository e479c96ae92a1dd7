"""The bridge between the faces: `func.functional_call`, `Module.to_functional()` and
`load_state_dict` of functional params, checked against the stateful forward and against
`torch.func.functional_call`."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import to_numpy

import nablax as nx
import nablax.stateful as nxt

ATOL = 1e-5
RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 3)).astype(np.float32)
Y = RNG.standard_normal((6, 2)).astype(np.float32)


def make_net(T):
    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = T.nn.Linear(3, 4)
            self.drop = T.nn.Dropout(0.5)
            self.out = T.nn.Linear(4, 2)
            self.register_buffer("shift", T.full((2,), 0.25))

        def forward(self, x):
            return self.out(self.drop(T.tanh(self.hidden(x)))) + self.shift

    return Net()


@pytest.fixture
def pair(torch):
    """The same network (weights from PyTorch) in both frameworks, in evaluation mode."""
    theirs = make_net(torch).eval()
    ours = make_net(nxt).eval()
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def test_functional_call_with_tensors_and_arrays_matches_torch(torch, pair):
    theirs, ours = pair
    replacement = {"out.bias": np.array([1.0, -2.0], np.float32), "hidden.weight": np.full((4, 3), 0.1, np.float32)}
    expected = torch.func.functional_call(theirs, {k: torch.tensor(v) for k, v in replacement.items()},
                                          (torch.tensor(X),))
    with_tensors = nxt.func.functional_call(ours, {k: nxt.tensor(v) for k, v in replacement.items()}, (nxt.tensor(X),))
    with_arrays = nxt.func.functional_call(ours, {k: jnp.asarray(v) for k, v in replacement.items()}, nxt.tensor(X))
    for got in (with_tensors, with_arrays):
        np.testing.assert_allclose(to_numpy(got.detach()), to_numpy(expected), atol=ATOL)
    # The module's own tensors are back in place afterwards.
    np.testing.assert_allclose(to_numpy(ours(nxt.tensor(X)).detach()), to_numpy(theirs(torch.tensor(X))), atol=ATOL)
    assert isinstance(ours.out.bias, nxt.nn.Parameter)

    # Several dicts, nested (functional) params, and torch's errors.
    split = ({"hidden.weight": nxt.zeros(4, 3)}, {"out": {"bias": jnp.zeros(2, jnp.float32)}})
    np.testing.assert_allclose(to_numpy(nxt.func.functional_call(ours, split, (nxt.tensor(X),)).detach()),
                               to_numpy(torch.func.functional_call(
                                   theirs, ({"hidden.weight": torch.zeros(4, 3)}, {"out.bias": torch.zeros(2)}),
                                   (torch.tensor(X),))), atol=ATOL)
    for build in [
        lambda T, m: T.func.functional_call(m, {"nope": T.zeros(1)}, (T.tensor(X),), strict=True),
        lambda T, m: T.func.functional_call(m, {"out.bias": T.zeros(2)}, (T.tensor(X),), strict=True),
        lambda T, m: T.func.functional_call(m, ({"out.bias": T.zeros(2)}, {"out.bias": T.ones(2)}), (T.tensor(X),)),
    ]:
        outcomes = []
        for T, module in ((torch, theirs), (nxt, ours)):
            with pytest.raises(Exception) as caught:
                build(T, module)
            outcomes.append((caught.type.__name__, str(caught.value)))
        assert outcomes[1] == outcomes[0]


def test_functional_call_differentiates_the_given_tensors_only(pair):
    _, ours = pair
    given = {name: p.detach().clone().requires_grad_(True) for name, p in ours.named_parameters()}
    nxt.func.functional_call(ours, given, (nxt.tensor(X),)).sum().backward()
    assert all(given[name].grad is not None for name in given)
    assert all(p.grad is None for p in ours.parameters())  # the module's own parameters took no gradient
    ours.zero_grad()
    ours(nxt.tensor(X)).sum().backward()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(to_numpy(given[name].grad), to_numpy(p.grad), atol=ATOL, err_msg=name)


def test_functional_call_swaps_tied_weights_together():
    class Tied(nxt.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nxt.nn.Linear(2, 2, bias=False)
            self.b = nxt.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    tied = Tied()
    assert list(tied.state_dict()) == ["a.weight", "b.weight"]
    identity = {"a.weight": nxt.eye(2)}
    assert nxt.func.functional_call(tied, identity, nxt.ones(1, 2)).tolist() == [[1.0, 1.0]]
    untied = nxt.func.functional_call(tied, identity, nxt.ones(1, 2), tie_weights=False)
    np.testing.assert_allclose(to_numpy(untied.detach()), to_numpy(tied.b(nxt.ones(1, 2)).detach()), atol=ATOL)


def test_to_functional_gives_a_pure_function_jax_can_jit_and_differentiate(torch, pair):
    theirs, ours = pair
    apply_fn, params = ours.to_functional()
    assert jax.tree_util.tree_structure(params) == jax.tree_util.tree_structure(
        {"hidden": {"weight": 0, "bias": 0}, "out": {"weight": 0, "bias": 0}, "shift": 0})
    assert params["hidden"]["weight"].shape == (4, 3) and params["hidden"]["weight"].dtype == jnp.float32
    assert all(isinstance(leaf, jax.Array) for leaf in jax.tree_util.tree_leaves(params))

    expected = to_numpy(theirs(torch.tensor(X)))
    eager = apply_fn(params, X)
    jitted = jax.jit(apply_fn)(params, jnp.asarray(X))
    assert isinstance(eager, jax.Array) and isinstance(jitted, jax.Array)
    np.testing.assert_allclose(np.asarray(eager), expected, atol=ATOL)
    np.testing.assert_allclose(np.asarray(jitted), expected, atol=ATOL)
    np.testing.assert_allclose(np.asarray(eager), to_numpy(ours(nxt.tensor(X)).detach()), atol=ATOL)

    def loss_fn(params):
        return jnp.mean((apply_fn(params, X) - Y) ** 2)

    grads = jax.jit(jax.grad(loss_fn))(params)
    theirs.zero_grad()
    torch.nn.functional.mse_loss(theirs(torch.tensor(X)), torch.tensor(Y)).backward()
    for name, p in theirs.named_parameters():
        module, leaf = name.split(".")
        np.testing.assert_allclose(np.asarray(grads[module][leaf]), to_numpy(p.grad), atol=ATOL, err_msg=name)

    # Pure: other params give other outputs, and the module itself is untouched.
    zeroed = jax.tree_util.tree_map(jnp.zeros_like, params)
    np.testing.assert_allclose(np.asarray(jax.jit(apply_fn)(zeroed, X)), np.zeros((6, 2)), atol=ATOL)
    np.testing.assert_allclose(to_numpy(ours(nxt.tensor(X)).detach()), expected, atol=ATOL)
    ours.train()
    apply_fn(params, X)
    assert ours.training  # the module's mode is restored after an evaluation-mode call


def test_training_statefully_equals_training_functionally(torch, pair):
    _, ours = pair
    apply_fn, start = ours.to_functional()
    learning_rate, steps = 0.1, 5

    optimizer = nxt.optim.SGD(ours.parameters(), lr=learning_rate)
    for _ in range(steps):
        optimizer.zero_grad()
        nxt.nn.functional.mse_loss(ours(nxt.tensor(X)), nxt.tensor(Y)).backward()
        optimizer.step()

    transform = optax.sgd(learning_rate)

    @jax.jit
    def step(params, opt_state):
        trainable = {k: v for k, v in params.items() if k != "shift"}
        loss_fn = lambda p: jnp.mean((apply_fn({**p, "shift": params["shift"]}, X) - Y) ** 2)  # noqa: E731
        grads = jax.grad(loss_fn)(trainable)
        updates, opt_state = transform.update(grads, opt_state, trainable)
        return {**optax.apply_updates(trainable, updates), "shift": params["shift"]}, opt_state

    params, opt_state = start, transform.init({k: v for k, v in start.items() if k != "shift"})
    for _ in range(steps):
        params, opt_state = step(params, opt_state)

    trained = ours.state_dict()
    assert not np.allclose(to_numpy(trained["hidden.weight"]), np.asarray(start["hidden"]["weight"]))
    for name, value in nx.state_dict(params).items():
        np.testing.assert_allclose(to_numpy(trained[name]), np.asarray(value), atol=ATOL, err_msg=name)

    # The functional result goes back into a stateful module (and on to PyTorch) unchanged.
    fresh = make_net(nxt).eval()
    assert repr(fresh.load_state_dict(params)) == "<All keys matched successfully>"
    np.testing.assert_allclose(to_numpy(fresh(nxt.tensor(X)).detach()), np.asarray(apply_fn(params, X)), atol=ATOL)
    theirs = make_net(torch).eval()
    theirs.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in fresh.state_dict().items()})
    np.testing.assert_allclose(to_numpy(theirs(torch.tensor(X))), np.asarray(apply_fn(params, X)), atol=ATOL)
