"""Known values as program arguments."""

from __future__ import annotations

import math

import jax
import numpy as np

# Python numbers held as JAX scalars for the programs that take them (see as_argument).
DEVICE_SCALARS_HELD = 256


def as_argument(value):
    """A known value as a program argument: a Python number becomes the same number as a
    JAX scalar, kept for the next program that takes it.

    JAX converts a Python number passed to a jitted function on every call, about 1.5 us on
    the CPU, while a JAX scalar of the same (weak) type goes through as it is and compiles to
    the same program. The numbers a loop passes are mostly the same each step (a learning
    rate, a loss's constants). Where JAX's default device is an accelerator, numbers stay
    Python numbers: a program with no array argument runs on the CPU (see `call_program`),
    and a scalar on the accelerator would move it there."""
    if type(value) not in _PYTHON_NUMBERS or value != value:
        return value  # (NaN never matches itself)
    on_device = _SCALARS_ON_DEVICE[0]
    if on_device is None:  # (asked on first use: asking at import would start JAX's backends)
        on_device = _SCALARS_ON_DEVICE[0] = jax.default_backend() == "cpu"
    if not on_device:
        return value
    # A zero is a JAX scalar too (a learning rate annealed to 0 must not make a second
    # executable); its sign is part of its key, as -0.0 == 0.0.
    key = (type(value), value) if value else (type(value), value, math.copysign(1.0, value))
    scalar = DEVICE_SCALARS.get(key)
    if scalar is None:
        if type(value) is int and not -(2**63) <= value < 2**63:
            return value  # JAX's own error, as before
        if len(DEVICE_SCALARS) >= DEVICE_SCALARS_HELD:  # e.g. a step counter: a new number every step
            DEVICE_SCALARS.clear()
        scalar = jax.device_put(value)
        if isinstance(scalar, jax.core.Tracer):  # inside a trace (a Function's forward, say): nothing to keep
            return value
        DEVICE_SCALARS[key] = scalar
    return scalar


def device_value(expr):
    """A known expr's value as programs see it. A NumPy array (a small tensor made from data
    keeps its values on the host until a program takes them) moves to the device the first
    time, and the expr keeps the moved value."""
    value = expr.value
    if type(value) is np.ndarray:
        value = expr.value = on_device(value)
    return value


def program_argument(expr):
    """A known expr's value as a program argument: its `device_value`, with a Python number
    as a JAX scalar (`as_argument`). (Other values, of a type not in CONVERTED, are taken as
    they are.)"""
    return device_value(expr) if type(expr.value) is np.ndarray else as_argument(expr.value)


def on_device(values) -> jax.Array:
    """A NumPy array's values (a copy) as a JAX array on JAX's default device; a JAX array as
    it is. `jax.device_put` rather than `jnp.asarray`, which compiles a small program for every
    new shape and dtype it converts (tens of milliseconds each): a short script creating tensors
    of a dozen shapes spent a second in it."""
    return jax.device_put(values)


DEVICE_SCALARS: dict = {}
_PYTHON_NUMBERS = frozenset({float, int})  # the numbers kept as JAX scalars
CONVERTED = frozenset({*_PYTHON_NUMBERS, np.ndarray})  # the types of known values `program_argument` changes
_SCALARS_ON_DEVICE: list = [None]  # whether JAX's default backend is the CPU
