"""The activations `Hardtanh`, `ReLU6`, `Softsign`, `PReLU`, `Hardswish`, `Hardsigmoid`, `Mish`,
`SELU`, `CELU`, `Softmin`, `LogSigmoid` and `Threshold` in both faces against PyTorch:
values and gradients at the kinks, grad_fn names (in place too), module reprs and state
dicts, integer inputs, and PyTorch's errors."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import to_numpy
from torch_diff import check, check_raises, gradients

import nablax as nx
import nablax.stateful as nxt

# The kinks (0, ±1, ±3, 6) and thresholds, then random values: one shape for every case.
KINKS = np.array([-3.0, 3.0, 0.0, -1.0, 1.0, 6.0, 0.5, 20.0, -20.0, 1e-8, -1e-8, 2.5], np.float32)
X = np.concatenate([KINKS, 4 * np.random.default_rng(0).standard_normal(12).astype(np.float32)]).reshape(4, 6)
IMAGES = np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float32)
SLOPES = np.array([0.1, -0.3, 0.7], np.float32)

# name -> (torch.nn.functional name, keyword arguments); the same in nablax.nn, named as torch's F.
CASES = {
    "hardtanh": ("hardtanh", {}),
    "hardtanh-wide": ("hardtanh", dict(min_val=-3.0, max_val=6.0)),
    "relu6": ("relu6", {}),
    "softsign": ("softsign", {}),
    "hardswish": ("hardswish", {}),
    "hardsigmoid": ("hardsigmoid", {}),
    "mish": ("mish", {}),
    "selu": ("selu", {}),
    "celu": ("celu", {}),
    "celu-alpha": ("celu", dict(alpha=0.5)),
    "logsigmoid": ("logsigmoid", {}),
    "threshold": ("threshold", dict(threshold=1.0, value=-2.0)),
    "softmin": ("softmin", dict(dim=1)),
}
INPLACE = ["hardtanh", "relu6", "hardswish", "hardsigmoid", "mish", "selu", "celu", "threshold"]


def functional(T, name):
    return getattr(T.nn.functional, name)


@pytest.mark.parametrize("case", list(CASES))
def test_stateful_functions_match_torch_at_the_kinks(torch, case):
    name, kwargs = CASES[case]
    check(torch, lambda T: gradients(T, lambda T, x: functional(T, name)(x, **kwargs), X))


@pytest.mark.parametrize("name", INPLACE)
def test_in_place_forms_write_into_their_input_with_torchs_grad_fn(torch, name):
    kwargs = dict(CASES[name][1], inplace=True)
    if name == "threshold":
        kwargs.update(threshold=1.0, value=-2.0)

    def case(T):
        x = T.tensor(X, requires_grad=True)
        y = x * 1
        out = functional(T, name)(y, **kwargs)
        (out * T.tensor(X)).sum().backward()
        return out is y, out, x.grad

    assert check(torch, case)[1][0] is True


@pytest.mark.parametrize("case", list(CASES))
def test_functional_face_matches_torch(torch, case):
    name, kwargs = CASES[case]
    pure = getattr(nx.nn, name)
    kwargs = {"dim": -1} if name == "softmin" else kwargs
    value, grad = jax.jit(jax.value_and_grad(lambda x: (pure(x, **kwargs) * X).sum()))(jnp.asarray(X))
    tx = torch.tensor(X, requires_grad=True)
    expected = (functional(torch, name)(tx, **kwargs) * torch.tensor(X)).sum()
    expected.backward()
    np.testing.assert_allclose(float(value), expected.item(), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(grad), to_numpy(tx.grad), atol=1e-5, rtol=1e-5)


def test_prelu_per_channel_and_shared_match_torch_in_both_faces(torch):
    for slopes in (SLOPES, SLOPES[:1]):
        check(torch, lambda T: gradients(T, lambda T, x, w: T.nn.functional.prelu(x, w), IMAGES, slopes))
        loss = jax.jit(jax.grad(lambda x, w: (nx.nn.prelu(x, w) * IMAGES).sum(), argnums=(0, 1)))
        ours = loss(jnp.asarray(IMAGES), jnp.asarray(slopes))
        x, w = torch.tensor(IMAGES, requires_grad=True), torch.tensor(slopes, requires_grad=True)
        (torch.nn.functional.prelu(x, w) * torch.tensor(IMAGES)).sum().backward()
        for got, expected in zip(ours, (x.grad, w.grad)):
            np.testing.assert_allclose(np.asarray(got), to_numpy(expected), atol=1e-5, rtol=1e-5)


def modules(T):
    nn = T.nn
    return nn.Sequential(nn.Hardtanh(), nn.Hardtanh(-2.5, 2, True), nn.ReLU6(), nn.ReLU6(True), nn.Softsign(),
                         nn.Hardswish(), nn.Hardswish(True), nn.Hardsigmoid(True), nn.Mish(), nn.Mish(True), nn.SELU(),
                         nn.SELU(True), nn.CELU(), nn.CELU(0.5, True), nn.LogSigmoid(), nn.Threshold(-1.5, 0.25),
                         nn.Threshold(-2, 1, True), nn.Softmin(1), nn.PReLU(3, init=0.1), nn.PReLU())


def test_modules_print_hold_parameters_and_compute_like_torchs(torch):
    theirs, ours = modules(torch), modules(nxt)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert ours[18].init == 0.1 and ours[1].min_val == -2.5 and ours[3].max_val == 6.0

    def forward(T, model):
        x = T.tensor(IMAGES, requires_grad=True)
        out = model(x)
        (out * T.tensor(IMAGES[..., :1, :1] + 1)).sum().backward()
        return out, x.grad, [p.grad for p in model.parameters()]

    check(torch, lambda T: forward(T, ours if T is nxt else theirs))
    with nxt.no_grad():
        ours[18].weight.fill_(2.0)
    ours[18].reset_parameters()
    assert ours[18].weight.tolist() == pytest.approx([0.1] * 3)


def test_functional_layers_print_like_torchs_and_prelu_initialises_to_init(torch):
    ours = [nx.nn.Hardtanh(-2.0, 2.0), nx.nn.ReLU6(), nx.nn.Softsign(), nx.nn.Hardswish(), nx.nn.Hardsigmoid(),
            nx.nn.Mish(), nx.nn.SELU(), nx.nn.CELU(0.5), nx.nn.LogSigmoid(), nx.nn.Threshold(0.1, 20),
            nx.nn.Softmin(1), nx.nn.PReLU(3)]
    theirs = [torch.nn.Hardtanh(-2.0, 2.0), torch.nn.ReLU6(), torch.nn.Softsign(), torch.nn.Hardswish(),
              torch.nn.Hardsigmoid(), torch.nn.Mish(), torch.nn.SELU(), torch.nn.CELU(0.5), torch.nn.LogSigmoid(),
              torch.nn.Threshold(0.1, 20), torch.nn.Softmin(1), torch.nn.PReLU(3)]
    model = nx.nn.Sequential(*ours)
    assert repr(model) == repr(torch.nn.Sequential(*theirs))
    params = model.init(0)
    assert nx.state_dict(params)["11.weight"].tolist() == [0.25] * 3
    expected = torch.nn.Sequential(*theirs)(torch.tensor(IMAGES))
    np.testing.assert_allclose(np.asarray(jax.jit(model.apply)(params, IMAGES)), to_numpy(expected), atol=1e-6)
    assert nx.nn.PReLU(2, init=0.5).init(0)["weight"].tolist() == [0.5, 0.5]


INTEGERS = np.array([[-7, -1, 0, 1, 2, 9]])


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.hardtanh(T.tensor(INTEGERS), -2, 5),
    lambda T: T.nn.functional.relu6(T.tensor(INTEGERS)),
    lambda T: T.nn.functional.threshold(T.tensor(INTEGERS), 1, -4),
    lambda T: T.nn.functional.softsign(T.tensor(INTEGERS)),
    lambda T: T.nn.functional.softmin(T.tensor(INTEGERS), 1, dtype=T.float64),
], ids=["hardtanh", "relu6", "threshold", "softsign", "softmin-dtype"])
def test_integer_inputs_give_torchs_results(torch, case):
    check(torch, case)


def test_softmin_without_dim_warns_like_torch(torch):
    message = "Implicit dimension choice for softmin has been deprecated. Change the call to include dim=X as an argument."
    for T in (torch, nxt):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            T.nn.functional.softmin(T.tensor(X))
            T.nn.Softmin()(T.tensor(X))
        assert [str(w.message) for w in caught] == [message, message]
        assert caught[0].filename == __file__  # the function's warning points at the calling line


def F(T):
    return T.nn.functional


LONGS, BOOLS = (lambda T: T.tensor([1, 2])), (lambda T: T.tensor([True]))
ERROR_CASES = {
    "hardtanh bool": lambda T: F(T).hardtanh(BOOLS(T)),
    "hardtanh bounds": lambda T: F(T).hardtanh(T.zeros(2), 2.0, 1.0),
    "Hardtanh bounds": lambda T: T.nn.Hardtanh(1.0, 1.0),
    "relu6 bool": lambda T: F(T).relu6(BOOLS(T)),
    "threshold bool": lambda T: F(T).threshold(BOOLS(T), 0.5, 1.0),
    "softsign bool": lambda T: F(T).softsign(BOOLS(T)),
    "hardswish integers": lambda T: F(T).hardswish(LONGS(T)),
    "hardsigmoid bool": lambda T: F(T).hardsigmoid(BOOLS(T)),
    "mish integers": lambda T: F(T).mish(LONGS(T)),
    "selu integers": lambda T: F(T).selu(LONGS(T)),
    "celu integers": lambda T: F(T).celu(LONGS(T)),
    "celu zero alpha": lambda T: F(T).celu(T.zeros(2), 0.0),
    "logsigmoid integers": lambda T: F(T).logsigmoid(LONGS(T)),
    "softmin integers": lambda T: F(T).softmin(LONGS(T), 0),
    "softmin bool": lambda T: F(T).softmin(BOOLS(T), 0),
    "prelu integers": lambda T: F(T).prelu(LONGS(T), T.tensor([1])),
    "prelu dtypes": lambda T: F(T).prelu(T.zeros(2, 3), T.zeros(3, dtype=T.float64)),
    "prelu channels": lambda T: F(T).prelu(T.zeros(2, 3), T.zeros(2)),
    "prelu unbatched channels": lambda T: F(T).prelu(T.zeros(3), T.zeros(3)),
    "prelu weight rank": lambda T: F(T).prelu(T.zeros(2, 3), T.zeros(1, 3)),
    "prelu zero-dim input": lambda T: F(T).prelu(T.zeros(()), T.zeros(2)),
    "mish in place on a leaf": lambda T: F(T).mish(T.zeros(3, requires_grad=True), inplace=True),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_errors_have_torchs_types_and_text(torch, name):
    check_raises(torch, ERROR_CASES[name])


@pytest.mark.parametrize("make, error, message", [
    (lambda: nx.nn.Hardtanh(1.0, -1.0), ValueError, r"Hardtanh: max_val \(-1.0\) must be greater than min_val \(1.0\)"),
    (lambda: nx.nn.CELU(0.0), ValueError, "CELU: alpha cannot be 0"),
    (lambda: nx.nn.PReLU(0), ValueError, "PReLU: num_parameters must be a positive int, got 0"),
    (lambda: nx.nn.prelu(jnp.ones((2, 3)), jnp.ones(2)), ValueError,
     r"prelu: weight must hold 1 slope or one per channel \(3, along axis 1 of the input\)"),
    (lambda: nx.nn.PReLU(3).apply({"weight": jnp.ones(2)}, jnp.ones((2, 3))), ValueError,
     r"PReLU\(num_parameters=3\): params\['weight'\] has shape \(2,\), expected \(3,\)"),
], ids=["hardtanh", "celu", "prelu-size", "prelu-weight", "prelu-params"])
def test_functional_face_errors_say_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()
