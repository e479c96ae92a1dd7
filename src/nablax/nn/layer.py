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

Composite layers: a layer whose dataclass fields hold layers (or tuples, lists or dicts of
them) is made of those *sublayers*, named by their fields as PyTorch names submodules
(`attn.in_proj_weight`, `layers.0.linear1.weight`). `init`, `init_state`, `has_state`, the
repr and the PRNG keys of the sublayers come from that rule; the author writes `apply`, in
which `self.bind(params, key=key, train=train, state=state)` hands each sublayer its
parameters, its own key and its state.
"""

from __future__ import annotations

import dataclasses
import functools
import zlib
from collections.abc import Mapping
from typing import Any, ClassVar

import jax

from .._keys import as_key

Params = dict[str, Any]
State = dict[str, Any]
Path = tuple[str, ...]


class Layer:
    """Base of every nablax layer. Subclasses are frozen dataclasses.

    A leaf layer overrides `init` when it has parameters, and `apply` always. A composite
    layer (fields holding layers) writes only `apply`. Layers print like their PyTorch twins:
    `Linear(in_features=3, out_features=1, bias=True)`.
    """

    def __post_init__(self):
        """Lists and dicts of layers become tuples and `LayerDict`s, so the layer stays hashable
        (a composite with its own `__post_init__` calls this one when it has such fields)."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, list) and _all_layers(value):
                object.__setattr__(self, field.name, tuple(value))
            elif isinstance(value, dict) and _all_layers(value.values()):
                object.__setattr__(self, field.name, LayerDict(value))

    sublayer_order: ClassVar[tuple[str, ...]] = ()  # fields named here come first, in this order (PyTorch's registration order)

    def sublayers(self) -> list[tuple[Path, Layer]]:
        """The layers this one is made of, with their paths: a field holding a layer is at
        `(field,)`, item i of a tuple field at `(field, "i")`, a dict entry at `(field, name)`;
        in the order of the fields, or of `sublayer_order` for the fields it names."""
        if not dataclasses.is_dataclass(self):
            return []
        order = self.sublayer_order
        fields = sorted(dataclasses.fields(self), key=lambda f: order.index(f.name) if f.name in order else len(order))
        return [entry for field in fields for entry in _field_sublayers(field.name, getattr(self, field.name))]

    @property
    def has_state(self) -> bool:
        """True when `apply` threads a state pytree (see the module doc); a composite has state
        when any of its sublayers has."""
        return any(layer.has_state for _, layer in self.sublayers())

    def init(self, key) -> Params:
        """Returns the layer's parameters; `{}` for a layer without any. A composite's are its
        sublayers' parameters, nested by path, each drawn from its own key (`sublayer_key`)."""
        sublayers = self.sublayers()
        if not sublayers:
            return {}
        key = as_key(key)
        params: Params = {}
        for path, layer in sublayers:
            layer_params = layer.init(sublayer_key(key, path))
            if layer_params:  # parameter-free sublayers have no state_dict entries in PyTorch either
                _put(params, path, layer_params)
        return params

    def init_state(self) -> State:
        """Returns the layer's initial state (running statistics); `{}` for a layer without any."""
        state: State = {}
        for path, layer in self.sublayers():
            if layer.has_state:
                _put(state, path, layer.init_state())
        return state

    def bind(self, params: Params, *, key=None, train: bool = False, state: State | None = None) -> Bound:
        """This layer's sublayers ready to call inside its `apply` (see `Bound`)."""
        return Bound(self, params, key, train, state)

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        """Computes the layer's output for `x`; pure in `params`, `x` and `key`."""
        raise NotImplementedError(f"{type(self).__name__} must define apply()")

    def __call__(self, params: Params, *inputs, **options):
        return self.apply(params, *inputs, **options)

    def describe(self) -> str:
        """The layer in one line, for error messages: its repr for a leaf layer; a composite's
        name and the fields that are not sublayers."""
        if not self.sublayers():
            return repr(self)
        fields = dataclasses.fields(self) if dataclasses.is_dataclass(self) else ()
        config = [f"{f.name}={getattr(self, f.name)!r}" for f in fields
                  if f.repr and not _field_sublayers(f.name, getattr(self, f.name))]
        return f"{type(self).__name__}({', '.join(config)})" if config else type(self).__name__

    def extra_repr(self) -> str:
        """The text inside the parentheses of the repr, as in PyTorch: a leaf layer's fields;
        nothing for a composite, which prints its sublayers instead (as PyTorch's do)."""
        if not dataclasses.is_dataclass(self) or self.sublayers():
            return ""
        return ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)

    def __repr__(self) -> str:
        return tree_repr(type(self).__name__, self.extra_repr(), _child_reprs(self.sublayers()))


class LayerDict(Mapping):
    """A read-only, hashable dict of layers (PyTorch's `ModuleDict`): a composite's dict field
    of layers becomes one, so that the composite can be a static argument of `jax.jit`."""

    def __init__(self, layers: Mapping[str, Layer]):
        for name in layers:
            if not isinstance(name, str) or "." in name or not name:
                raise ValueError(f"LayerDict: names must be non-empty strings without '.', got {name!r}")
        self._layers = dict(layers)

    def __getitem__(self, name: str) -> Layer:
        return self._layers[name]

    def __iter__(self):
        return iter(self._layers)

    def __len__(self) -> int:
        return len(self._layers)

    def __eq__(self, other) -> bool:
        return isinstance(other, Mapping) and dict(self._layers) == dict(other)

    def __hash__(self) -> int:
        return hash(tuple(self._layers.items()))

    def __repr__(self) -> str:
        return f"LayerDict({self._layers!r})"


def sublayer_key(key: jax.Array, path: Path) -> jax.Array:
    """The PRNG key of the sublayer at `path`: `key` folded with a checksum of its dotted name,
    so a sublayer's stream depends on its name alone, not on the order or number of its siblings.

        >>> import jax
        >>> a, b = sublayer_key(jax.random.key(0), ("attn",)), sublayer_key(jax.random.key(0), ("mlp",))
        >>> bool((jax.random.key_data(a) != jax.random.key_data(b)).any())
        True
    """
    return jax.random.fold_in(key, zlib.crc32(".".join(path).encode()))


class Bound:
    """A composite layer's sublayers, ready to call inside its `apply`.

    `layers = self.bind(params, key=key, train=train, state=state)`; then `layers.attn(x)`
    (a field), `layers.blocks[0](x)` (a tuple field) or `layers("blocks.0", x)` (a path) calls
    that sublayer's `apply` with its parameters, `train`, its own PRNG key (`sublayer_key`;
    a second call of the same sublayer folds in the call count, so two dropout calls draw two
    masks) and, for a layer with state, its state, whose update is kept. `layers.result(y)` is
    what the composite returns: `y`, or `(y, new_state)` when it has state. Keyword options
    (`train=`, `key=`) given to a call override the composite's.

        >>> import dataclasses, jax.numpy as jnp, nablax as nx
        >>> @dataclasses.dataclass(frozen=True, repr=False)
        ... class Residual(nx.nn.Layer):
        ...     inner: nx.nn.Layer
        ...     def apply(self, params, x, *, key=None, train=False, state=None):
        ...         layers = self.bind(params, key=key, train=train, state=state)
        ...         return layers.result(x + layers.inner(x))
        >>> model = Residual(nx.nn.Linear(2, 2))
        >>> sorted(nx.state_dict(model.init(0)))
        ['inner.bias', 'inner.weight']
        >>> model.apply(model.init(0), jnp.ones((3, 2))).shape
        (3, 2)
    """

    def __init__(self, layer: Layer, params: Params, key, train: bool, state: State | None):
        self._layer, self._params, self._train, self._state = layer, params, train, state
        self._key = None if key is None else as_key(key)
        self._sublayers = dict(layer.sublayers())
        self._new_state: State = {}
        self._calls: dict[Path, int] = {}

    def __call__(self, name: str, *inputs, **options):
        """Applies the sublayer at the dotted path `name` to `inputs`."""
        path = tuple(name.split("."))
        layer = self._sublayers.get(path)
        if layer is None:
            names = [".".join(p) for p in self._sublayers]
            raise AttributeError(f"{type(self._layer).__name__} has no sublayer {name!r}; its sublayers are {names}")
        options.setdefault("train", self._train)
        if "key" not in options:
            options["key"] = self._next_key(path)
        params = _get(self._params, path, {})
        if not layer.has_state:
            return layer.apply(params, *inputs, **options)
        # A second call of a stateful sublayer sees the state the first one left, as PyTorch's buffers do.
        state = _get(self._new_state, path, None)
        state = _get(self._state, path, None) if state is None else state
        output, new_state = layer.apply(params, *inputs, state=state, **options)
        _put(self._new_state, path, new_state)
        return output

    def __getattr__(self, name: str):
        if (name,) in self._sublayers:
            return functools.partial(self, name)
        value = getattr(self._layer, name, None)
        if isinstance(value, (tuple, list)) and (name, "0") in self._sublayers:
            return tuple(functools.partial(self, f"{name}.{index}") for index in range(len(value)))
        if isinstance(value, Mapping) and value and (name, next(iter(value))) in self._sublayers:
            return {entry: functools.partial(self, f"{name}.{entry}") for entry in value}
        raise AttributeError(f"{type(self._layer).__name__} has no sublayer {name!r}")

    def result(self, output):
        """`output`, or `(output, new_state)` when the layer has state; sublayers not called
        keep their state."""
        if not self._layer.has_state:
            return output
        return output, _merged(self._state or {}, self._new_state)

    def _next_key(self, path: Path):
        if self._key is None:
            return None
        calls = self._calls.get(path, 0)
        self._calls[path] = calls + 1
        key = sublayer_key(self._key, path)
        return key if calls == 0 else jax.random.fold_in(key, calls)


def tree_repr(name: str, extra: str, children: list[tuple[str, str]]) -> str:
    """PyTorch's module repr: `Name(extra)` for a leaf, the children indented below for a tree."""
    lines = ([extra] if extra else []) + [f"({child}): {text}" for child, text in children]
    if not children:
        return f"{name}({extra})"
    return f"{name}(\n  " + "\n  ".join(line.replace("\n", "\n  ") for line in lines) + "\n)"


def _child_reprs(sublayers: list[tuple[Path, Layer]]) -> list[tuple[str, str]]:
    """(name, repr) per direct child: a layer, or a tuple/dict of layers printed as PyTorch
    prints a `ModuleList` (runs of equal layers folded: `(0-3): 4 x Block(...)`) or `ModuleDict`."""
    groups: dict[str, list[tuple[Path, Layer]]] = {}
    for path, layer in sublayers:
        groups.setdefault(path[0], []).append((path[1:], layer))
    children = []
    for name, members in groups.items():
        if members[0][0] == ():
            children.append((name, repr(members[0][1])))
        elif all(rest[0].isdigit() for rest, _ in members):
            children.append((name, list_repr([layer for _, layer in members])))
        else:
            children.append((name, tree_repr("ModuleDict", "", [(rest[0], repr(layer)) for rest, layer in members])))
    return children


def list_repr(layers: list) -> str:
    """PyTorch's `ModuleList` repr of `layers` (anything with a repr: the stateful face's
    modules too), runs of equal items folded: `(0-3): 4 x Block(...)`."""
    runs: list[list] = []  # [first index, last index, repr]
    for index, layer in enumerate(layers):
        text = repr(layer)
        if runs and runs[-1][2] == text:
            runs[-1][1] = index
        else:
            runs.append([index, index, text])
    children = [(f"{first}" if first == last else f"{first}-{last}", text if first == last else f"{last - first + 1} x {text}")
                for first, last, text in runs]
    return tree_repr("ModuleList", "", children)


def _all_layers(values) -> bool:
    values = list(values)
    return bool(values) and all(isinstance(value, Layer) for value in values)


def _field_sublayers(name: str, value) -> list[tuple[Path, Layer]]:
    if isinstance(value, Layer):
        return [((name,), value)]
    if isinstance(value, (tuple, list)) and _all_layers(value):
        return [((name, str(index)), layer) for index, layer in enumerate(value)]
    if isinstance(value, Mapping) and _all_layers(value.values()):
        return [((name, str(entry)), layer) for entry, layer in value.items()]
    return []


def _get(tree, path: Path, default):
    for name in path:
        if not isinstance(tree, Mapping) or name not in tree:
            return default
        tree = tree[name]
    return tree


def _put(tree: dict, path: Path, value) -> None:
    for name in path[:-1]:
        tree = tree.setdefault(name, {})
    tree[path[-1]] = value


def _merged(old: Mapping, new: Mapping) -> dict:
    merged = dict(old)
    for name, value in new.items():
        both_trees = isinstance(value, Mapping) and isinstance(merged.get(name), Mapping)
        merged[name] = _merged(merged[name], value) if both_trees else value
    return merged


def check_params(layer: Layer, params: Params, expected: dict[str, tuple[int, ...]]) -> None:
    """Raises a clear error when `params` lacks an entry or holds one of the wrong shape."""
    who = layer.describe()
    if not isinstance(params, dict):
        raise TypeError(f"{who}: params must be a dict like layer.init(key) returns, got {type(params).__name__}")
    for name, shape in expected.items():
        if name not in params:
            raise ValueError(
                f"{who}: params has no {name!r} entry (it has {sorted(params)}); "
                f"make them with layer.init(key)"
            )
        actual = tuple(params[name].shape)
        if actual != shape:
            raise ValueError(f"{who}: params[{name!r}] has shape {actual}, expected {shape}")


def require_state(layer: Layer, state: State | None) -> State:
    """The state a stateful layer was given, or an error that says how to make one."""
    if state is None:
        raise ValueError(
            f"{layer.describe()} keeps running statistics and needs its state: call "
            f"apply(params, x, state=model.init_state(), ...), which returns (y, new_state)"
        )
    return state
