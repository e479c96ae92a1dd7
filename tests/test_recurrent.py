"""RNN, LSTM, GRU and their cells against torch.nn with shared weights: outputs, final states
and gradients (float32), multi-layer and bidirectional, batch_first both ways, unbatched
input and given initial states; names, reprs, initialisation, dropout and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from torch_twins import assert_matches_torch, assert_same_tree, data, random_params, with_params

import nablax as nx

LENGTH, BATCH, INPUT, HIDDEN = 5, 3, 4, 6

# name, options, batched, with an initial state
SEQUENCE_CASES = [
    ("RNN", dict(num_layers=2, bidirectional=True), True, True),
    ("RNN", dict(nonlinearity="relu", batch_first=True, bias=False), True, False),
    ("LSTM", dict(num_layers=2, bidirectional=True), True, True),
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True), True, False),
    ("LSTM", dict(bidirectional=True), False, True),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True), True, True),
    ("GRU", dict(num_layers=2, bidirectional=True), True, False),
    ("GRU", dict(), False, False),
]
SEQUENCE_IDS = ["rnn-2-layers-bidirectional-hx", "rnn-relu-batch-first-no-bias", "lstm-2-layers-bidirectional-hx",
                "lstm-2-layers-bidirectional-batch-first", "lstm-unbatched-bidirectional-hx",
                "gru-2-layers-bidirectional-batch-first-hx", "gru-2-layers-bidirectional", "gru-unbatched"]


@pytest.mark.parametrize("name, options, batched, with_state", SEQUENCE_CASES, ids=SEQUENCE_IDS)
def test_sequence_layers_match_torch(torch, name, options, batched, with_state):
    layer = getattr(nx.nn, name)(INPUT, HIDDEN, **options)
    module = getattr(torch.nn, name)(INPUT, HIDDEN, **options)
    assert_same_tree(layer, module)
    params = random_params(layer, scale=0.5)
    module = with_params(torch, module, params)
    batch_first = options.get("batch_first", False)
    x = data(BATCH, LENGTH, INPUT) if batch_first else data(LENGTH, BATCH, INPUT)
    x = x if batched else data(LENGTH, INPUT)
    states = layer.num_layers * (2 if layer.bidirectional else 1)
    state_shape = (states, BATCH, HIDDEN) if batched else (states, HIDDEN)
    paired = name == "LSTM"
    hx = [data(*state_shape) for _ in range(2 if paired else 1)] if with_state else []

    def initial(states):
        return None if not states else tuple(states) if paired else states[0]

    def ours(params, x, *states):
        return layer.apply(params, x, initial(states))

    def theirs(module, x, *states):
        return module(x, initial(states))

    assert_matches_torch(torch, ours, params, module, theirs, [x, *hx])


CELL_CASES = [
    ("RNNCell", dict(nonlinearity="relu"), True, True),
    ("RNNCell", dict(bias=False), False, False),
    ("LSTMCell", dict(), True, True),
    ("LSTMCell", dict(bias=False), False, True),
    ("GRUCell", dict(), True, True),
    ("GRUCell", dict(bias=False), True, False),
]


@pytest.mark.parametrize("name, options, batched, with_state", CELL_CASES,
                         ids=[f"{c[0]}-{'-'.join(c[1]) or 'default'}-{'batched' if c[2] else 'unbatched'}" for c in CELL_CASES])
def test_cells_match_torch(torch, name, options, batched, with_state):
    layer, module = getattr(nx.nn, name)(INPUT, HIDDEN, **options), getattr(torch.nn, name)(INPUT, HIDDEN, **options)
    assert_same_tree(layer, module)
    params = random_params(layer, scale=0.5)
    module = with_params(torch, module, params)
    x = data(BATCH, INPUT) if batched else data(INPUT)
    state_shape = (BATCH, HIDDEN) if batched else (HIDDEN,)
    paired = name == "LSTMCell"
    hx = [data(*state_shape) for _ in range(2 if paired else 1)] if with_state else []

    def initial(states):
        return None if not states else tuple(states) if paired else states[0]

    assert_matches_torch(torch, lambda p, x, *s: layer.apply(p, x, initial(s)), params, module,
                         lambda m, x, *s: m(x, initial(s)), [x, *hx])


def test_each_direction_of_each_layer_is_one_scan():
    layer = nx.nn.GRU(INPUT, HIDDEN, num_layers=3, bidirectional=True)
    jaxpr = jax.make_jaxpr(lambda p, x: layer.apply(p, x))(random_params(layer), jnp.ones((LENGTH, BATCH, INPUT)))
    assert [e.primitive.name for e in jaxpr.eqns].count("scan") == 6


def test_init_is_uniform_within_one_over_sqrt_hidden_as_in_torch():
    layer = nx.nn.LSTM(16, 64, num_layers=2, bidirectional=True)
    params = jax.jit(layer.init)(jax.random.key(0, impl="rbg"))  # rbg: a quick compile
    values = np.concatenate([np.asarray(v).ravel() for v in params.values()])
    bound = 1 / 8
    assert np.abs(values).max() <= bound and values.var() == pytest.approx(bound**2 / 3, rel=0.03)
    assert params["weight_ih_l1_reverse"].shape == (256, 128)  # 4 gates; the layer below feeds both directions


def test_dropout_between_layers_only_in_training():
    layer = nx.nn.GRU(INPUT, HIDDEN, num_layers=2, dropout=0.5)
    params, x = random_params(layer, scale=0.5), jnp.asarray(data(LENGTH, BATCH, INPUT))
    apply = jax.jit(layer.apply, static_argnames="train")
    key = jax.random.key(0, impl="rbg")  # dropout masks from RngBitGenerator compile quickly
    evaluated, _ = apply(params, x, key=key)
    trained, _ = apply(params, x, key=key, train=True)
    again, _ = apply(params, x, key=key, train=True)
    np.testing.assert_array_equal(trained, again)
    assert not np.allclose(trained, evaluated)
    with pytest.raises(ValueError, match=r"GRU\(4, 6, num_layers=2, dropout=0.5\) in training needs a PRNG key"):
        layer.apply(params, x, train=True)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nx.nn.LSTM(INPUT, HIDDEN, dropout=0.2)


def lstm_with(x, hx=None):
    layer = nx.nn.LSTM(INPUT, HIDDEN, num_layers=2)
    return layer.apply(random_params(layer), jnp.ones(x), hx)


ERRORS = [
    ("input-size", lambda: lstm_with((LENGTH, BATCH, 5)),
     r"LSTM\(4, 6, num_layers=2\): expected 3-D \(batched\) or 2-D \(unbatched\) input with input_size=4 features in "
     r"its last dimension, got input of shape \(5, 3, 5\)"),
    ("hidden-shape", lambda: lstm_with((LENGTH, BATCH, INPUT), (jnp.zeros((1, BATCH, HIDDEN)), jnp.zeros((2, BATCH, HIDDEN)))),
     r"LSTM\(4, 6, num_layers=2\): expected h_0 of shape \(2, 3, 6\) for batched input, got h_0 of shape \(1, 3, 6\)"),
    ("lstm-state-pair", lambda: lstm_with((LENGTH, BATCH, INPUT), jnp.zeros((2, BATCH, HIDDEN))),
     r"hx must be a tuple \(h_0, c_0\), got ArrayImpl"),
    ("unbatched-state", lambda: nx.nn.GRUCell(INPUT, HIDDEN).apply(random_params(nx.nn.GRUCell(INPUT, HIDDEN)),
                                                                   jnp.ones(INPUT), jnp.zeros((1, HIDDEN))),
     r"GRUCell\(4, 6\): expected h_0 of shape \(6,\) for unbatched input, got h_0 of shape \(1, 6\)"),
    ("nonlinearity", lambda: nx.nn.RNN(INPUT, HIDDEN, nonlinearity="gelu"),
     r"RNN: unknown nonlinearity 'gelu'; select from 'tanh' or 'relu'"),
    ("hidden-size", lambda: nx.nn.GRU(INPUT, 0), r"GRU: hidden_size must be a positive int, got 0"),
]


@pytest.mark.parametrize("case, make_error, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_layer_and_the_shapes(case, make_error, message):
    with pytest.raises(ValueError, match=message):
        make_error()
