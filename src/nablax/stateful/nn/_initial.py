"""Initial parameters of the stateful layers: the functional face's `init`, drawn from the
global random stream as one compiled program per layer description.

Run eagerly, a layer's `init` compiles a program for each JAX random function and each
parameter shape, fully optimized: about a second for a small CNN's four layers, before the
script has computed anything. As one program per layer description (`jax.jit` with the
layer as a static argument, so that equal layers share it), taking the draw's seed and
counter as arguments, it compiles at the engine's exact quick level (`EXACT_QUICK_OPTIONS`:
the numbers of the eager `init`, to the bit) in a third of the time.
"""

from __future__ import annotations

import functools

import jax

from ... import nn as pure
from ..engine import cache
from ..ops.random import default_generator, key_of


# Each layer description's parameter names in the order its `init` gives them (PyTorch's
# order of registration), noted as its program is traced: a program's dict outputs come back
# with their keys sorted.
_NAMES: dict = {}


def _init(layer: pure.Layer, seed, counter) -> dict:
    params = layer.init(key_of(seed, counter))
    _NAMES[layer] = tuple(params)
    return params


@functools.lru_cache(maxsize=1)
def _init_program():
    """The compiled `init` (built on first use: asking for the options starts JAX's backends)."""
    return jax.jit(_init, static_argnums=0, compiler_options=cache.exact_quick_options())


def initial_parameters(layer: pure.Layer) -> dict:
    """The functional layer's initial parameters, drawn from the global random stream: the
    same numbers as `layer.init(default_generator.next_key())`.

        >>> import nablax.nn as pure
        >>> sorted(initial_parameters(pure.Linear(3, 2)))
        ['bias', 'weight']
    """
    seed, counter = default_generator.next_draw()
    params = _init_program()(layer, seed, counter)
    return {name: params[name] for name in _NAMES[layer]}
