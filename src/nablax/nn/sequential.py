"""Containers: `Sequential` chains layers, `MLP` builds the usual Linear/activation stack."""

from __future__ import annotations

import dataclasses

import jax

from .activation import ReLU
from .dropout import Dropout
from .layer import Layer, Params, Path, State, require_state
from .linear import Linear


@dataclasses.dataclass(frozen=True, init=False, repr=False)
class Sequential(Layer):
    """`torch.nn.Sequential`: applies its layers in order.

    A composite whose sublayers are named by position, so its parameters are a dict keyed
    by the layer's position, holding only the layers that have parameters, and the flattened
    names are PyTorch's `state_dict` keys:

        >>> import nablax as nx
        >>> model = nx.nn.Sequential(nx.nn.Linear(3, 4), nx.nn.ReLU(), nx.nn.Linear(4, 1))
        >>> sorted(nx.state_dict(model.init(0)))
        ['0.bias', '0.weight', '2.bias', '2.weight']
    """

    layers: tuple[Layer, ...]

    def __init__(self, *layers: Layer):
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: argument {index} must be a nablax layer, got {type(layer).__name__}")
        object.__setattr__(self, "layers", tuple(layers))

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def sublayers(self) -> list[tuple[Path, Layer]]:
        return [((str(index),), layer) for index, layer in enumerate(self.layers)]

    def apply(self, params: Params, x: jax.Array, *, state: State | None = None, key=None, train: bool = False):
        """The output of the layers in order; with stateful layers, `(output, new_state)`."""
        if self.has_state:
            require_state(self, state)
        layers = self.bind(params, key=key, train=train, state=state)
        for index in range(len(self.layers)):
            x = layers(str(index), x)
        return layers.result(x)


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
