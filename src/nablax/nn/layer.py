"""The layer protocol: a frozen description of a layer with a pure `(init, apply)` pair.

A layer object holds only static configuration (sizes, probabilities, ...). Its parameters
live in a separate pytree made by `init(key)`, and `apply(params, x, *, key=None, train=False)`
is a pure function of them, so it can be jitted, differentiated and vmapped freely.
Parameter names and layouts are PyTorch's: the pytree of `Sequential(Linear(3, 2), ...)` is
`{"0": {"weight": [2, 3], "bias": [2]}}`, whose flattened names equal the `state_dict` keys.

Layers with running state (BatchNorm's running statistics) say so with `has_state`; their
state is a second pytree, made by `init_state()` and named like PyTorch's buffers, and
their `apply(params, x, *, state, key=None, train=False)` returns `(y, new_state)`. Layers
without state keep the plain `apply` above. `docs/state-and-randomness.md` explains why.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax

Params = dict[str, Any]
State = dict[str, Any]


class Layer:
    """Base of every nablax layer. Subclasses are frozen dataclasses.

    Override `init` when the layer has parameters and `apply` always. Layers print like
    their PyTorch twins: `Linear(in_features=3, out_features=1, bias=True)`.
    """

    has_state = False  # True for layers whose apply threads a state pytree (see the module doc)

    def init(self, key) -> Params:
        """Returns the layer's parameters; `{}` for a layer without any."""
        del key
        return {}

    def init_state(self) -> State:
        """Returns the layer's initial state (running statistics); `{}` for a layer without any."""
        return {}

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        """Computes the layer's output for `x`; pure in `params`, `x` and `key`."""
        raise NotImplementedError(f"{type(self).__name__} must define apply()")

    def __call__(self, params: Params, x: jax.Array, **options):
        return self.apply(params, x, **options)

    def extra_repr(self) -> str:
        """The text inside the parentheses of the repr, as in PyTorch."""
        fields = dataclasses.fields(self) if dataclasses.is_dataclass(self) else ()
        return ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields if f.repr)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def check_params(layer: Layer, params: Params, expected: dict[str, tuple[int, ...]]) -> None:
    """Raises a clear error when `params` lacks an entry or holds one of the wrong shape."""
    if not isinstance(params, dict):
        raise TypeError(f"{layer!r}: params must be a dict like layer.init(key) returns, got {type(params).__name__}")
    for name, shape in expected.items():
        if name not in params:
            raise ValueError(
                f"{layer!r}: params has no {name!r} entry (it has {sorted(params)}); "
                f"make them with layer.init(key)"
            )
        actual = tuple(params[name].shape)
        if actual != shape:
            raise ValueError(f"{layer!r}: params[{name!r}] has shape {actual}, expected {shape}")


def require_state(layer: Layer, state: State | None) -> State:
    """The state a stateful layer was given, or an error that says how to make one."""
    if state is None:
        raise ValueError(
            f"{layer!r} keeps running statistics and needs its state: call "
            f"apply(params, x, state=model.init_state(), ...), which returns (y, new_state)"
        )
    return state
