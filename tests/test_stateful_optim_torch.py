"""Every `nablax.stateful.optim` optimizer against `torch.optim`, one update rule at a time:
the same parameters and gradients step by step land on the same values (float32, ~1e-6),
the state dict has PyTorch's layout (names, order, dtypes, values), param groups and reprs
are PyTorch's, and a state dict moves between the two frameworks mid-training with the
same numbers after."""

import copy

import numpy as np
import pytest

import nablax.stateful as nxt

ATOL, RTOL = 1e-6, 1e-5
RNG = np.random.default_rng(7)
SHAPES = [(3, 4), (4,), ()]
INITIAL = [RNG.standard_normal(shape).astype(np.float32) for shape in SHAPES]
NOISE = [[RNG.standard_normal(shape).astype(np.float32) for shape in SHAPES] for _ in range(10)]
STEPS_BEFORE_SWAP, STEPS_AFTER_SWAP = 5, 5  # RAdam's rectified branch starts at step 6 (default betas)

CASES = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd-dampened-decay": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    "sgd-nesterov-maximize": ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True)),
    "adam": ("Adam", dict(lr=0.05)),
    "adam-amsgrad-decay": ("Adam", dict(lr=0.05, betas=(0.8, 0.9), amsgrad=True, weight_decay=0.1)),
    "adam-decoupled-maximize": ("Adam", dict(lr=0.05, decoupled_weight_decay=True, weight_decay=0.2, maximize=True)),
    "adamw": ("AdamW", dict(lr=0.05)),
    "adamw-amsgrad": ("AdamW", dict(lr=0.05, amsgrad=True, eps=1e-6, weight_decay=0.3)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop-everything": ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1,
                                           maximize=True)),
    "adadelta": ("Adadelta", dict()),
    "adadelta-options": ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    "adagrad": ("Adagrad", dict(lr=0.1)),
    "adagrad-options": ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2,
                                        eps=1e-6, maximize=True)),
    "adamax": ("Adamax", dict(lr=0.05)),
    "adamax-options": ("Adamax", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, maximize=True)),
    "nadam": ("NAdam", dict(lr=0.05)),
    "nadam-options": ("NAdam", dict(lr=0.05, betas=(0.85, 0.95), weight_decay=0.1, momentum_decay=0.01)),
    "nadam-decoupled-maximize": ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    "radam": ("RAdam", dict(lr=0.05)),
    "radam-options": ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    "radam-decoupled-maximize": ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
}


class Run:
    """Parameters and an optimizer in one framework, stepped with the gradients of
    `noise + 0.5 * tanh(param)`: each framework's own parameters give its gradients."""

    def __init__(self, T, name, options, values=INITIAL):
        self.T = T
        self.params = [T.nn.Parameter(T.tensor(np.array(value))) for value in values]
        self.optimizer = getattr(T.optim, name)(self.params, **options)

    def step(self, noise):
        for param, extra in zip(self.params, noise):
            current = param.detach().numpy()
            param.grad = self.T.tensor((extra + 0.5 * np.tanh(current)).astype(np.float32))
        self.optimizer.step()

    def values(self):
        return [param.detach().numpy().copy() for param in self.params]


def converted(state_dict, make_tensor):
    """A state dict with its tensors rebuilt in the other framework through NumPy."""
    state = {index: {key: make_tensor(value.detach().numpy().copy()) if hasattr(value, "detach") else value
                     for key, value in entry.items()}
             for index, entry in state_dict["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(state_dict["param_groups"])}


def assert_same_values(ours, theirs, what):
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(mine, reference, atol=ATOL, rtol=RTOL, err_msg=f"{what}, parameter {index}")


def assert_same_state_dicts(ours, theirs):
    """Same entries in the same order, with PyTorch's dtypes, shapes and (nearly) values."""
    assert list(ours["state"]) == list(theirs["state"])
    for index, entry in theirs["state"].items():
        mine = ours["state"][index]
        assert list(mine) == list(entry), index
        for key, value in entry.items():
            assert str(mine[key].dtype) == str(value.dtype) and tuple(mine[key].shape) == tuple(value.shape), key
            np.testing.assert_allclose(mine[key].numpy(), value.numpy(), atol=ATOL, rtol=RTOL, err_msg=key)
    assert ours["param_groups"] == theirs["param_groups"]


@pytest.mark.parametrize("case", list(CASES))
def test_steps_state_dicts_and_reprs_match_torch_and_move_between_them(torch, case):
    name, options = CASES[case]
    theirs, ours = Run(torch, name, options), Run(nxt, name, options)
    assert repr(ours.optimizer) == repr(theirs.optimizer)
    for step in range(STEPS_BEFORE_SWAP):
        theirs.step(NOISE[step])
        ours.step(NOISE[step])
        assert_same_values(ours.values(), theirs.values(), f"step {step + 1}")
    assert_same_state_dicts(ours.optimizer.state_dict(), theirs.optimizer.state_dict())

    # Each framework's state dict continues training in the other.
    from_torch = Run(nxt, name, dict(options, lr=123.0), theirs.values())
    from_torch.optimizer.load_state_dict(converted(theirs.optimizer.state_dict(), nxt.tensor))
    into_torch = Run(torch, name, dict(options, lr=123.0), ours.values())
    into_torch.optimizer.load_state_dict(converted(ours.optimizer.state_dict(), torch.tensor))
    for step in range(STEPS_BEFORE_SWAP, STEPS_BEFORE_SWAP + STEPS_AFTER_SWAP):
        for run in (theirs, ours, from_torch, into_torch):
            run.step(NOISE[step])
        assert_same_values(from_torch.values(), theirs.values(), f"loaded from torch, step {step + 1}")
        assert_same_values(into_torch.values(), ours.values(), f"loaded into torch, step {step + 1}")
        assert_same_values(ours.values(), theirs.values(), f"step {step + 1}")
    assert_same_state_dicts(from_torch.optimizer.state_dict(), theirs.optimizer.state_dict())


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam"])
def test_defaults_param_groups_and_reprs_are_torchs(torch, name):
    """All of PyTorch's keys with its defaults, in its order; two groups print alike."""
    groups, reprs = [], []
    for T in (torch, nxt):
        first, second = T.nn.Parameter(T.zeros(2)), T.nn.Parameter(T.zeros(3))
        optimizer = getattr(T.optim, name)([{"params": [first]}, {"params": [second], "lr": 0.5}])
        groups.append([[(k, v) for k, v in group.items() if k != "params"] for group in optimizer.param_groups])
        assert optimizer.param_groups[1]["params"][0] is second
        reprs.append(repr(optimizer))
        assert optimizer.defaults == getattr(torch.optim, name)([torch.zeros(1)]).defaults
    assert groups[1] == groups[0]
    assert reprs[1] == reprs[0]


def test_state_is_empty_until_a_step_except_adagrads_as_in_torch(torch):
    for name in ("SGD", "Adam", "RMSprop", "Adagrad"):
        dicts = []
        for T in (torch, nxt):
            param = T.nn.Parameter(T.ones(2))
            optimizer = getattr(T.optim, name)([param], lr=0.1)
            dicts.append({index: sorted(entry) for index, entry in optimizer.state_dict()["state"].items()})
            param.grad = T.ones(2)
            optimizer.step()
            dicts.append({index: sorted(entry) for index, entry in optimizer.state_dict()["state"].items()})
        assert dicts[2:] == dicts[:2], name


def test_state_tensors_are_updated_in_place_as_in_torch():
    param = nxt.nn.Parameter(nxt.ones(2))
    optimizer = nxt.optim.Adam([param], lr=0.1)
    param.grad = nxt.ones(2)
    optimizer.step()
    exp_avg, step = optimizer.state[param]["exp_avg"], optimizer.state[param]["step"]
    optimizer.step()
    assert optimizer.state[param]["exp_avg"] is exp_avg and optimizer.state[param]["step"] is step
    assert step.item() == 2.0 and exp_avg.tolist() == pytest.approx([0.19, 0.19])


def test_named_parameters_and_groups_added_later_like_torch(torch):
    results = []
    for T in (torch, nxt):
        T.manual_seed(0)
        model = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.Linear(2, 1))
        optimizer = T.optim.SGD(model[0].named_parameters(), lr=0.1, momentum=0.9)
        optimizer.add_param_group({"params": list(model[1].named_parameters()), "lr": 0.01})
        groups = optimizer.state_dict()["param_groups"]
        results.append([(group["params"], group["param_names"], group["lr"]) for group in groups])
    assert results[1] == results[0] == [([0, 1], ["weight", "bias"], 0.1), ([2, 3], ["weight", "bias"], 0.01)]


def compiled_programs():
    """Programs built and executables held by the stateful engine's program cache."""
    from nablax.stateful.engine import cache

    return cache.PROGRAMS.compiles, cache.PROGRAMS.compiled


def test_changing_any_number_of_a_group_does_not_recompile():
    """Only options that change the program's shape (momentum on or off, amsgrad, ...) do."""
    params = [nxt.nn.Parameter(nxt.tensor(value)) for value in INITIAL]
    optimizer = nxt.optim.Adam(params, lr=0.1, weight_decay=0.1)
    for step in range(8):
        for param, noise in zip(params, NOISE[step]):
            param.grad = nxt.tensor(noise)
        group = optimizer.param_groups[0]
        group["lr"], group["betas"], group["eps"] = 0.1 / (step + 1), (0.9 - 0.01 * step, 0.99 + 0.001 * step), 1e-8 * step
        group["weight_decay"] = 0.1 + step
        optimizer.step()
        params[0].sum().item()
        if step == 1:  # the first step starts the state, the second runs the steady program
            compiles = compiled_programs()
    assert compiled_programs() == compiles


def test_constructor_errors_match_torch(torch):
    def outcome(T, name, options):
        try:
            getattr(T.optim, name)([T.nn.Parameter(T.zeros(1))], **options)
        except Exception as error:  # noqa: BLE001 - compared across frameworks
            return type(error).__name__, str(error)
        return "ok", ""

    cases = [
        ("Adadelta", dict(lr=-1.0)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1.0)),
        ("Adadelta", dict(weight_decay=-0.1)),
        ("Adagrad", dict(lr=-1.0)), ("Adagrad", dict(lr_decay=-1.0)), ("Adagrad", dict(weight_decay=-1.0)),
        ("Adagrad", dict(initial_accumulator_value=-1.0)), ("Adagrad", dict(eps=-1.0)),
        ("Adagrad", dict(fused=True, differentiable=True)),
        ("Adamax", dict(lr=-1.0)), ("Adamax", dict(eps=-1.0)), ("Adamax", dict(betas=(1.0, 0.9))),
        ("Adamax", dict(betas=(0.9, -0.5))), ("Adamax", dict(weight_decay=-1.0)),
        ("NAdam", dict(lr=-1.0)), ("NAdam", dict(betas=(0.9, 1.0))), ("NAdam", dict(momentum_decay=-1.0)),
        ("NAdam", dict(weight_decay=-1.0)),
        ("RAdam", dict(lr=-1.0)), ("RAdam", dict(eps=-1.0)), ("RAdam", dict(betas=(-0.1, 0.9))),
        ("RAdam", dict(weight_decay=-1.0)),
        ("Adam", dict(weight_decay=-1.0)), ("Adam", dict(betas=(0, 0.9))), ("Adam", dict(fused=True, foreach=True)),
        ("AdamW", dict(lr=-1.0)), ("SGD", dict(fused=True, differentiable=True)),
        ("RMSprop", dict(eps=-1.0)), ("RMSprop", dict(momentum=-1.0)), ("RMSprop", dict(weight_decay=-1.0)),
    ]
    for name, options in cases:
        expected = outcome(torch, name, options)
        assert expected[0] != "ok", (name, options)
        assert outcome(nxt, name, options) == expected, (name, options)


def test_add_param_group_errors_match_torch(torch):
    def outcome(T, group):
        optimizer = T.optim.SGD([T.nn.Parameter(T.zeros(1))], lr=0.1)
        try:
            optimizer.add_param_group(group(T))
        except Exception as error:  # noqa: BLE001 - compared across frameworks
            return type(error).__name__, str(error)
        return "ok", ""

    for group in [lambda T: [T.nn.Parameter(T.zeros(1))], lambda T: {"params": {T.nn.Parameter(T.zeros(1))}},
                  lambda T: {"params": [("w", T.nn.Parameter(T.zeros(1)))]}]:
        expected = outcome(torch, group)
        assert expected[0] != "ok"
        assert outcome(nxt, group) == expected


def test_a_state_dict_in_the_earlier_optax_layout_is_refused_not_silently_restarted():
    param = nxt.nn.Parameter(nxt.ones(2))
    optimizer = nxt.optim.Adam([param])
    saved = {"state": {0: {"optax": [nxt.zeros(()), nxt.zeros(2), nxt.zeros(2)]}},
             "param_groups": optimizer.state_dict()["param_groups"]}
    with pytest.raises(ValueError, match="earlier layout"):
        optimizer.load_state_dict(saved)
