"""Recurrent layers with PyTorch's parameters, gate order and results: `RNN`, `LSTM` and
`GRU` over whole sequences (each direction of each layer one `lax.scan`), and `RNNCell`,
`LSTMCell` and `GRUCell` for one step.

Parameters are named as PyTorch names them (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
`bias_hh_l0`, `..._reverse` for the backward direction; `weight_ih`, ... for a cell), gates
stacked in PyTorch's order (LSTM: input, forget, cell, output; GRU: reset, update, new) and
drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) as PyTorch draws them. The input
projection of every time step is one matrix product before the scan, which then carries only
the hidden-to-hidden product.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from .._keys import as_key
from ._init import uniform
from ._spatial import check_positive_int
from .dropout import check_probability, dropout
from .layer import Layer, Params, check_params
from .linear import linear


def _simple_step(activation):
    def step(h, input_gates, w_hh, b_hh):
        return activation(input_gates + linear(h, w_hh, b_hh))
    return step


def _lstm_step(carry, input_gates, w_hh, b_hh):
    h, c = carry
    i, f, g, o = jnp.split(input_gates + linear(h, w_hh, b_hh), 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(c), c


def _gru_step(h, input_gates, w_hh, b_hh):
    x_r, x_z, x_n = jnp.split(input_gates, 3, axis=-1)
    h_r, h_z, h_n = jnp.split(linear(h, w_hh, b_hh), 3, axis=-1)
    r, z = jax.nn.sigmoid(x_r + h_r), jax.nn.sigmoid(x_z + h_z)
    n = jnp.tanh(x_n + r * h_n)  # the reset gate scales h's projection, bias included, as in PyTorch
    return (1 - z) * n + z * h


@dataclasses.dataclass(frozen=True)
class _Cell:
    """One row per recurrence: gates per unit, the step `(carry, input_gates, w_hh, b_hh) ->
    carry`, and whether the carry is the pair (h, c)."""

    gates: int
    step: Callable
    paired: bool = False


_CELLS = {
    "RNN_TANH": _Cell(1, _simple_step(jnp.tanh)),
    "RNN_RELU": _Cell(1, _simple_step(jax.nn.relu)),
    "LSTM": _Cell(4, _lstm_step, paired=True),
    "GRU": _Cell(3, _gru_step),
}


def _cell_step(mode: str, x, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _CELLS[mode].step(hx, linear(x, w_ih, b_ih), w_hh, b_hh)


def rnn_cell(x, hx, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity: str = "tanh") -> jax.Array:
    """One step of an Elman RNN: act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""
    return _cell_step(_rnn_mode(nonlinearity, "rnn_cell"), x, hx, w_ih, w_hh, b_ih, b_hh)


def lstm_cell(x, hx: tuple, w_ih, w_hh, b_ih=None, b_hh=None) -> tuple[jax.Array, jax.Array]:
    """One LSTM step from `hx = (h, c)` to the new `(h, c)`; gates (input, forget, cell, output)."""
    return _cell_step("LSTM", x, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def gru_cell(x, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> jax.Array:
    """One GRU step; gates (reset, update, new) as PyTorch stacks them.

        >>> import jax.numpy as jnp
        >>> gru_cell(jnp.ones((1, 2)), jnp.zeros((1, 3)), jnp.zeros((9, 2)), jnp.zeros((9, 3))).tolist()
        [[0.0, 0.0, 0.0]]
    """
    return _cell_step("GRU", x, hx, w_ih, w_hh, b_ih, b_hh)


def _rnn_mode(nonlinearity: str, who: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{who}: unknown nonlinearity {nonlinearity!r}; select from 'tanh' or 'relu'")
    return "RNN_" + nonlinearity.upper()


def _check_sizes(layer, who: str) -> None:
    check_positive_int(layer.input_size, "input_size", who)
    check_positive_int(layer.hidden_size, "hidden_size", who)


def _draw(key, shapes: dict, hidden_size: int, dtype) -> Params:
    """PyTorch's initialisation of every recurrent parameter: U(-1/sqrt(hidden), 1/sqrt(hidden))."""
    keys = jax.random.split(as_key(key), len(shapes))
    bound = 1.0 / math.sqrt(hidden_size)
    return {name: uniform(k, shape, bound, dtype) for k, (name, shape) in zip(keys, shapes.items())}


def recurrent_repr(layer, optional: tuple[tuple[str, Any], ...]) -> str:
    """PyTorch's recurrent repr of `layer` (or of anything with its attributes, such as the
    stateful face's modules): the two sizes, then each option that differs from its default."""
    text = f"{layer.input_size}, {layer.hidden_size}"
    return text + "".join(f", {name}={getattr(layer, name)}" for name, default in optional
                          if getattr(layer, name) != default)


def _initial_state(layer, hx, expected: tuple, batched: bool, dtype, paired: bool):
    """The initial carry as a tuple of arrays with a batch axis: zeros when `hx` is None."""
    who = layer.describe()
    if hx is None:
        states = (jnp.zeros(expected, dtype),) * (2 if paired else 1)
    elif paired and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
        raise ValueError(f"{who}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
    else:
        states = tuple(jnp.asarray(s) for s in hx) if paired else (jnp.asarray(hx),)
    for name, state in zip(("h_0", "c_0"), states):
        if state.shape != expected:
            raise ValueError(f"{who}: expected {name} of shape {expected} for {'batched' if batched else 'unbatched'} "
                             f"input, got {name} of shape {state.shape}")
    return tuple(s.astype(dtype) for s in states) if batched else tuple(s[..., None, :].astype(dtype) for s in states)


def _check_input(layer, x, ranks: tuple[int, int]):
    x = jnp.asarray(x)
    if x.ndim not in ranks or x.shape[-1] != layer.input_size:
        raise ValueError(f"{layer.describe()}: expected {ranks[1]}-D (batched) or {ranks[0]}-D (unbatched) input "
                         f"with input_size={layer.input_size} features in its last dimension, got input of shape {x.shape}")
    return x


class _Recurrent(Layer):
    """What RNN, LSTM and GRU share; each declares its fields in PyTorch's argument order."""

    @property
    def mode(self) -> str:
        raise NotImplementedError

    def _validate(self) -> None:
        who = type(self).__name__
        _check_sizes(self, who)
        check_positive_int(self.num_layers, "num_layers", who)
        check_probability(self.dropout)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                          f"num_layers greater than 1, but got dropout={self.dropout} and num_layers={self.num_layers}")

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _param_shapes(self) -> dict[str, tuple[int, ...]]:
        gates, hidden, shapes = _CELLS[self.mode].gates * self.hidden_size, self.hidden_size, {}
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else hidden * self._directions
            for suffix in (f"_l{layer}", f"_l{layer}_reverse")[: self._directions]:
                shapes[f"weight_ih{suffix}"], shapes[f"weight_hh{suffix}"] = (gates, width), (gates, hidden)
                if self.bias:
                    shapes[f"bias_ih{suffix}"] = shapes[f"bias_hh{suffix}"] = (gates,)
        return shapes

    def init(self, key) -> Params:
        return _draw(key, self._param_shapes(), self.hidden_size, self.dtype)

    def _run(self, params: Params, x, carries: tuple, key, train: bool):
        """Time-major `x` [L, N, in] through every layer and direction; returns the last layer's
        outputs [L, N, directions * hidden] and the final carry of each (layer, direction)."""
        cell, finals = _CELLS[self.mode], []
        for layer in range(self.num_layers):
            if layer > 0 and train and self.dropout > 0:  # on every layer's output but the last, as PyTorch does
                x = dropout(x, self.dropout, jax.random.fold_in(key, layer))
            outputs = []
            for direction, suffix in enumerate((f"_l{layer}", f"_l{layer}_reverse")[: self._directions]):
                index = layer * self._directions + direction
                carry = tuple(s[index] for s in carries) if cell.paired else carries[0][index]
                input_gates = linear(x, params[f"weight_ih{suffix}"], params.get(f"bias_ih{suffix}"))
                w_hh, b_hh = params[f"weight_hh{suffix}"], params.get(f"bias_hh{suffix}")

                def step(carry, gates, w_hh=w_hh, b_hh=b_hh):
                    carry = cell.step(carry, gates, w_hh, b_hh)
                    return carry, carry[0] if cell.paired else carry

                carry, output = jax.lax.scan(step, carry, input_gates, reverse=direction == 1)
                finals.append(carry)
                outputs.append(output)
            x = jnp.concatenate(outputs, axis=-1) if len(outputs) > 1 else outputs[0]
        return x, finals

    def apply(self, params: Params, x, hx=None, *, key=None, train: bool = False):
        """`(output, h_n)`, or `(output, (h_n, c_n))` for an LSTM, as PyTorch's forward returns.

        `x` is (L, N, input_size), (N, L, input_size) with `batch_first`, or unbatched
        (L, input_size); `hx` (`(h_0, c_0)` for an LSTM) is (num_layers * directions, N,
        hidden_size), or without N for unbatched input; zeros when None."""
        check_params(self, params, self._param_shapes())
        x = _check_input(self, x, (2, 3))
        batched = x.ndim == 3
        x = (jnp.swapaxes(x, 0, 1) if self.batch_first else x) if batched else x[:, None]
        if train and self.dropout > 0 and self.num_layers > 1 and key is None:
            raise ValueError(f"{self.describe()} in training needs a PRNG key for dropout between layers: pass key=... "
                             f"(or train=False for evaluation)")
        cell = _CELLS[self.mode]
        expected = (self.num_layers * self._directions,) + ((x.shape[1],) if batched else ()) + (self.hidden_size,)
        carries = _initial_state(self, hx, expected, batched, x.dtype, cell.paired)
        output, finals = self._run(params, x, carries, None if key is None else as_key(key), train)
        states = tuple(jnp.stack([f[i] for f in finals]) for i in range(2)) if cell.paired else (jnp.stack(finals),)
        if not batched:
            output, states = output[:, 0], tuple(s[:, 0] for s in states)
        elif self.batch_first:
            output = jnp.swapaxes(output, 0, 1)
        return output, (states if cell.paired else states[0])

    # The options the repr shows when they differ from these defaults, in PyTorch's order.
    _repr_options: tuple = (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                            ("bidirectional", False))

    def extra_repr(self) -> str:
        return recurrent_repr(self, self._repr_options)


@dataclasses.dataclass(frozen=True, repr=False)
class RNN(_Recurrent):
    """`torch.nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)`: h_t = act(x_t W_ih^T + b_ih +
    h_{t-1} W_hh^T + b_hh); `apply(params, x, hx=None)` returns `(output, h_n)`.

        >>> import jax.numpy as jnp
        >>> rnn = RNN(3, 4, num_layers=2, bidirectional=True)
        >>> output, h_n = rnn.apply(rnn.init(0), jnp.ones((5, 2, 3)))  # (length, batch, input_size)
        >>> output.shape, h_n.shape
        ((5, 2, 8), (4, 2, 4))
    """

    input_size: int
    hidden_size: int
    num_layers: int = 1
    nonlinearity: str = "tanh"
    bias: bool = True
    batch_first: bool = False
    dropout: float = 0.0
    bidirectional: bool = False
    dtype: Any = dataclasses.field(default=jnp.float32, repr=False)

    def __post_init__(self):
        self._validate()
        _rnn_mode(self.nonlinearity, "RNN")

    @property
    def mode(self) -> str:
        return _rnn_mode(self.nonlinearity, "RNN")


@dataclasses.dataclass(frozen=True, repr=False)
class _Gated(_Recurrent):
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bias: bool = True
    batch_first: bool = False
    dropout: float = 0.0
    bidirectional: bool = False
    dtype: Any = dataclasses.field(default=jnp.float32, repr=False)

    def __post_init__(self):
        self._validate()

    @property
    def mode(self) -> str:
        return type(self).__name__


class LSTM(_Gated):
    """`torch.nn.LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)`; `apply(params, x, hx=None)` with `hx = (h_0, c_0)`
    returns `(output, (h_n, c_n))`. (PyTorch's `proj_size` is not supported.)

        >>> import jax.numpy as jnp
        >>> lstm = LSTM(3, 4, batch_first=True)
        >>> output, (h_n, c_n) = lstm.apply(lstm.init(0), jnp.ones((2, 5, 3)))  # (batch, length, input_size)
        >>> output.shape, h_n.shape, c_n.shape
        ((2, 5, 4), (1, 2, 4), (1, 2, 4))
    """


class GRU(_Gated):
    """`torch.nn.GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)`; `apply(params, x, hx=None)` returns `(output, h_n)`."""


class _RecurrentCell(Layer):
    """What the three cells share: PyTorch's `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`."""

    @property
    def mode(self) -> str:
        return type(self).__name__[: -len("Cell")]

    def _param_shapes(self) -> dict[str, tuple[int, ...]]:
        gates = _CELLS[self.mode].gates * self.hidden_size
        shapes = {"weight_ih": (gates, self.input_size), "weight_hh": (gates, self.hidden_size)}
        if self.bias:
            shapes["bias_ih"] = shapes["bias_hh"] = (gates,)
        return shapes

    def init(self, key) -> Params:
        return _draw(key, self._param_shapes(), self.hidden_size, self.dtype)

    def apply(self, params: Params, x, hx=None, *, key=None, train: bool = False):
        """The next hidden state (`(h, c)` for an LSTMCell) from `x` (N, input_size) or
        unbatched (input_size,) and `hx` (zeros when None)."""
        check_params(self, params, self._param_shapes())
        x = _check_input(self, x, (1, 2))
        batched = x.ndim == 2
        paired = _CELLS[self.mode].paired
        expected = ((x.shape[0],) if batched else ()) + (self.hidden_size,)
        carry = _initial_state(self, hx, expected, batched, x.dtype, paired)
        carry = carry if paired else carry[0]
        new = _cell_step(self.mode, x if batched else x[None], carry, params["weight_ih"], params["weight_hh"],
                         params.get("bias_ih"), params.get("bias_hh"))
        if batched:
            return new
        return tuple(s[0] for s in new) if paired else new[0]

    _repr_options: tuple = (("bias", True),)

    def extra_repr(self) -> str:
        return recurrent_repr(self, self._repr_options)


@dataclasses.dataclass(frozen=True, repr=False)
class _GatedCell(_RecurrentCell):
    input_size: int
    hidden_size: int
    bias: bool = True
    dtype: Any = dataclasses.field(default=jnp.float32, repr=False)

    def __post_init__(self):
        _check_sizes(self, type(self).__name__)


@dataclasses.dataclass(frozen=True, repr=False)
class RNNCell(_RecurrentCell):
    """`torch.nn.RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh')`.

        >>> import jax.numpy as jnp
        >>> cell = RNNCell(3, 4, nonlinearity="relu")
        >>> cell, cell.apply(cell.init(0), jnp.ones((2, 3))).shape
        (RNNCell(3, 4, nonlinearity=relu), (2, 4))
    """

    input_size: int
    hidden_size: int
    bias: bool = True
    nonlinearity: str = "tanh"
    dtype: Any = dataclasses.field(default=jnp.float32, repr=False)

    _repr_options = (("bias", True), ("nonlinearity", "tanh"))

    def __post_init__(self):
        _check_sizes(self, "RNNCell")
        _rnn_mode(self.nonlinearity, "RNNCell")

    @property
    def mode(self) -> str:
        return _rnn_mode(self.nonlinearity, "RNNCell")


class LSTMCell(_GatedCell):
    """`torch.nn.LSTMCell(input_size, hidden_size, bias=True)`: `apply(params, x, (h, c))`
    returns the next `(h, c)`."""


class GRUCell(_GatedCell):
    """`torch.nn.GRUCell(input_size, hidden_size, bias=True)`: `apply(params, x, h)` returns the next h."""
