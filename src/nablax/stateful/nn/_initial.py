"""Initial parameters of the stateful layers: the functional face's `init`, drawn from the
global random stream as one compiled program per layer description.

Run eagerly, a layer's `init` compiles a program for each JAX random function and each
parameter shape, fully optimized: 3.8 s for a digits CNN's four layers (without the persistent
compilation cache), before the script has computed anything. As one program per layer description (equal layers share it),
taking the draw's seed and counter as arguments, it compiles at the engine's middle level
(`MIDDLE_COMPILER_OPTIONS`: the numbers of the eager `init`, to the bit) in a third of the time
(1.1-1.2 s).
"""

from __future__ import annotations

import functools

import jax

from ... import nn as pure
from ..engine import cache
from ..ops.random import default_generator, key_of


class _InitProgram:
    """One layer description's `init` as a compiled program of (seed, counter)."""

    def __init__(self, layer: pure.Layer):
        self.layer = layer
        self.names: tuple[str, ...] = ()  # the parameters in `init`'s (PyTorch's) order, noted while tracing
        self.program = jax.jit(self._init, compiler_options=cache.middle_options())

    def _init(self, seed, counter) -> dict:
        params = self.layer.init(key_of(seed, counter))
        self.names = tuple(params)
        return params

    def __call__(self, seed, counter) -> dict:
        params = self.program(seed, counter)  # (a program's dict comes back with its keys sorted)
        return {name: params[name] for name in self.names}


@functools.lru_cache(maxsize=256)
def _program_for(layer: pure.Layer) -> _InitProgram:
    return _InitProgram(layer)


def initial_parameters(layer: pure.Layer) -> dict:
    """The functional layer's initial parameters, drawn from the global random stream: the
    same numbers as `layer.init(key_of(*default_generator.next_draw()))` run eagerly.

        >>> import nablax.nn as pure
        >>> list(initial_parameters(pure.Linear(3, 2)))
        ['weight', 'bias']
    """
    seed, counter = default_generator.next_draw()
    return _program_for(layer)(seed, counter)
