"""`nablax.stateful.optim` against `torch.optim`: the same model, weights and data trained a
few steps with `zero_grad(); loss.backward(); step()` ends at the same parameters."""

import copy

import numpy as np
import pytest
from conftest import to_numpy

import nablax.stateful as nxt

ATOL = 1e-5
STEPS = 6
RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 3)).astype(np.float32)
Y = RNG.standard_normal((8, 2)).astype(np.float32)


@pytest.fixture(scope="module")
def initial(torch):
    """The starting weights, drawn once by PyTorch and loaded into both models."""
    torch.manual_seed(0)
    return {k: v.detach().numpy().copy() for k, v in make_model(torch).state_dict().items()}


def make_model(T, weights=None):
    model = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.Tanh(), T.nn.Linear(4, 2))
    if weights is not None:
        model.load_state_dict({k: T.tensor(v) for k, v in weights.items()})
    return model


def train_step(T, model, optimizer, forward=None):
    optimizer.zero_grad()
    out = (forward or model)(T.tensor(X))
    loss = T.nn.functional.mse_loss(out, T.tensor(Y))
    loss.backward()
    optimizer.step()
    return loss.item()


def weights_of(model):
    return {k: to_numpy(v).copy() for k, v in model.state_dict().items()}


def assert_same_weights(ours, theirs):
    assert list(ours) == list(theirs)
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], atol=ATOL, rtol=1e-5, err_msg=name)


def train_both(torch, initial, make_optimizer, steps=STEPS, between=None):
    """Trains the model in both frameworks; `between(T, optimizer, step)` runs after each step."""
    finals, losses = [], []
    for T in (torch, nxt):
        model = make_model(T, initial)
        optimizer = make_optimizer(T, model)
        history = []
        for step in range(steps):
            history.append(train_step(T, model, optimizer))
            if between is not None:
                between(T, optimizer, step)
        finals.append(weights_of(model))
        losses.append(history)
    np.testing.assert_allclose(losses[1], losses[0], atol=ATOL, rtol=1e-5)
    assert_same_weights(finals[1], finals[0])
    assert not np.allclose(finals[1]["0.weight"], initial["0.weight"])  # it did train


OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd-momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "sgd-dampening": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    "sgd-nesterov": ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True)),
    "sgd-weight_decay": ("SGD", dict(lr=0.1, weight_decay=0.1)),
    "sgd-maximize": ("SGD", dict(lr=0.01, maximize=True)),
    "sgd-everything": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.05, maximize=True)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam-options": ("Adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    "adam-maximize": ("Adam", dict(lr=0.01, maximize=True)),
    "adamw": ("AdamW", dict(lr=0.01)),
    "adamw-options": ("AdamW", dict(lr=0.02, betas=(0.7, 0.9), weight_decay=0.5)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop-centered": ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    "rmsprop-momentum": ("RMSprop", dict(lr=0.01, momentum=0.9)),
    "rmsprop-everything": ("RMSprop", dict(lr=0.01, alpha=0.95, eps=1e-6, weight_decay=0.1, momentum=0.5,
                                           centered=True)),
}


@pytest.mark.parametrize("case", list(OPTIMIZERS))
def test_optimizers_train_like_torch(torch, initial, case):
    name, options = OPTIMIZERS[case]
    train_both(torch, initial, lambda T, model: getattr(T.optim, name)(model.parameters(), **options))


def test_changing_lr_mid_training_takes_effect_like_torch(torch, initial):
    def lower_lr(T, optimizer, step):
        if step == 2:
            optimizer.param_groups[0]["lr"] = 0.01
        if step == 4:
            optimizer.param_groups[0]["lr"] = 0.2

    train_both(torch, initial, lambda T, model: T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), between=lower_lr)
    train_both(torch, initial, lambda T, model: T.optim.Adam(model.parameters(), lr=0.05), between=lower_lr)


def test_changing_other_hyperparameters_mid_training(torch, initial):
    def turn_on_momentum(T, optimizer, step):
        if step == 1:
            optimizer.param_groups[0]["momentum"] = 0.9  # PyTorch starts a momentum buffer here
        if step == 3:
            optimizer.param_groups[0]["momentum"] = 0.5  # and keeps it here
            optimizer.param_groups[0]["weight_decay"] = 0.1

    train_both(torch, initial, lambda T, model: T.optim.SGD(model.parameters(), lr=0.1), between=turn_on_momentum)


def test_parameter_groups_with_their_own_options(torch, initial):
    def make(T, model):
        return T.optim.Adam([
            {"params": model[0].parameters()},
            {"params": model[2].parameters(), "lr": 0.05, "betas": (0.5, 0.6)},
        ], lr=0.01)

    def vary(T, optimizer, step):
        optimizer.param_groups[1]["lr"] *= 0.5

    train_both(torch, initial, make, between=vary)
    train_both(torch, initial, lambda T, model: T.optim.SGD([
        {"params": [model[0].weight], "lr": 0.3, "momentum": 0.5},
        {"params": [model[0].bias, model[2].weight, model[2].bias]},
    ], lr=0.05))


def test_parameters_without_grad_are_skipped_like_torch(torch, initial):
    finals = []
    for T in (torch, nxt):
        model = make_model(T, initial)
        optimizer = T.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.1)  # decay would move them too
        for step in range(STEPS):
            if step % 2:  # only the last layer gets gradients on odd steps
                first = model[0](T.tensor(X)).detach()
                train_step(T, model, optimizer, forward=lambda x: model[2](T.tanh(first)))
                assert model[0].weight.grad is None and model[2].weight.grad is not None
            else:
                train_step(T, model, optimizer)
        frozen = make_model(T, initial)
        frozen_optimizer = T.optim.SGD(frozen.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
        frozen_optimizer.step()  # no gradients anywhere: nothing moves
        assert_same_weights(weights_of(frozen), initial)
        finals.append(weights_of(model))
    assert_same_weights(finals[1], finals[0])


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01))])
def test_a_training_loop_stops_compiling_after_warming_up(name, options):
    from nablax.stateful.engine import cache as program_cache

    model = make_model(nxt)
    optimizer = getattr(nxt.optim, name)(model.parameters(), **options)
    for _ in range(4):  # the first steps differ: no pending update, then no optimizer state yet
        train_step(nxt, model, optimizer)
    compiles = program_cache.PROGRAMS.compiles
    for _ in range(4):
        train_step(nxt, model, optimizer)
    assert program_cache.PROGRAMS.compiles == compiles  # each step is one cached program, not a growing chain


def test_a_loop_with_batch_norm_stops_compiling_after_warming_up():
    """The running statistics are a chain from step to step; each step's backward computes
    them, so the chain must not grow until a deep graph is cut at a new place every step."""
    from nablax.stateful.engine import cache as program_cache, graph

    model = nxt.nn.Sequential(nxt.nn.Linear(3, 4), nxt.nn.BatchNorm1d(4), nxt.nn.Tanh(), nxt.nn.Linear(4, 2))
    optimizer = nxt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = nxt.tensor(X), nxt.tensor(Y)

    def step():  # no `.item()`: nothing but the backward pass computes pending values
        optimizer.zero_grad()
        nxt.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()

    for _ in range(4):
        step()
    compiles, depth = program_cache.PROGRAMS.compiles, model[1].running_mean._current_expr().depth
    for _ in range(2 * graph.MAX_PENDING_DEPTH):
        step()
    assert program_cache.PROGRAMS.compiles == compiles
    assert model[1].running_mean._current_expr().depth == depth


def test_zero_grad_sets_grads_to_none(torch, initial):
    for T in (torch, nxt):
        model = make_model(T, initial)
        optimizer = T.optim.SGD(model.parameters(), lr=0.1)
        model(T.tensor(X)).sum().backward()
        assert all(p.grad is not None for p in model.parameters())
        optimizer.zero_grad()
        assert all(p.grad is None for p in model.parameters())
        model(T.tensor(X)).sum().backward()
        optimizer.zero_grad(set_to_none=False)
        assert all(p.grad is not None and float(p.grad.abs().sum()) == 0.0 for p in model.parameters())


def test_gradients_accumulate_without_zero_grad_like_torch(torch, initial):
    finals = []
    for T in (torch, nxt):
        model = make_model(T, initial)
        optimizer = T.optim.SGD(model.parameters(), lr=0.05)
        for _ in range(3):
            T.nn.functional.mse_loss(model(T.tensor(X)), T.tensor(Y)).backward()
            optimizer.step()
        finals.append(weights_of(model))
    assert_same_weights(finals[1], finals[0])


def test_constructor_errors_match_torch(torch):
    def pair(build):
        outcomes = []
        for T in (torch, nxt):
            layer = T.nn.Linear(2, 2)
            try:
                build(T, layer)
                outcomes.append(("ok", ""))
            except Exception as error:  # noqa: BLE001 - compared across frameworks
                outcomes.append((type(error).__name__, str(error)))
        assert outcomes[0][0] != "ok"
        assert outcomes[1] == outcomes[0]
        return outcomes[1]

    assert pair(lambda T, m: T.optim.SGD(m.parameters(), lr=-1)) == ("ValueError", "Invalid learning rate: -1")
    pair(lambda T, m: T.optim.Adam(m.parameters(), lr=-0.5))
    pair(lambda T, m: T.optim.RMSprop(m.parameters(), lr=-0.5))
    assert pair(lambda T, m: T.optim.SGD([], lr=0.1)) == ("ValueError", "optimizer got an empty parameter list")
    assert pair(lambda T, m: T.optim.SGD(m.weight, lr=0.1))[0] == "TypeError"
    pair(lambda T, m: T.optim.SGD(m.parameters(), lr=0.1, nesterov=True))
    pair(lambda T, m: T.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True))
    pair(lambda T, m: T.optim.SGD(m.parameters(), lr=0.1, momentum=-0.1))
    pair(lambda T, m: T.optim.SGD(m.parameters(), lr=0.1, weight_decay=-0.1))
    pair(lambda T, m: T.optim.Adam(m.parameters(), betas=(1.0, 0.9)))
    pair(lambda T, m: T.optim.Adam(m.parameters(), betas=(0.9, -0.1)))
    pair(lambda T, m: T.optim.Adam(m.parameters(), eps=-1e-8))
    pair(lambda T, m: T.optim.RMSprop(m.parameters(), alpha=-1))
    pair(lambda T, m: T.optim.SGD([m.weight * 2], lr=0.1))
    pair(lambda T, m: T.optim.SGD([1.0], lr=0.1))
    pair(lambda T, m: T.optim.SGD([{"params": m.weight}, {"params": [m.weight]}], lr=0.1))
    for T in (torch, nxt):
        with pytest.warns(UserWarning, match="duplicate parameters"):
            T.optim.SGD([T.nn.Linear(1, 1).weight] * 2, lr=0.1)


def test_defaults_param_groups_and_repr_match_torch(torch):
    for name, options in [("SGD", {}), ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {}), ("AdamW", {}),
                          ("RMSprop", {})]:
        groups = []
        for T in (torch, nxt):
            layer = T.nn.Linear(2, 2)
            optimizer = getattr(T.optim, name)(layer.parameters(), **options)
            group = dict(optimizer.param_groups[0])
            assert group.pop("params")[0] is layer.weight
            groups.append(list(group.items()))
        assert groups[1] == groups[0], name

    def two_groups(T):
        layer = T.nn.Linear(2, 2)
        return repr(T.optim.SGD([{"params": [layer.weight]}, {"params": [layer.bias], "lr": 0.01}], lr=0.1))

    assert two_groups(nxt) == two_groups(torch)


def test_state_dict_round_trip_continues_training_identically(torch, initial):
    for name, options in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)),
                          ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))]:
        finals = []
        for T in (torch, nxt):
            model = make_model(T, initial)
            optimizer = getattr(T.optim, name)(model.parameters(), **options)
            for _ in range(3):
                train_step(T, model, optimizer)
            saved_model, saved = copy.deepcopy(weights_of(model)), copy.deepcopy(optimizer.state_dict())
            assert sorted(saved) == ["param_groups", "state"] and sorted(saved["state"]) == [0, 1, 2, 3]
            assert saved["param_groups"][0]["params"] == [0, 1, 2, 3]
            assert saved["param_groups"][0]["lr"] == options["lr"]

            restored = make_model(T, saved_model)
            restored_optimizer = getattr(T.optim, name)(restored.parameters(), lr=123.0)
            restored_optimizer.load_state_dict(saved)
            assert restored_optimizer.param_groups[0]["lr"] == options["lr"]
            for _ in range(3):
                train_step(T, model, optimizer)
                train_step(T, restored, restored_optimizer)
            assert_same_weights(weights_of(restored), weights_of(model))
            finals.append(weights_of(restored))
        assert_same_weights(finals[1], finals[0])

    layer = nxt.nn.Linear(2, 2)
    saved = nxt.optim.SGD([layer.weight], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        nxt.optim.SGD(layer.parameters(), lr=0.1).load_state_dict(saved)


def test_step_with_a_closure_returns_its_loss(torch, initial):
    results = []
    for T in (torch, nxt):
        model = make_model(T, initial)
        optimizer = T.optim.SGD(model.parameters(), lr=0.1)

        def closure():
            optimizer.zero_grad()
            loss = T.nn.functional.mse_loss(model(T.tensor(X)), T.tensor(Y))
            loss.backward()
            return loss

        results.append((optimizer.step(closure).item(), weights_of(model)))
    assert results[1][0] == pytest.approx(results[0][0], abs=ATOL)
    assert_same_weights(results[1][1], results[0][1])


def test_switched_off_numbers_are_no_program_arguments():
    """A plain SGD step's update takes the parameters, their gradients and the learning rate
    only: momentum, dampening and weight decay at zero switch their part of the rule off and
    are left out of the program (each argument costs a dispatch every step); a nonzero one
    is an argument, so that changing it keeps the program."""
    from nablax.stateful import engine

    layer = nxt.nn.Linear(3, 2)

    def update_inputs(**options) -> int:
        optimizer = nxt.optim.SGD(layer.parameters(), lr=0.1, **options)
        layer(nxt.ones(4, 3)).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
        update = engine.strip(layer.weight._current_expr()).inputs[0]
        assert update.op.name == "optimizer_step"
        return len(update.inputs)

    assert update_inputs() == 2 + 2 + 1
    assert update_inputs(momentum=0.9) == 2 + 2 + 2
    assert update_inputs(momentum=0.9, dampening=0.1, weight_decay=0.01) == 2 + 2 + 4


def test_a_rule_without_state_asks_for_none(monkeypatch):
    """Plain SGD keeps no state: its step neither looks for held state nor keeps any (two calls
    a parameter saved on every step); with momentum it does both."""
    asked = []
    for name in ("_held_state", "_keep_state"):
        real = getattr(nxt.optim.Optimizer, name)
        monkeypatch.setattr(nxt.optim.Optimizer, name,
                            lambda self, *args, name=name, real=real: asked.append(name) or real(self, *args))
    layer = nxt.nn.Linear(3, 2)
    for options, expected in (({}, []), ({"momentum": 0.9}, ["_held_state", "_keep_state"] * 2)):
        asked.clear()
        optimizer = nxt.optim.SGD(layer.parameters(), lr=0.1, **options)
        layer(nxt.ones(4, 3)).sum().backward()
        optimizer.step()
        assert sorted(asked) == sorted(expected)
        assert len(optimizer.state) == (0 if not options else 2)
