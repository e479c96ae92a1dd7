"""`nablax.stateful.optim.lr_scheduler` against `torch.optim.lr_scheduler`: the same
schedulers over the same optimizers give PyTorch's lrs (and momenta) to the last bit, step
after step, for parameters drawn by hypothesis; state dicts, warnings and errors are
PyTorch's; and a training loop under a schedule compiles nothing new as the lr moves."""

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nablax.stateful as nxt

LRS = st.lists(st.floats(1e-4, 1.0), min_size=1, max_size=3)
GAMMAS = st.floats(0.05, 0.99)
STEPS = st.integers(0, 40)


def make_optimizer(T, lrs, kind="SGD"):
    """An optimizer with one parameter group per lr (SGD with momentum, or Adam)."""
    groups = [{"params": [T.nn.Parameter(T.zeros(2))], "lr": lr} for lr in lrs]
    return T.optim.SGD(groups, momentum=0.9) if kind == "SGD" else T.optim.Adam(groups)


def snapshot(scheduler, optimizer):
    """What a step leaves behind: the scheduler's last lrs and each group's numbers."""
    groups = [(g["lr"], g.get("momentum"), g.get("betas"), g.get("initial_lr")) for g in optimizer.param_groups]
    return list(scheduler.get_last_lr()), groups


def run(T, make_scheduler, lrs, steps, kind="SGD", metrics=None):
    optimizer = make_optimizer(T, lrs, kind)
    scheduler = make_scheduler(T.optim.lr_scheduler, optimizer)
    history = [snapshot(scheduler, optimizer)]
    for step in range(steps):
        optimizer.step()  # no gradients: nothing moves, but it counts as the optimizer's step
        scheduler.step() if metrics is None else scheduler.step(metrics[step])
        history.append(snapshot(scheduler, optimizer))
    return history, scheduler.state_dict()


def outcome(T, make_scheduler, lrs, steps, kind, metrics):
    """The run's history and state dict, or the error it raised (degenerate parameters)."""
    try:
        return run(T, make_scheduler, lrs, steps, kind, metrics)
    except Exception as error:  # noqa: BLE001 - compared across frameworks
        return type(error).__name__, str(error)


def assert_same_schedule(torch, make_scheduler, lrs, steps, kind="SGD", metrics=None):
    """PyTorch's lrs exactly (the same float operations in the same order), and its state dict."""
    theirs = outcome(torch, make_scheduler, lrs, steps, kind, metrics)
    ours = outcome(nxt, make_scheduler, lrs, steps, kind, metrics)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]


@given(lrs=LRS, step_size=st.integers(1, 10), gamma=GAMMAS, steps=STEPS)
def test_step_lr(torch, lrs, step_size, gamma, steps):
    assert_same_schedule(torch, lambda L, o: L.StepLR(o, step_size, gamma=gamma), lrs, steps)


@given(lrs=LRS, milestones=st.lists(st.integers(1, 30), max_size=5), gamma=GAMMAS, steps=STEPS)
def test_multi_step_lr(torch, lrs, milestones, gamma, steps):
    assert_same_schedule(torch, lambda L, o: L.MultiStepLR(o, milestones, gamma=gamma), lrs, steps)


@given(lrs=LRS, gamma=GAMMAS, steps=STEPS)
def test_exponential_lr(torch, lrs, gamma, steps):
    assert_same_schedule(torch, lambda L, o: L.ExponentialLR(o, gamma), lrs, steps)


@given(lrs=LRS, period=st.integers(1, 15), eta_min=st.sampled_from([0.0, 1e-5, 1e-3]), steps=st.integers(0, 50))
def test_cosine_annealing_lr_through_its_restarts(torch, lrs, period, eta_min, steps):
    assert_same_schedule(torch, lambda L, o: L.CosineAnnealingLR(o, period, eta_min=eta_min), lrs, steps)


LAMBDAS = [lambda epoch: 0.95**epoch, lambda epoch: 1 / (epoch + 1), lambda epoch: epoch // 3 + 1]


@given(lrs=LRS, choice=st.integers(0, len(LAMBDAS) - 1), per_group=st.booleans(), steps=STEPS)
def test_lambda_lr(torch, lrs, choice, per_group, steps):
    chosen = [LAMBDAS[(choice + i) % len(LAMBDAS)] for i in range(len(lrs))] if per_group else LAMBDAS[choice]
    assert_same_schedule(torch, lambda L, o: L.LambdaLR(o, chosen), lrs, steps)


@given(lrs=LRS, start=st.floats(0.01, 1.0), end=st.floats(0.0, 1.0), total=st.integers(1, 12), steps=STEPS)
def test_linear_lr(torch, lrs, start, end, total, steps):
    assert_same_schedule(torch, lambda L, o: L.LinearLR(o, start, end, total), lrs, steps)


@given(lrs=LRS, max_lr=st.floats(0.01, 2.0), total=st.integers(2, 40), pct=st.floats(0.05, 0.95),
       strategy=st.sampled_from(["cos", "linear"]), three_phase=st.booleans(), kind=st.sampled_from(["SGD", "Adam"]),
       cycle_momentum=st.booleans(), div_factor=st.floats(2.0, 50.0))
def test_one_cycle_lr_with_its_momentum(torch, lrs, max_lr, total, pct, strategy, three_phase, kind, cycle_momentum,
                                        div_factor):
    def make(L, optimizer):
        return L.OneCycleLR(optimizer, max_lr, total_steps=total, pct_start=pct, anneal_strategy=strategy,
                            three_phase=three_phase, cycle_momentum=cycle_momentum, div_factor=div_factor)

    assert_same_schedule(torch, make, lrs, total - 1, kind)


@given(lrs=LRS, first=st.sampled_from(["linear", "step", "exponential"]), second=st.sampled_from(["cosine", "lambda"]),
       milestone=st.integers(1, 10), steps=STEPS)
def test_sequential_lr(torch, lrs, first, second, milestone, steps):
    def make(L, optimizer):
        schedulers = {
            "linear": lambda: L.LinearLR(optimizer, 0.1, 1.0, total_iters=4),
            "step": lambda: L.StepLR(optimizer, 3, gamma=0.5),
            "exponential": lambda: L.ExponentialLR(optimizer, 0.8),
            "cosine": lambda: L.CosineAnnealingLR(optimizer, 7, eta_min=1e-4),
            "lambda": lambda: L.LambdaLR(optimizer, LAMBDAS[0]),
        }
        return L.SequentialLR(optimizer, [schedulers[first](), schedulers[second]()], milestones=[milestone])

    assert_same_schedule(torch, make, lrs, steps)


@given(lrs=LRS, mode=st.sampled_from(["min", "max"]), threshold_mode=st.sampled_from(["rel", "abs"]),
       factor=st.floats(0.1, 0.9), patience=st.integers(0, 4), cooldown=st.integers(0, 3),
       min_lr=st.sampled_from([0, 1e-3, "per group"]), metrics=st.lists(st.sampled_from([1.0, 0.9, 0.8999, 0.5, 2.0]),
                                                                         max_size=40))
def test_reduce_lr_on_plateau(torch, lrs, mode, threshold_mode, factor, patience, cooldown, min_lr, metrics):
    floor = [1e-3 * (i + 1) for i in range(len(lrs))] if min_lr == "per group" else min_lr

    def make(L, optimizer):
        return L.ReduceLROnPlateau(optimizer, mode=mode, factor=factor, patience=patience, threshold=1e-3,
                                   threshold_mode=threshold_mode, cooldown=cooldown, min_lr=floor)

    assert_same_schedule(torch, make, lrs, len(metrics), metrics=metrics)


@pytest.mark.parametrize("name, make", [
    ("StepLR", lambda L, o: L.StepLR(o, 4, gamma=0.5)),
    ("MultiStepLR", lambda L, o: L.MultiStepLR(o, [2, 5, 5], gamma=0.5)),
    ("ExponentialLR", lambda L, o: L.ExponentialLR(o, 0.9)),
    ("CosineAnnealingLR", lambda L, o: L.CosineAnnealingLR(o, 6, eta_min=0.01)),
    ("LinearLR", lambda L, o: L.LinearLR(o, 0.2, 0.9, 5)),
    ("LambdaLR", lambda L, o: L.LambdaLR(o, LAMBDAS[1])),
])
def test_step_with_an_epoch_uses_the_closed_form_and_warns(torch, name, make):
    outcomes = []
    for T in (torch, nxt):
        optimizer = make_optimizer(T, [0.1, 0.3])
        scheduler = make(T.optim.lr_scheduler, optimizer)
        optimizer.step()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lrs = []
            for epoch in (3, 7, 1, 12):
                scheduler.step(epoch)
                lrs.append(scheduler.get_last_lr())
        outcomes.append((lrs, [str(w.message) for w in caught], scheduler.last_epoch))
    assert outcomes[1] == outcomes[0]
    assert "deprecated" in outcomes[0][1][0]


def test_resuming_from_state_dicts_continues_the_schedule(torch):
    def make(L, optimizer):
        return L.SequentialLR(optimizer, [L.LinearLR(optimizer, 0.1, total_iters=3), L.CosineAnnealingLR(optimizer, 8)],
                              milestones=[3])

    lrs = []
    for T in (torch, nxt):
        optimizer = make_optimizer(T, [0.1, 0.2], "Adam")
        scheduler = make(T.optim.lr_scheduler, optimizer)
        for _ in range(5):
            optimizer.step()
            scheduler.step()
        saved_optimizer, saved_scheduler = optimizer.state_dict(), scheduler.state_dict()
        optimizer = make_optimizer(T, [9.0, 9.0], "Adam")
        scheduler = make(T.optim.lr_scheduler, optimizer)
        optimizer.load_state_dict(saved_optimizer)
        scheduler.load_state_dict(saved_scheduler)
        history = []
        for _ in range(8):
            optimizer.step()
            scheduler.step()
            history.append(scheduler.get_last_lr())
        lrs.append(history)
    assert lrs[1] == lrs[0]


def warnings_of(action):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [(w.category.__name__, str(w.message)) for w in caught]


def test_torchs_warnings(torch):
    def scheduler_first(T):
        optimizer = make_optimizer(T, [0.1])
        scheduler = T.optim.lr_scheduler.StepLR(optimizer, 2)
        return warnings_of(lambda: (scheduler.step(), optimizer.step(), scheduler.step()))

    def step_replaced(T):
        optimizer = make_optimizer(T, [0.1])
        scheduler = T.optim.lr_scheduler.ExponentialLR(optimizer, 0.5)
        optimizer.step = lambda closure=None: None
        return warnings_of(scheduler.step)

    def get_lr_outside_step(T):
        scheduler = T.optim.lr_scheduler.CosineAnnealingLR(make_optimizer(T, [0.1]), 5)
        return warnings_of(scheduler.get_lr)

    def in_order(T):
        optimizer = make_optimizer(T, [0.1])
        scheduler = T.optim.lr_scheduler.StepLR(optimizer, 2)
        return warnings_of(lambda: [(optimizer.step(), scheduler.step()) for _ in range(3)])

    for case in (scheduler_first, step_replaced, get_lr_outside_step, in_order):
        expected = case(torch)
        assert case(nxt) == expected, case.__name__
        assert bool(expected) == (case is not in_order)


def test_constructor_and_step_errors_match_torch(torch):
    def outcome(T, make):
        optimizer = make_optimizer(T, [0.1, 0.2])
        try:
            make(T.optim.lr_scheduler, optimizer, T)
        except Exception as error:  # noqa: BLE001 - compared across frameworks
            return type(error).__name__, str(error).replace(hex(id(optimizer)), "0x")
        return "ok", ""

    def one_cycle_past_the_end(L, optimizer, T):
        scheduler = L.OneCycleLR(optimizer, 1.0, total_steps=3)
        for _ in range(4):
            optimizer.step()
            scheduler.step()

    cases = [
        lambda L, o, T: L.LinearLR(o, start_factor=0),
        lambda L, o, T: L.LinearLR(o, end_factor=1.5),
        lambda L, o, T: L.LambdaLR(o, [LAMBDAS[0]]),
        lambda L, o, T: L.StepLR(o, 2, last_epoch=3),
        lambda L, o, T: L.StepLR("not an optimizer", 2),
        lambda L, o, T: L.ReduceLROnPlateau(o, factor=1.0),
        lambda L, o, T: L.ReduceLROnPlateau(o, mode="up"),
        lambda L, o, T: L.ReduceLROnPlateau(o, threshold_mode="relative"),
        lambda L, o, T: L.ReduceLROnPlateau(o, min_lr=[0.1]),
        lambda L, o, T: L.OneCycleLR(o, 1.0),
        lambda L, o, T: L.OneCycleLR(o, 1.0, total_steps=0),
        lambda L, o, T: L.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=0),
        lambda L, o, T: L.OneCycleLR(o, 1.0, total_steps=5, pct_start=1),
        lambda L, o, T: L.OneCycleLR(o, 1.0, total_steps=5, anneal_strategy="cosine"),
        lambda L, o, T: L.OneCycleLR(o, [1.0], total_steps=5),
        lambda L, o, T: L.OneCycleLR(T.optim.Adagrad(o.param_groups[0]["params"]), 1.0, total_steps=5),
        one_cycle_past_the_end,
        lambda L, o, T: L.SequentialLR(o, [], milestones=[]),
        lambda L, o, T: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], milestones=[]),
        lambda L, o, T: L.SequentialLR(o, [L.ReduceLROnPlateau(o)], milestones=[]),
    ]
    for index, make in enumerate(cases):
        expected = outcome(torch, make)
        assert expected[0] != "ok", index
        assert outcome(nxt, make) == expected, index


def compiled_programs():
    """Programs built and executables held by the stateful engine's program cache."""
    from nablax.stateful.engine import cache

    return cache.PROGRAMS.compiles, cache.PROGRAMS.compiled


@pytest.mark.parametrize("kind, make", [
    ("Adam", lambda L, o: L.CosineAnnealingLR(o, 10)),
    ("SGD", lambda L, o: L.OneCycleLR(o, 0.5, total_steps=12)),  # cycles the momentum too
    ("Adam", lambda L, o: L.OneCycleLR(o, 0.05, total_steps=12)),  # cycles beta1
])
def test_training_under_a_schedule_matches_torch_and_never_recompiles(torch, kind, make):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32)
    torch.manual_seed(0)
    initial = {k: v.detach().numpy().copy() for k, v in torch.nn.Linear(3, 1).state_dict().items()}
    finals = []
    for T in (torch, nxt):
        model = T.nn.Linear(3, 1)
        model.load_state_dict({k: T.tensor(v) for k, v in initial.items()})
        optimizer = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if kind == "SGD" else \
            T.optim.Adam(model.parameters(), lr=0.01)
        scheduler = make(T.optim.lr_scheduler, optimizer)
        for step in range(11):
            optimizer.zero_grad()
            T.nn.functional.mse_loss(model(T.tensor(x)), T.tensor(y)).backward()
            optimizer.step()
            scheduler.step()
            model.weight.sum().item()
            if step == 2:
                compiles = compiled_programs()
        if T is nxt:
            assert compiled_programs() == compiles
        finals.append(model.weight.detach().numpy().copy())
    np.testing.assert_allclose(finals[1], finals[0], atol=1e-5, rtol=1e-5)


def test_the_module_imports_as_torch_does():
    assert nxt.optim.lr_scheduler.StepLR.__name__ == "StepLR"
    script = (
        "from nablax.stateful import as_torch; as_torch.install()\n"
        "import torch\n"
        "from torch.optim.lr_scheduler import StepLR, OneCycleLR, LRScheduler\n"
        "import torch.optim.lr_scheduler as schedulers\n"
        "from torch.optim.optimizer import Optimizer\n"
        "assert torch.optim.lr_scheduler.StepLR is StepLR is schedulers.StepLR\n"
        "assert issubclass(OneCycleLR, LRScheduler) and isinstance(torch.optim.SGD([torch.zeros(1)]), Optimizer)\n"
        "print(StepLR.__module__)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "nablax.stateful.optim.lr_scheduler"


def test_cosine_values_are_the_textbook_ones_inside_the_first_period():
    """Not only PyTorch's numbers: they are the cosine's (a check on the recursion)."""
    optimizer = make_optimizer(nxt, [0.2])
    scheduler = nxt.optim.lr_scheduler.CosineAnnealingLR(optimizer, 10, eta_min=0.02)
    for epoch in range(1, 11):
        optimizer.step()
        scheduler.step()
        expected = 0.02 + (0.2 - 0.02) * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert scheduler.get_last_lr()[0] == pytest.approx(expected, rel=1e-12, abs=1e-15)
