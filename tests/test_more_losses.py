"""`smooth_l1_loss`, `huber_loss`, `kl_div` and `one_hot` in both faces against PyTorch: values,
gradients (for the input and the target), grad_fn names, module reprs, warnings and
PyTorch's errors."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import to_numpy
from torch_diff import check, check_raises, gradients

import nablax as nx
import nablax.stateful as nxt

RNG = np.random.default_rng(3)
INPUT = (2 * RNG.standard_normal((4, 5))).astype(np.float32)
TARGET = RNG.standard_normal((4, 5)).astype(np.float32)
LOG_PROBS = np.log(np.exp(INPUT) / np.exp(INPUT).sum(1, keepdims=True)).astype(np.float32)
PROBS = (np.exp(TARGET) / np.exp(TARGET).sum(1, keepdims=True)).astype(np.float32)
WEIGHT = RNG.uniform(0.5, 2, (4, 5)).astype(np.float32)


def F(T):
    return T.nn.functional


# name -> (loss(T, input, target), input array, target array)
CASES = {
    f"{loss}-{reduction}-{option}": (
        (lambda T, x, t, loss=loss, reduction=reduction, option=option:
         getattr(F(T), loss)(x, t, reduction=reduction, **option)),
        *((LOG_PROBS, PROBS) if loss == "kl_div" else (INPUT, TARGET)))
    for loss, options in (("smooth_l1_loss", ({}, {"beta": 0.5}, {"beta": 0.0})),
                          ("huber_loss", ({}, {"delta": 2.5})),
                          ("kl_div", ({}, {"log_target": True})))
    for reduction in ("mean", "sum", "none") + (("batchmean",) if loss == "kl_div" else ())
    for option in options
}


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("case", list(CASES))
def test_stateful_losses_match_torch_for_input_and_target(torch, case):
    loss, x, t = CASES[case]
    if "log_target" in case:
        t = np.log(t)
    check(torch, lambda T: gradients(T, loss, x, t))


PURE = {"smooth_l1_loss": ("smooth_l1", "beta"), "huber_loss": ("huber", "delta"), "kl_div": ("kl_div", "log_target")}


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("loss, reduction, option", [
    ("smooth_l1_loss", "mean", 0.5), ("smooth_l1_loss", "none", 0.0), ("huber_loss", "sum", 2.5),
    ("huber_loss", "none", 1.0), ("kl_div", "batchmean", False), ("kl_div", "none", True), ("kl_div", "mean", False)])
def test_functional_face_losses_match_torch(torch, loss, reduction, option):
    name, keyword = PURE[loss]
    x, t = (LOG_PROBS, np.log(PROBS) if option is True else PROBS) if loss == "kl_div" else (INPUT, TARGET)
    pure = getattr(nx.losses, name)

    def weighted(x, t):
        return (pure(x, t, reduction, **{keyword: option}) * (WEIGHT if reduction == "none" else 1.0)).sum()

    value, grads = jax.jit(jax.value_and_grad(weighted, argnums=(0, 1)))(jnp.asarray(x), jnp.asarray(t))
    tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    expected = getattr(torch.nn.functional, loss)(tx, tt, reduction=reduction, **{keyword: option})
    total = (expected * (torch.tensor(WEIGHT) if reduction == "none" else 1.0)).sum()
    total.backward()
    np.testing.assert_allclose(float(value), total.item(), rtol=1e-5, atol=1e-6)
    for got, reference in zip(grads, (tx.grad, tt.grad)):
        np.testing.assert_allclose(np.asarray(got), to_numpy(reference), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_huber_loss_matches_torch(torch, reduction):
    check(torch, lambda T: gradients(T, lambda T, x, t: F(T).huber_loss(x, t, reduction, 0.8, T.tensor(WEIGHT)),
                                     INPUT, TARGET))


def test_loss_modules_print_and_compute_like_torchs(torch):
    def case(T):
        nn = T.nn
        losses = [nn.SmoothL1Loss(), nn.SmoothL1Loss(reduction="sum", beta=0.3), nn.HuberLoss(delta=2.0),
                  nn.HuberLoss("none"), nn.KLDivLoss(reduction="batchmean"), nn.KLDivLoss(reduction="sum", log_target=True)]
        x = T.tensor(LOG_PROBS, requires_grad=True)
        values = [loss(x, T.tensor(PROBS if index < 5 else np.log(PROBS))) for index, loss in enumerate(losses)]
        sum(value.sum() for value in values).backward()
        return [repr(loss) for loss in losses], [(loss.reduction, getattr(loss, "beta", None),
                                                  getattr(loss, "delta", None), getattr(loss, "log_target", None))
                                                 for loss in losses], values, x.grad

    check(torch, case)


def test_broadcast_targets_and_kl_divs_mean_warn_like_torch(torch):
    """Regression losses warn about a target of another shape and broadcast it; kl_div
    broadcasts silently but warns that 'mean' is not the KL divergence per sample."""
    def case(T):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            smooth = F(T).smooth_l1_loss(T.tensor(INPUT), T.tensor(TARGET[0]))
            huber = F(T).huber_loss(T.tensor(INPUT), T.tensor(TARGET[:1]), reduction="none")
            kl = F(T).kl_div(T.tensor(LOG_PROBS), T.tensor(PROBS[0]), reduction="none")
            kl_mean = F(T).kl_div(T.tensor(LOG_PROBS), T.tensor(PROBS))
        return [(str(w.message), w.filename == __file__) for w in caught], smooth, huber, kl, kl_mean

    check(torch, case)


def test_batchmean_divides_by_the_inputs_own_first_size(torch):
    check(torch, lambda T: [F(T).kl_div(T.tensor(LOG_PROBS[0]), T.tensor(PROBS), reduction="batchmean"),
                            F(T).kl_div(T.tensor(-1.0), T.tensor(0.5), reduction="batchmean"),
                            F(T).kl_div(T.tensor(LOG_PROBS), T.tensor(PROBS, dtype=T.float64), reduction="sum"),
                            F(T).smooth_l1_loss(T.tensor(INPUT), T.tensor(TARGET, dtype=T.float64)),
                            F(T).huber_loss(T.tensor(INPUT), T.tensor(TARGET, dtype=T.float64))])


LABELS = np.array([[2, 0, 1], [1, 1, 4]])


@pytest.mark.parametrize("case", [
    lambda T: F(T).one_hot(T.tensor(LABELS)),
    lambda T: F(T).one_hot(T.tensor(LABELS), 7),
    lambda T: F(T).one_hot(T.tensor(2)),
    lambda T: F(T).one_hot(T.tensor([], dtype=T.long), 3),
    lambda T: F(T).one_hot(T.tensor(LABELS) * 2 + 1),  # computed values, then read for num_classes
    lambda T: F(T).one_hot(T.tensor(LABELS) % 3, 3).float().sum(0),
], ids=["inferred", "given", "0-d", "empty", "pending", "chained"])
def test_one_hot_matches_torch(torch, case):
    check(torch, case)


def test_one_hot_in_the_functional_face():
    labels = jnp.asarray(LABELS, jnp.int32)
    assert nx.nn.one_hot(labels).dtype == jnp.int32 and nx.nn.one_hot(labels).shape == (2, 3, 5)
    np.testing.assert_array_equal(np.asarray(jax.jit(nx.nn.one_hot, static_argnums=1)(labels, 5)),
                                  np.eye(5, dtype=np.int32)[LABELS])
    with pytest.raises(ValueError, match="num_classes=-1 infers the number of classes from the values, which are "
                                         "unknown under jit; pass num_classes"):
        jax.jit(nx.nn.one_hot)(labels)
    with pytest.raises(IndexError, match=r"one_hot: index 4 is out of range for num_classes=3 \(0 to 2\)"):
        nx.nn.one_hot(labels, 3)


ERROR_CASES = {
    "smooth_l1 negative beta": lambda T: F(T).smooth_l1_loss(T.zeros(3), T.zeros(3), beta=-1.0),
    "smooth_l1 reduction": lambda T: F(T).smooth_l1_loss(T.zeros(3), T.zeros(3), reduction="avg"),
    "smooth_l1 integers": lambda T: F(T).smooth_l1_loss(T.zeros(3, dtype=T.long), T.ones(3, dtype=T.long)),
    "smooth_l1 shapes": lambda T: F(T).smooth_l1_loss(T.zeros(2, 3), T.zeros(2)),
    "huber zero delta": lambda T: F(T).huber_loss(T.zeros(3), T.zeros(3), delta=0.0),
    "huber reduction": lambda T: F(T).huber_loss(T.zeros(3), T.zeros(3), reduction="avg"),
    "huber integers": lambda T: F(T).huber_loss(T.zeros(3, dtype=T.long), T.ones(3, dtype=T.long)),
    "huber weight size": lambda T: F(T).huber_loss(T.zeros(3), T.zeros(3), weight=T.ones(2)),
    "huber weighted reduction": lambda T: F(T).huber_loss(T.zeros(3), T.zeros(3), "avg", weight=T.ones(3)),
    "kl_div reduction": lambda T: F(T).kl_div(T.zeros(3), T.zeros(3), reduction="avg"),
    "kl_div integers": lambda T: F(T).kl_div(T.zeros(3, dtype=T.long), T.ones(3, dtype=T.long), reduction="sum"),
    "kl_div shapes": lambda T: F(T).kl_div(T.zeros(2, 3), T.zeros(2), reduction="sum"),
    "one_hot floats": lambda T: F(T).one_hot(T.tensor([1.0]), 3),
    "one_hot int32": lambda T: F(T).one_hot(T.tensor([1], dtype=T.int32), 3),
    "one_hot negative": lambda T: F(T).one_hot(T.tensor([-1, 2])),
    "one_hot too large": lambda T: F(T).one_hot(T.tensor([3]), 3),
    "one_hot empty": lambda T: F(T).one_hot(T.tensor([], dtype=T.long)),
    "one_hot zero classes": lambda T: F(T).one_hot(T.tensor([1]), 0),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_errors_have_torchs_types_and_text(torch, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_raises(torch, ERROR_CASES[name])


def test_functional_face_losses_say_what_was_wrong():
    ones = jnp.ones(3)
    for make, message in [(lambda: nx.losses.smooth_l1(ones, ones, beta=-1.0), "smooth_l1: beta must be non-negative"),
                          (lambda: nx.losses.huber(ones, ones, delta=0.0), "huber: delta must be positive, got 0.0"),
                          (lambda: nx.losses.kl_div(ones, ones, "avg"), "kl_div: reduction must be 'mean', 'batchmean'"),
                          (lambda: nx.losses.kl_div(ones, jnp.ones(2)), "kl_div: target shape"),
                          (lambda: nx.losses.huber(ones, ones, weight=jnp.ones(2)), r"huber \(weight\): target shape")]:
        with pytest.raises(ValueError, match=message):
            make()
    assert nxt.nn.HuberLoss(delta=3.0).delta == 3.0
