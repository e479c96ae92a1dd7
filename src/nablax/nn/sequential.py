"""Containers: `Sequential` chains layers, `MLP` builds the usual Linear/activation stack."""

from __future__ import annotations

import jax

from .._keys import as_key
from .activation import ReLU
from .dropout import Dropout
from .layer import Layer, Params, State, require_state
from .linear import Linear


class Sequential(Layer):
    """`torch.nn.Sequential`: applies its layers in order.

    Its parameters are a dict keyed by the layer's position, holding only the layers that have
    parameters, so the flattened names are PyTorch's `state_dict` keys:

        >>> import nablax as nx
        >>> model = nx.nn.Sequential(nx.nn.Linear(3, 4), nx.nn.ReLU(), nx.nn.Linear(4, 1))
        >>> sorted(nx.state_dict(model.init(0)))
        ['0.bias', '0.weight', '2.bias', '2.weight']
    """

    def __init__(self, *layers: Layer):
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: argument {index} must be a nablax layer, got {type(layer).__name__}")
        self.layers = tuple(layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.layers == self.layers

    def __hash__(self) -> int:
        return hash((type(self), self.layers))

    @property
    def has_state(self) -> bool:
        return any(layer.has_state for layer in self.layers)

    def init_state(self) -> State:
        """The initial state of the layers that have one, keyed by position (PyTorch's buffer names)."""
        return {str(index): layer.init_state() for index, layer in enumerate(self.layers) if layer.has_state}

    def init(self, key) -> Params:
        keys = jax.random.split(as_key(key), max(len(self.layers), 1))
        params = {}
        for index, layer in enumerate(self.layers):
            layer_params = layer.init(keys[index])
            if layer_params:
                params[str(index)] = layer_params
        return params

    def apply(self, params: Params, x: jax.Array, *, state: State | None = None, key=None, train: bool = False):
        """The output of the layers in order; with stateful layers, `(output, new_state)`."""
        stateful = self.has_state
        if stateful:
            state = require_state(self, state)
            new_state = {}
        # Each layer gets its own stream, folded from the model's key by the layer's position.
        key = None if key is None else as_key(key)
        for index, layer in enumerate(self.layers):
            name = str(index)
            layer_key = None if key is None else jax.random.fold_in(key, index)
            if layer.has_state:
                x, new_state[name] = layer.apply(params.get(name, {}), x, state=state.get(name), key=layer_key, train=train)
            else:
                x = layer.apply(params.get(name, {}), x, key=layer_key, train=train)
        return (x, new_state) if stateful else x

    def __repr__(self) -> str:
        lines = [f"  ({index}): " + repr(layer).replace("\n", "\n  ") for index, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)" if lines else "Sequential()"


def MLP(
    sizes: list[int] | tuple[int, ...],
    *,
    activation: Layer = ReLU(),
    dropout: float = 0.0,
    bias: bool = True,
) -> Sequential:
    """A multilayer perceptron: `Linear` layers of the given sizes, an activation (and
    `Dropout` when `dropout > 0`) between them, none after the last.

    `MLP([64, 128, 10])` is `Sequential(Linear(64, 128), ReLU(), Linear(128, 10))`, whose
    parameter names match the same `torch.nn.Sequential`.

        >>> MLP([4, 8, 2])
        Sequential(
          (0): Linear(in_features=4, out_features=8, bias=True)
          (1): ReLU()
          (2): Linear(in_features=8, out_features=2, bias=True)
        )
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"MLP: sizes must list at least an input and an output size, got {sizes}")
    layers: list[Layer] = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(fan_in, fan_out, bias=bias))
        if index < len(sizes) - 2:
            layers.append(activation)
            if dropout > 0:
                layers.append(Dropout(dropout))
    return Sequential(*layers)
