"""The global random stream of `nablax.stateful`: `manual_seed(s)` makes every later random
tensor reproducible. The numbers are JAX's (threefry), not PyTorch's (Mersenne Twister):
the same seed gives different values in the two frameworks, from the same distributions."""

from __future__ import annotations

import secrets

import jax
import jax.numpy as jnp

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from .creation import finish, size_argument

# A fixed default seed (PyTorch's documented default value): unseeded runs are
# reproducible, where PyTorch 2.13 draws a random seed per process.
_DEFAULT_SEED = 67280421310721


class Generator:
    """A seed and a counter: draw n uses the key `fold_in(key(seed), n)`."""

    def __init__(self, seed: int = _DEFAULT_SEED):
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise RuntimeError(f"Overflow when unpacking long long: {seed}")
        self._seed = seed % 2**63
        self._counter = 0
        return self

    def initial_seed(self) -> int:
        return self._seed

    def next_draw(self) -> tuple[int, int]:
        """(seed, counter) of the next draw: passed to programs as plain arguments, so
        drawing again never recompiles."""
        self._counter += 1
        return self._seed, self._counter

    def next_key(self) -> jax.Array:
        seed, counter = self.next_draw()
        return jax.random.fold_in(jax.random.key(seed), counter)


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seeds the global stream, as `torch.manual_seed` does."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seeds the global stream from the operating system and returns the seed."""
    value = secrets.randbits(63)
    default_generator.manual_seed(value)
    return value


def initial_seed() -> int:
    return default_generator.initial_seed()


def key_of(seed, counter):
    return jax.random.fold_in(jax.random.key(seed), counter)


def _draw(seed, counter, *, kind, shape, dtype, low=0, high=1):
    key = key_of(seed, counter)
    if kind == "uniform":
        return jax.random.uniform(key, shape, dtype)
    if kind == "normal":
        return jax.random.normal(key, shape, dtype)
    if kind == "randint":
        return jax.random.randint(key, shape, low, high, dtype)
    return jax.random.permutation(key, shape[0]).astype(dtype)


DRAW = Op("random", _draw)


def _random(kind, shape, dtype, generator=None, requires_grad=False, device=None, **bounds):
    seed_value, counter = (generator or default_generator).next_draw()
    static = (("kind", kind), ("shape", shape), ("dtype", dtype.numpy), *sorted(bounds.items()))
    tensor = record(DRAW, (seed_value, counter), shape, dtype.numpy, None, static)
    return finish(tensor, device, requires_grad)


def rand(*size, dtype=None, generator=None, requires_grad=False, device=None):
    """Uniform on [0, 1)."""
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()
    return _random("uniform", size_argument(size), dtype, generator, requires_grad, device)


def randn(*size, dtype=None, generator=None, requires_grad=False, device=None):
    """Standard normal."""
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()
    return _random("normal", size_argument(size), dtype, generator, requires_grad, device)


def randint(low, high=None, size=None, *, dtype=None, generator=None, requires_grad=False, device=None):
    """Integers uniform on [low, high): `randint(high, size)` or `randint(low, high, size)`."""
    if size is None:
        low, high, size = 0, low, high
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.int64
    return _random("randint", size_argument((size,)), dtype, generator, requires_grad, device, low=int(low), high=int(high))


def randperm(n: int, *, dtype=None, generator=None, requires_grad=False, device=None):
    """A random permutation of 0..n-1."""
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.int64
    return _random("permutation", (int(n),), dtype, generator, requires_grad, device)


def rand_like(x, *, dtype=None, requires_grad=False, device=None):
    return rand(*x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, device=device or x.device)


def randn_like(x, *, dtype=None, requires_grad=False, device=None):
    return randn(*x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, device=device or x.device)


def bernoulli_mask(shape: tuple, keep: float):
    """A key-drawn boolean mask, for dropout (as a pending tensor)."""
    seed_value, counter = default_generator.next_draw()
    return record(_MASK, (seed_value, counter), shape, jnp.dtype(bool), None, (("shape", shape), ("keep", keep)))


_MASK = Op("bernoulli", lambda seed, counter, *, shape, keep: jax.random.bernoulli(key_of(seed, counter), keep, shape))
