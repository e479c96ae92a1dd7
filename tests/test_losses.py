"""Losses against torch.nn.functional: values and gradients for every reduction."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import to_numpy
from hypothesis import given, settings
from hypothesis import strategies as st

import nablax as nx

ATOL = 1e-5
REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def compare(torch, ours, theirs, input, target, **kwargs):
    """Checks value and d(<loss, cotangent>)/d(input) of `ours` against `theirs`."""
    # One compiled function per case: far fewer compilations than the same ops run eagerly.
    value, pullback = jax.jit(lambda x, t: jax.vjp(lambda x: ours(x, t, **kwargs), x))(input, target)
    cotangent = np.random.default_rng(0).standard_normal(np.shape(value)).astype(np.float32)
    (grad,) = pullback(jnp.asarray(cotangent))

    torch_input = torch.tensor(input, requires_grad=True)
    torch_kwargs = {k: torch.tensor(np.asarray(v)) if isinstance(v, (np.ndarray, jax.Array)) else v for k, v in kwargs.items()}
    torch_value = theirs(torch_input, torch.tensor(target), **torch_kwargs)
    (torch_value * torch.from_numpy(cotangent)).sum().backward()

    assert value.dtype == jnp.float32 and value.shape == tuple(torch_value.shape)
    np.testing.assert_allclose(np.asarray(value), to_numpy(torch_value), atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(grad), to_numpy(torch_input.grad), atol=ATOL, rtol=1e-5)


def arrays(rng, shape, low=-3.0, high=3.0):
    return rng.uniform(low, high, shape).astype(np.float32)


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


@settings(max_examples=20)
@given(shape=shapes, reduction=REDUCTIONS, seed=st.integers(0, 2**16))
def test_regression_losses_match_torch(torch, shape, reduction, seed):
    rng = np.random.default_rng(seed)
    input, target = arrays(rng, shape), arrays(rng, shape)
    compare(torch, nx.losses.mse, torch.nn.functional.mse_loss, input, target, reduction=reduction)
    # Keep |input - target| away from 0, where l1's derivative is undefined.
    target = input + np.where(rng.random(shape) < 0.5, -1, 1).astype(np.float32) * rng.uniform(0.1, 1, shape).astype(np.float32)
    compare(torch, nx.losses.l1, torch.nn.functional.l1_loss, input, target, reduction=reduction)


classification = st.tuples(
    st.integers(1, 6),  # batch
    st.integers(2, 6),  # classes
    st.lists(st.integers(1, 3), max_size=2),  # extra spatial dims: input [N, C, d1, ...]
)


@settings(max_examples=30)
@given(
    dims=classification,
    reduction=REDUCTIONS,
    weighted=st.booleans(),
    ignore=st.sampled_from([None, -100, 0]),  # none, PyTorch's default index, an index that is a class
    label_smoothing=st.sampled_from([0.0, 0.1, 0.5]),
    unbatched=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_cross_entropy_with_class_indices_matches_torch(torch, dims, reduction, weighted, ignore, label_smoothing, unbatched, seed):
    rng = np.random.default_rng(seed)
    batch, classes, extra = dims
    shape = (classes,) if unbatched else (batch, classes, *extra)
    target_shape = () if unbatched else (batch, *extra)
    input = arrays(rng, shape)
    target = rng.integers(0, classes, target_shape).astype(np.int64)
    kwargs = dict(reduction=reduction, label_smoothing=label_smoothing)
    if ignore is not None and target.size > 1:
        target.flat[0] = ignore  # ignored, but not every target: an all-ignored mean is 0/0 in both
        target.flat[-1] = 1 % classes  # and one that is never ignored
        kwargs["ignore_index"] = ignore
    if weighted:
        kwargs["weight"] = rng.uniform(0.5, 2.0, classes).astype(np.float32)
    compare(torch, nx.losses.cross_entropy, torch.nn.functional.cross_entropy, input, target, **kwargs)
    if label_smoothing == 0:
        log_probs = np.asarray(jax.nn.log_softmax(input, axis=0 if unbatched else 1))
        kwargs.pop("label_smoothing")
        compare(torch, nx.losses.nll, torch.nn.functional.nll_loss, log_probs, target, **kwargs)


@settings(max_examples=20)
@given(dims=classification, reduction=REDUCTIONS, weighted=st.booleans(),
       label_smoothing=st.sampled_from([0.0, 0.2]), seed=st.integers(0, 2**16))
def test_cross_entropy_with_probability_targets_matches_torch(torch, dims, reduction, weighted, label_smoothing, seed):
    rng = np.random.default_rng(seed)
    batch, classes, extra = dims
    input = arrays(rng, (batch, classes, *extra))
    target = np.asarray(jax.nn.softmax(arrays(rng, input.shape), axis=1))
    kwargs = dict(reduction=reduction, label_smoothing=label_smoothing)
    if weighted:
        kwargs["weight"] = rng.uniform(0.5, 2.0, classes).astype(np.float32)
    compare(torch, nx.losses.cross_entropy, torch.nn.functional.cross_entropy, input, target, **kwargs)


@settings(max_examples=20)
@given(shape=shapes, reduction=REDUCTIONS, weighted=st.booleans(), pos_weighted=st.booleans(), seed=st.integers(0, 2**16))
def test_binary_cross_entropies_match_torch(torch, shape, reduction, weighted, pos_weighted, seed):
    rng = np.random.default_rng(seed)
    logits = arrays(rng, shape)
    target = rng.uniform(0, 1, shape).astype(np.float32)
    weight = {"weight": rng.uniform(0.5, 2, shape).astype(np.float32)} if weighted else {}
    pos_weight = {"pos_weight": rng.uniform(0.5, 2, shape[-1:]).astype(np.float32)} if pos_weighted else {}
    compare(torch, nx.losses.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy_with_logits,
            logits, target, reduction=reduction, **weight, **pos_weight)
    probabilities = np.asarray(jax.nn.sigmoid(logits))
    compare(torch, nx.losses.binary_cross_entropy, torch.nn.functional.binary_cross_entropy,
            probabilities, target, reduction=reduction, **weight)


def test_binary_cross_entropy_clamps_log_like_torch(torch):
    input = np.array([0.0, 1.0, 0.5], np.float32)
    target = np.array([1.0, 0.0, 1.0], np.float32)
    ours = nx.losses.binary_cross_entropy(jnp.asarray(input), jnp.asarray(target), reduction="none")
    theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(input), torch.tensor(target), reduction="none")
    np.testing.assert_allclose(np.asarray(ours), to_numpy(theirs), atol=ATOL)


def test_losses_are_jittable_and_keep_float32():
    logits = jnp.ones((4, 3), jnp.float32)
    labels = jnp.array([0, 1, 2, 0], jnp.int32)
    assert jax.jit(nx.losses.cross_entropy)(logits, labels).dtype == jnp.float32


@pytest.mark.parametrize("loss", [nx.losses.mse, nx.losses.l1, nx.losses.binary_cross_entropy,
                                  nx.losses.binary_cross_entropy_with_logits])
def test_mismatched_target_shape_is_an_error_not_a_broadcast(loss):
    with pytest.raises(ValueError, match=r"target shape \(4,\) does not match input shape \(4, 1\)"):
        loss(jnp.ones((4, 1)) * 0.5, jnp.ones(4) * 0.5)


def test_error_messages_say_what_was_expected():
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        nx.losses.mse(jnp.ones(2), jnp.ones(2), reduction="avg")
    with pytest.raises(ValueError, match=r"class-index target must have shape \(4,\).*got \(4, 1\)"):
        nx.losses.cross_entropy(jnp.ones((4, 3)), jnp.zeros((4, 1), jnp.int32))
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(3,\)"):
        nx.losses.cross_entropy(jnp.ones((4, 3)), jnp.zeros(4, jnp.int32), weight=jnp.ones(2))
    with pytest.raises(ValueError, match="probability target"):
        nx.losses.cross_entropy(jnp.ones((4, 3)), jnp.ones((4, 2)) / 2)
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        nx.losses.cross_entropy(jnp.ones((4, 3)), jnp.zeros(4, jnp.int32), label_smoothing=2.0)
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) do not match logits of shape \(4, 3\)"):
        nx.metrics.accuracy(jnp.ones((4, 3)), jnp.zeros(3, jnp.int32))
