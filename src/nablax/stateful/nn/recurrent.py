"""PyTorch's recurrent modules: `RNN`, `LSTM`, `GRU` and the cells `RNNCell`, `LSTMCell`,
`GRUCell`, with its parameter names (`weight_ih_l0`, ..., `_reverse`), checks, messages and
reprs. A forward is one op whose math is the functional layer's apply (`nablax.nn.LSTM`:
each direction of each layer one `lax.scan`); dropout between layers applies in training
mode and draws from the global random stream."""

from __future__ import annotations

import numbers

from ... import nn as pure
from ...nn.recurrent import recurrent_repr
from ._layer_op import record_apply
from ._initial import initial_parameters
from .layers import _numpy_dtype, _register_parameters
from .module import Module

_LAYERS = {"RNN_TANH": pure.RNN, "RNN_RELU": pure.RNN, "LSTM": pure.LSTM, "GRU": pure.GRU}
_NONLINEARITIES = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}


def _check_options(input_size, hidden_size, num_layers, dropout, proj_size) -> None:
    """PyTorch's checks of RNNBase's arguments, in its order."""
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element being "
                         "zeroed")
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")
    if proj_size:
        raise NotImplementedError(f"LSTM: proj_size={proj_size} is not supported by nablax (only proj_size=0)")


def _register(module: Module, layer, device) -> list[str]:
    """Registers the functional layer's initial parameters, in its (PyTorch's) order."""
    params = initial_parameters(layer)
    _register_parameters(module, params, tuple(params), device)
    return list(params)


def _states(hx, paired: bool) -> tuple:
    return () if hx is None else tuple(hx) if paired else (hx,)


class RNNBase(Module):
    """What RNN, LSTM and GRU share: PyTorch's attributes, checks and forward."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__()
        if mode not in _LAYERS:
            raise ValueError("Unrecognized RNN mode: " + mode)
        _check_options(input_size, hidden_size, num_layers, dropout, proj_size)
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        options = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, dropout=float(dropout),
                       bidirectional=bidirectional, dtype=_numpy_dtype(dtype))
        if mode in _NONLINEARITIES:
            options["nonlinearity"] = _NONLINEARITIES[mode]
        self._layer = _LAYERS[mode](input_size, hidden_size, **options)
        self._flat_weights_names = _register(self, self._layer, device)
        per_direction = len(self._flat_weights_names) // (num_layers * (2 if bidirectional else 1))
        self._all_weights = [self._flat_weights_names[i:i + per_direction]
                             for i in range(0, len(self._flat_weights_names), per_direction)]

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Kept for PyTorch's API: cuDNN's packed weights do not exist here."""

    def _check_ranks(self, input, states: tuple) -> bool:
        """PyTorch's checks of the input's and states' ranks; whether the input is batched."""
        if input.ndim not in (2, 3):
            got = f"{input.ndim}D tensor instead" if self.mode.startswith("RNN") else f"{input.ndim}D instead"
            raise ValueError(f"{self._get_name()}: Expected input to be 2D or 3D, got {got}")
        batched = input.ndim == 3
        rank, kind = (3, "batched 3-D") if batched else (2, "unbatched 2-D")
        if states and any(state.ndim != rank for state in states):
            if len(states) == 2:
                raise RuntimeError(f"For {kind} input, hx and cx should also be {rank}-D but got ({states[0].ndim}-D, "
                                   f"{states[1].ndim}-D) tensors")
            raise RuntimeError(f"For {kind} input, hx should also be {rank}-D but got {states[0].ndim}-D tensor")
        return batched

    def _check_forward_args(self, input, states: tuple, batched: bool) -> None:
        """PyTorch's `check_forward_args`: the input's dtype and size, then the states' sizes."""
        weight = self._flat_weights[0]
        if input.dtype is not weight.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). Convert "
                             f"input: input.to({weight.dtype}), or convert model: model.to({input.dtype})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.shape[-1]}")
        batch = (input.shape[0] if self.batch_first else input.shape[1]) if batched else 1
        expected = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        for index, state in enumerate(states):
            shape = list(state.shape) if batched else [state.shape[0], 1, *state.shape[1:]]
            if tuple(shape) != expected:
                which = f"hidden[{index}]" if len(states) == 2 else "hidden"
                raise RuntimeError(f"Expected {which} size {expected}, got {shape}")

    def _grad_names(self, batched: bool) -> tuple[str, str]:
        """The backward nodes PyTorch's CPU kernels leave on the output and the final states."""
        if not batched:
            return "SqueezeBackward1", "SqueezeBackward1"
        lstm = self.mode == "LSTM"
        if self.batch_first:
            output = "TransposeBackward0" if lstm else "TransposeBackward1"
        else:
            output = "CatBackward0" if self.bidirectional else "MkldnnRnnLayerBackward0" if lstm else "StackBackward0"
        return output, "StackBackward0"

    def forward(self, input, hx=None):
        paired = self.mode == "LSTM"
        states = _states(hx, paired)
        batched = self._check_ranks(input, states)
        self._check_forward_args(input, states, batched)
        output_name, state_name = self._grad_names(batched)
        hx = states if paired and states else hx  # an LSTM's (h_0, c_0) as a tuple, whatever PyTorch code passed
        return record_apply(self._layer, dict(self.named_parameters()), (input,), dict(hx=hx),
                            draws=self.training and self.dropout > 0 and self.num_layers > 1,
                            grad_names=(output_name,) + (state_name,) * (2 if paired else 1))

    def extra_repr(self) -> str:
        return recurrent_repr(self, self._layer._repr_options)


class RNN(RNNBase):
    """An Elman RNN, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), over
    (L, N, input_size) or, with `batch_first`, (N, L, input_size); `forward(input, hx=None)`
    returns `(output, h_n)`.

        >>> import nablax.stateful as torch
        >>> rnn = torch.nn.RNN(3, 4, num_layers=2, bidirectional=True)
        >>> output, h_n = rnn(torch.ones(5, 2, 3))
        >>> output.shape, h_n.shape
        (torch.Size([5, 2, 8]), torch.Size([4, 2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if nonlinearity not in modes:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(modes[nonlinearity], input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """A long short-term memory, gates (input, forget, cell, output) stacked as PyTorch does;
    `forward(input, hx=None)` with `hx = (h_0, c_0)` returns `(output, (h_n, c_n))`.

        >>> import nablax.stateful as torch
        >>> lstm = torch.nn.LSTM(3, 4, batch_first=True)
        >>> output, (h_n, c_n) = lstm(torch.ones(2, 5, 3))  # batch, length, input_size
        >>> output.shape, h_n.shape
        (torch.Size([2, 5, 4]), torch.Size([1, 2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """A gated recurrent unit, gates (reset, update, new) stacked as PyTorch does;
    `forward(input, hx=None)` returns `(output, h_n)`."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class RNNCellBase(Module):
    """What the cells share: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, and one step as
    one op (`nablax.nn.RNNCell`, `LSTMCell`, `GRUCell`)."""

    _repr_options: tuple = (("bias", True),)
    _grad_name = "AddBackward0"

    def __init__(self, layer, device):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = layer.input_size, layer.hidden_size, layer.bias
        self._layer = layer
        _register(self, layer, device)

    def _check(self, input, states: tuple) -> None:
        """PyTorch's checks of one step's input and states, in its order."""
        name = self._get_name()
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        for index, state in enumerate(states):
            if state.ndim not in (1, 2):
                which = f"hx[{index}]" if len(states) == 2 else "hidden"
                raise ValueError(f"{name}: Expected {which} to be 1D or 2D, got {state.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}")
        batch = input.shape[0] if input.ndim == 2 else 1
        for index, state in enumerate(states):
            # PyTorch gives the states of an unbatched input a batch dimension before its checks.
            size = tuple(state.shape) if input.ndim == 2 else (1, *state.shape)
            if size[0] != batch:
                raise RuntimeError(f"Input batch size {batch} doesn't match hidden{index} batch size {size[0]}")
            if size[1:] != (self.hidden_size,):
                raise RuntimeError(f"hidden{index} has inconsistent hidden_size: got {size[1]}, expected "
                                   f"{self.hidden_size}")

    def forward(self, input, hx=None):
        paired = isinstance(self, LSTMCell)
        self._check(input, _states(hx, paired))
        names = (self._grad_name, "AddBackward0") if paired else self._grad_name
        return record_apply(self._layer, dict(self.named_parameters()), (input,),
                            dict(hx=None if hx is None else tuple(hx) if paired else hx),
                            grad_names="SqueezeBackward1" if input.ndim == 1 else names)

    def extra_repr(self) -> str:
        return recurrent_repr(self, self._repr_options)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    _repr_options = (("bias", True), ("nonlinearity", "tanh"))

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", device=None,
                 dtype=None):
        # PyTorch accepts any nonlinearity here and refuses an unknown one in forward.
        known = nonlinearity if nonlinearity in ("tanh", "relu") else "tanh"
        super().__init__(pure.RNNCell(input_size, hidden_size, bias, known, dtype=_numpy_dtype(dtype)), device)
        self.nonlinearity = nonlinearity
        self._grad_name = "TanhBackward0" if nonlinearity == "tanh" else "ReluBackward0"

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return super().forward(input, hx)


class LSTMCell(RNNCellBase):
    """One LSTM step: `forward(input, (h, c))` returns the next `(h, c)`."""

    _grad_name = "MulBackward0"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(pure.LSTMCell(input_size, hidden_size, bias, dtype=_numpy_dtype(dtype)), device)


class GRUCell(RNNCellBase):
    """One GRU step: `forward(input, h)` returns the next h."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(pure.GRUCell(input_size, hidden_size, bias, dtype=_numpy_dtype(dtype)), device)
