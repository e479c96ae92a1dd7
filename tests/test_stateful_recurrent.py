"""The recurrent modules of `nablax.stateful.nn` against `torch.nn` itself: `RNN`, `LSTM`,
`GRU` and their cells holding PyTorch's weights compute its outputs, final states and
gradients (inputs, initial states and every parameter), bidirectional and multi-layer, with
and without batch_first, batched or not; reprs, parameter names, initialisation, dropout
between layers in training only, PyTorch's errors, and a training loop that compiles nothing
new after warm-up.

Few shapes on purpose: each case compiles its own program.
"""

import warnings

import jax
import numpy as np
import pytest
from torch_diff import assert_same, check, check_raises, module_gradients, torch_twins

import nablax.stateful as nxt
from nablax.stateful.engine import cache

RNG = np.random.default_rng(5)
LENGTH, BATCH, INPUT, HIDDEN = 5, 2, 3, 4


def data(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


SEQUENCE, BATCH_FIRST = data(LENGTH, BATCH, INPUT), data(BATCH, LENGTH, INPUT)
STATE = data(4, BATCH, HIDDEN)  # (num_layers * directions, batch, hidden) of two bidirectional layers

# name -> (make(T), args)
MODULE_CASES = {
    "LSTM, bidirectional, two layers, initial state": (
        lambda T: T.nn.LSTM(INPUT, HIDDEN, 2, bidirectional=True), (SEQUENCE, (STATE, data(4, BATCH, HIDDEN)))),
    "LSTM, bidirectional, two layers, batch_first": (
        lambda T: T.nn.LSTM(INPUT, HIDDEN, 2, batch_first=True, bidirectional=True), (BATCH_FIRST,)),
    "GRU, bidirectional, two layers": (lambda T: T.nn.GRU(INPUT, HIDDEN, 2, bidirectional=True), (SEQUENCE,)),
    "GRU, bidirectional, two layers, batch_first, initial state": (
        lambda T: T.nn.GRU(INPUT, HIDDEN, 2, batch_first=True, bidirectional=True), (BATCH_FIRST, STATE)),
    "RNN, relu, no bias, two layers, unbatched, initial state": (
        lambda T: T.nn.RNN(INPUT, HIDDEN, 2, "relu", bias=False), (SEQUENCE[:, 0], STATE[:2, 0])),
    "LSTM, unbatched, initial state": (lambda T: T.nn.LSTM(INPUT, HIDDEN), (SEQUENCE[:, 1], (STATE[:1, 0], STATE[1:2, 1]))),
    "LSTMCell, initial state": (lambda T: T.nn.LSTMCell(INPUT, HIDDEN), (SEQUENCE[0], (STATE[0], STATE[1]))),
    "GRUCell, no bias, unbatched": (lambda T: T.nn.GRUCell(INPUT, HIDDEN, bias=False), (SEQUENCE[0, 0], STATE[0, 0])),
    "RNNCell, relu": (lambda T: T.nn.RNNCell(INPUT, HIDDEN, nonlinearity="relu"), (SEQUENCE[0],)),
}


@pytest.mark.parametrize("name", list(MODULE_CASES))
def test_modules_with_torchs_weights_compute_torchs_values_and_gradients(torch, name):
    make, args = MODULE_CASES[name]
    theirs, ours = torch_twins(torch, make)
    assert_same(module_gradients(nxt, ours, args), module_gradients(torch, theirs, args))


def all_kinds_of_modules(T):
    nn = T.nn
    return nn.ModuleList([
        nn.RNN(3, 4), nn.RNN(3, 4, 2, "relu", False, True, 0.5, True), nn.LSTM(3, 4, 3, dropout=1, bidirectional=True),
        nn.GRU(2, 5, batch_first=True, dtype=T.float64), nn.RNNCell(3, 4, False, "relu"), nn.LSTMCell(3, 4),
        nn.GRUCell(3, 4, bias=False),
    ])


def test_reprs_and_state_dicts_equal_torchs(torch):
    theirs, ours = all_kinds_of_modules(torch), all_kinds_of_modules(nxt)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(v.shape), str(v.dtype)) for n, v in ours.state_dict().items()] == [
        (n, tuple(v.shape), str(v.dtype)) for n, v in theirs.state_dict().items()]
    for mine, reference in zip(ours[:4], theirs[:4]):
        assert (mine.mode, mine._flat_weights_names, mine._all_weights, mine.dropout, mine.proj_size) == (
            reference.mode, reference._flat_weights_names, reference._all_weights, reference.dropout, reference.proj_size)
        assert [[w.shape for w in ws] for ws in mine.all_weights] == [[w.shape for w in ws] for ws in reference.all_weights]
    assert ours[1].nonlinearity == "relu" and ours[4].nonlinearity == "relu"
    ours[2].flatten_parameters()  # accepted, as PyTorch code calls it


def test_initialisation_is_uniform_within_one_over_sqrt_hidden():
    nxt.manual_seed(0)
    lstm = nxt.nn.LSTM(3, 64, bidirectional=True)
    for name, parameter in lstm.named_parameters():
        values = np.abs(parameter.detach().numpy())
        assert 0.9 / 8 < values.max() <= 1 / 8, name
    nxt.manual_seed(0)
    assert nxt.equal(nxt.nn.LSTM(3, 64, bidirectional=True).weight_hh_l0_reverse, lstm.weight_hh_l0_reverse)


def test_dropout_between_layers_only_in_training(torch):
    theirs, ours = torch_twins(torch, lambda T: T.nn.GRU(INPUT, HIDDEN, 3, dropout=0.5))
    x = nxt.tensor(SEQUENCE)
    nxt.manual_seed(1)
    first, second = (ours(x)[0].detach().numpy() for _ in range(2))
    nxt.manual_seed(1)
    assert np.array_equal(ours(x)[0].detach().numpy(), first) and not np.array_equal(first, second)
    ours.eval()
    theirs.eval()
    assert_same(ours(x), theirs(torch.tensor(SEQUENCE)))
    assert not np.allclose(ours(x)[0].detach().numpy(), first)


def test_a_training_loop_with_dropout_compiles_nothing_new_after_warm_up():
    nxt.manual_seed(0)
    lstm, head = nxt.nn.LSTM(INPUT, HIDDEN, 2, dropout=0.2, batch_first=True), nxt.nn.Linear(HIDDEN, 1)
    optimizer = nxt.optim.Adam([*lstm.parameters(), *head.parameters()], lr=0.05)
    inputs, targets = nxt.tensor(BATCH_FIRST), nxt.tensor(data(BATCH, 1))
    losses, compiles = [], []
    for _ in range(6):
        optimizer.zero_grad()
        output, (h_n, c_n) = lstm(inputs)
        loss = nxt.nn.functional.mse_loss(head(output[:, -1]), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        compiles.append(cache.PROGRAMS.compiles)
    # Adam's warm-up takes three steps; after it, each step's dropout draw is an argument, not a constant.
    assert compiles[3:] == [compiles[2]] * 3, compiles
    assert losses[-1] < losses[0]


def test_to_functional_runs_the_same_math_under_jit():
    lstm = nxt.nn.LSTM(INPUT, HIDDEN, 2, bidirectional=True)
    apply_fn, params = lstm.to_functional()
    output, (h_n, c_n) = jax.jit(apply_fn)(params, SEQUENCE)
    expected, (h, c) = lstm(nxt.tensor(SEQUENCE))
    np.testing.assert_allclose(np.asarray(output), expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(c_n), c.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_dropout_with_one_layer_warns_like_torch(torch):
    def case(T):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            T.nn.LSTM(3, 4, dropout=0.3)
        return [str(w.message) for w in caught]

    check(torch, case)


ERRORS = {
    "nonlinearity": lambda T: T.nn.RNN(3, 4, nonlinearity="sigmoid"),
    "dropout range": lambda T: T.nn.LSTM(3, 4, dropout=1.5),
    "dropout flag": lambda T: T.nn.GRU(3, 4, dropout=True),
    "hidden size type": lambda T: T.nn.GRU(3, 4.0),
    "hidden size": lambda T: T.nn.LSTM(3, 0),
    "layers": lambda T: T.nn.RNN(3, 4, num_layers=0),
    "projection size": lambda T: T.nn.LSTM(3, 4, proj_size=4),
    "RNN input rank": lambda T: T.nn.RNN(3, 4)(T.ones(1, 5, 2, 3)),
    "LSTM input rank": lambda T: T.nn.LSTM(3, 4)(T.ones(3)),
    "unbatched state rank": lambda T: T.nn.GRU(3, 4)(T.ones(5, 3), T.zeros(1, 1, 4)),
    "batched state ranks": lambda T: T.nn.LSTM(3, 4)(T.ones(5, 2, 3), (T.zeros(1, 4), T.zeros(1, 4))),
    "input dtype": lambda T: T.nn.RNN(3, 4)(T.ones(5, 2, 3, dtype=T.float64)),
    "input size": lambda T: T.nn.GRU(3, 4, batch_first=True)(T.ones(2, 5, 2)),
    "state size": lambda T: T.nn.RNN(3, 4, 2)(T.ones(5, 2, 3), T.zeros(2, 3, 4)),
    "unbatched state size": lambda T: T.nn.RNN(3, 4, bidirectional=True)(T.ones(5, 3), T.zeros(1, 4)),
    "cell state size": lambda T: T.nn.LSTM(3, 4)(T.ones(5, 2, 3), (T.zeros(1, 2, 4), T.zeros(1, 2, 5))),
    "cell input rank": lambda T: T.nn.GRUCell(3, 4)(T.ones(1, 2, 3)),
    "cell state rank": lambda T: T.nn.RNNCell(3, 4)(T.ones(2, 3), T.zeros(1, 2, 4)),
    "LSTM cell state rank": lambda T: T.nn.LSTMCell(3, 4)(T.ones(2, 3), (T.zeros(2, 4), T.zeros(1, 2, 4))),
    "cell input size": lambda T: T.nn.LSTMCell(3, 4)(T.ones(2, 2)),
    "cell batch": lambda T: T.nn.GRUCell(3, 4)(T.ones(2, 3), T.zeros(3, 4)),
    "unbatched cell with a batch of states": lambda T: T.nn.RNNCell(3, 4)(T.ones(3), T.zeros(2, 4)),
    "cell hidden size": lambda T: T.nn.LSTMCell(3, 4)(T.ones(2, 3), (T.zeros(2, 4), T.zeros(2, 3))),
    "cell nonlinearity": lambda T: T.nn.RNNCell(3, 4, nonlinearity="gelu")(T.ones(2, 3)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_are_torchs(torch, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_raises(torch, ERRORS[name])


def test_projections_are_refused_rather_than_ignored():
    with pytest.raises(NotImplementedError, match="proj_size=2 is not supported"):
        nxt.nn.LSTM(3, 4, proj_size=2)
