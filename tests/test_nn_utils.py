"""`torch.nn.utils` in the stateful face (`clip_grad_norm_`, `clip_grad_value_`,
`get_total_norm`, `clip_grads_with_norm_`, `parameters_to_vector`, `vector_to_parameters`)
and `nablax.clipping` in the functional face, against PyTorch with shared weights; and a
training loop that clips without compiling anything new per step."""

import subprocess
import sys
import textwrap
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import to_numpy
from torch_diff import assert_same, check

import nablax as nx
import nablax.stateful as nxt
from nablax.stateful.engine.cache import PROGRAMS

RNG = np.random.default_rng(5)
X = RNG.standard_normal((8, 3)).astype(np.float32)
Y = RNG.standard_normal((8, 2)).astype(np.float32)


def make_model(T):
    return T.nn.Sequential(T.nn.Linear(3, 4), T.nn.Tanh(), T.nn.Linear(4, 2, bias=False))


MODELS = {}


def model_with_grads(T, torch, scale: float = 1.0):
    """The same small model in either framework (PyTorch's weights), after one backward pass."""
    theirs = MODELS.setdefault("weights", make_model(torch))
    model = make_model(T)
    model.load_state_dict(theirs.state_dict() if T is torch else
                          {name: nxt.tensor(to_numpy(value)) for name, value in theirs.state_dict().items()})
    loss = (T.nn.functional.mse_loss(model(T.tensor(X)), T.tensor(Y)) * scale)
    loss.backward()
    return model


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 0.5])
@pytest.mark.parametrize("max_norm", [0.05, 100.0])
def test_clip_grad_norm_returns_torchs_norm_and_scales_the_grads_like_torch(torch, norm_type, max_norm):
    def case(T):
        model = model_with_grads(T, torch)
        norm = T.nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type=norm_type)
        return norm, [p.grad for p in model.parameters()]

    check(torch, case)


def test_clip_grad_value_and_the_two_halves_of_clip_grad_norm_match_torch(torch):
    def case(T):
        model = model_with_grads(T, torch)
        T.nn.utils.clip_grad_value_(model.parameters(), 0.05)
        clipped = [p.grad.clone() for p in model.parameters()]
        first = next(model.parameters())
        norm = T.nn.utils.get_total_norm([first.grad], norm_type=3.0)
        T.nn.utils.clip_grads_with_norm_(first, 0.01, norm)  # a single tensor
        return clipped, norm, first.grad

    check(torch, case)


def test_no_gradients_give_a_zero_norm_and_an_empty_generator_warns(torch):
    def case(T):
        model = make_model(T)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            empty = T.nn.utils.clip_grad_norm_((p for p in []), 1.0)
            deprecated = T.nn.utils.clip_grad_norm(model.parameters(), 1.0)
        return empty, deprecated, [(w.category.__name__, str(w.message)) for w in caught]

    check(torch, case)


def test_a_non_finite_norm_raises_only_when_asked_to(torch):
    def case(T, error_if_nonfinite):
        model = model_with_grads(T, torch, scale=float("inf"))
        return T.nn.utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=error_if_nonfinite)

    check(torch, case, False)
    check(torch, case, True)


def test_parameters_to_vector_and_back_match_torch(torch):
    def case(T):
        model = make_model(T)
        with T.no_grad():
            for index, p in enumerate(model.parameters()):
                p.copy_(T.arange(p.numel()).float().view_as(p) + index)
        vector = T.nn.utils.parameters_to_vector(model.parameters())
        T.nn.utils.vector_to_parameters(vector * 2, model.parameters())
        return vector, [p.detach() for p in model.parameters()], [p.requires_grad for p in model.parameters()]

    check(torch, case)
    check(torch, lambda T: T.nn.utils.vector_to_parameters([1.0], make_model(T).parameters()))
    check(torch, lambda T: T.nn.utils.vector_to_parameters(np.ones(3), make_model(T).parameters()))


CLIPS = {
    "norm": lambda T, model: T.nn.utils.clip_grad_norm_(model.parameters(), 0.1),
    "norm-logged": lambda T, model: T.nn.utils.clip_grad_norm_(model.parameters(), 0.1, error_if_nonfinite=True).item(),
    "value": lambda T, model: T.nn.utils.clip_grad_value_(model.parameters(), 0.01),
}


def step(T, model, optimizer, clip) -> float:
    optimizer.zero_grad()
    loss = T.nn.functional.mse_loss(model(T.tensor(X)), T.tensor(Y))
    loss.backward()
    clip(T, model)
    optimizer.step()
    return loss.item()


@pytest.mark.parametrize("name", list(CLIPS))
def test_a_training_loop_that_clips_compiles_nothing_new_per_step(name):
    model = make_model(nxt)
    optimizer = nxt.optim.SGD(model.parameters(), lr=0.5)
    compiles = []
    for _ in range(6):
        step(nxt, model, optimizer, CLIPS[name])
        compiles.append(PROGRAMS.compiles)
    assert compiles[2:] == [compiles[2]] * 4, compiles  # warm after two steps, then nothing new


@pytest.mark.parametrize("name", list(CLIPS))
def test_clipped_training_steps_equal_torchs(torch, name):
    start = make_model(torch)
    results = []
    for T in (torch, nxt):
        model = make_model(T)
        model.load_state_dict({n: T.tensor(to_numpy(v)) for n, v in start.state_dict().items()})
        optimizer = T.optim.SGD(model.parameters(), lr=0.5)
        losses = [step(T, model, optimizer, CLIPS[name]) for _ in range(3)]
        results.append((losses, [to_numpy(p.detach()) for p in model.parameters()]))
    (torch_losses, torch_params), (losses, params) = results
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-5)
    for got, expected in zip(params, torch_params):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_functional_clipping_matches_torch_on_a_pytree(torch):
    model = model_with_grads(torch, torch)
    names = [name for name, _ in model.named_parameters()]
    grads = {name: jnp.asarray(to_numpy(p.grad)) for name, p in model.named_parameters()}
    clipped, norm = jax.jit(nx.clipping.clip_grad_norm, static_argnums=2)(grads, 0.05, 2.0)
    expected_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.05)
    assert norm.dtype == jnp.float32
    np.testing.assert_allclose(float(norm), expected_norm.item(), rtol=1e-6)
    for name, p in zip(names, model.parameters()):
        np.testing.assert_allclose(np.asarray(clipped[name]), to_numpy(p.grad), rtol=1e-6, atol=1e-8)
    torch.nn.utils.clip_grad_value_(model.parameters(), 0.001)
    values = nx.clipping.clip_grad_value(clipped, 0.001)
    for name, p in zip(names, model.parameters()):
        np.testing.assert_allclose(np.asarray(values[name]), to_numpy(p.grad), rtol=1e-6, atol=1e-9)
    assert float(nx.clipping.total_norm({})) == 0.0


def test_torch_nn_utils_imports_as_pytorchs_under_as_torch():
    script = textwrap.dedent("""
        import nablax.stateful.as_torch
        nablax.stateful.as_torch.install()
        import torch
        import torch.nn.utils
        from torch.nn.utils import clip_grad_norm_, parameters_to_vector
        from torch.nn.utils.clip_grad import clip_grad_value_
        from torch.nn.utils.convert_parameters import vector_to_parameters
        assert torch.nn.utils.clip_grad_norm_ is clip_grad_norm_
        layer = torch.nn.Linear(2, 1)
        layer(torch.ones(1, 2)).sum().backward()
        print(torch.nn.utils.__name__, clip_grad_norm_(layer.parameters(), 1.0).shape, parameters_to_vector(layer.parameters()).shape)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["nablax.stateful.nn.utils", "torch.Size([])", "torch.Size([3])"]


def test_total_norm_is_a_tensor_without_grad_fn(torch):
    def case(T):
        model = model_with_grads(T, torch)
        norm = T.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        return norm.requires_grad, norm.grad_fn is None, norm.dtype, norm.shape

    results = check(torch, case)
    assert_same(results[1], results[0])
