"""The global random stream of `nablax.stateful`: `manual_seed(s)` makes every later random
tensor reproducible. The numbers are JAX's (threefry), not PyTorch's (Mersenne Twister):
the same seed gives different values in the two frameworks, from the same distributions."""

from __future__ import annotations

import secrets

import jax
import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..device import as_device
from ..engine import Op
from ..layouts import check_memory_format
from ..recording import record
from .common import not_implemented
from .creation import NO_SIZE, finish, size_argument, sizes_or_keyword, tensor

# A fixed default seed (PyTorch's documented default value): unseeded runs are
# reproducible, where PyTorch 2.13 draws a random seed per process.
_DEFAULT_SEED = 67280421310721


class Generator:
    """A seed and a counter: draw n uses the key `fold_in(key(seed), n)`.

        >>> import nablax.stateful as torch
        >>> g = torch.Generator().manual_seed(0)
        >>> torch.rand(2, generator=g).shape
        torch.Size([2])
    """

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise RuntimeError(f"Overflow when unpacking long long: {seed}")
        self._seed = seed % 2**63
        self._counter = 0
        return self

    def seed(self) -> int:
        """Seeds this generator from the operating system and returns the seed."""
        value = secrets.randbits(63)
        self.manual_seed(value)
        return value

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The state (seed and draws so far) as a uint8 tensor, for `set_state`. (PyTorch's
        holds its Mersenne Twister's state: the two cannot be exchanged.)"""
        return tensor(np.array([self._seed, self._counter], np.int64).view(np.uint8), dtype=dt.uint8)

    def set_state(self, new_state) -> Generator:
        state = np.asarray(new_state._host(), np.uint8)
        if state.shape != (16,):
            raise RuntimeError(f"Expected a state of 16 bytes (from get_state()), got {state.size}")
        self._seed, self._counter = (int(v) for v in state.view(np.int64))
        return self

    def next_draw(self) -> tuple[int, int]:
        """(seed, counter) of the next draw: passed to programs as plain arguments, so
        drawing again never recompiles."""
        self._counter += 1
        return self._seed, self._counter


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seeds the global stream, as `torch.manual_seed` does."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seeds the global stream from the operating system and returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


def next_draw(generator: Generator | None) -> tuple[int, int]:
    """(seed, counter) of the next draw from `generator`, or from the global stream."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"expected a torch.Generator, got {type(generator).__name__}")
    return (generator or default_generator).next_draw()


def key_of(seed, counter):
    return jax.random.fold_in(jax.random.key(seed), counter)


def _draw(seed, counter, *, kind, shape, dtype, low=0, high=1):
    key = key_of(seed, counter)
    if kind == "uniform":
        return jax.random.uniform(key, shape, dtype)
    if kind == "normal":
        return jax.random.normal(key, shape, dtype)
    if kind == "randint":  # drawn as int64, so that float and bool dtypes get integers too
        return jax.random.randint(key, shape, low, high, jnp.int64).astype(dtype)
    return jax.random.permutation(key, shape[0]).astype(dtype)


DRAW = Op("random", _draw)


def _random(kind, shape, dtype, generator=None, requires_grad=False, device=None, layout=None, **bounds):
    seed_value, counter = next_draw(generator)
    static = (("kind", kind), ("shape", shape), ("dtype", dtype.numpy), *sorted(bounds.items()))
    tensor = record(DRAW, (seed_value, counter), shape, dtype.numpy, None, static)
    return finish(tensor, device, requires_grad, layout)


def _floating(name: str, dtype, kernel: str) -> dt.dtype:
    """The dtype of a draw of floats: `dtype` (floating) or the default."""
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()
    if not dtype.is_floating_point:
        raise not_implemented(kernel, dtype)
    return dtype


def rand(*sizes, size=NO_SIZE, dtype=None, generator=None, requires_grad=False, device=None, layout=None):
    """Uniform on [0, 1)."""
    shape = size_argument(sizes_or_keyword("rand", sizes, size))
    return _random("uniform", shape, _floating("rand", dtype, "check_uniform_bounds"), generator, requires_grad, device,
                   layout)


def randn(*sizes, size=NO_SIZE, dtype=None, generator=None, requires_grad=False, device=None, layout=None):
    """Standard normal."""
    shape = size_argument(sizes_or_keyword("randn", sizes, size))
    return _random("normal", shape, _floating("randn", dtype, "normal_kernel_cpu"), generator, requires_grad, device,
                   layout)


def _check_integer_bounds(low: int, high: int, dtype: dt.dtype) -> None:
    """PyTorch's checks of randint's range: not empty, and within the dtype."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dtype.is_floating_point or dtype is dt.bool_:
        return
    info = np.iinfo(dtype.numpy)
    if not info.min <= low <= info.max:
        raise RuntimeError(f"from is out of bounds for {dtype.cpp_name}")
    if not info.min <= high - 1 <= info.max:
        raise RuntimeError(f"to - 1 is out of bounds for {dtype.cpp_name}")


_RANDINT_OPTIONS = ("torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
                    "bool pin_memory = False, bool requires_grad = False)")
_RANDINT_FORMS = ("randint() received an invalid combination of arguments - got ({}), but expected one of:\n" + "".join(
    f" * ({bounds}, tuple of ints size, *, {generator}Tensor out = None, {_RANDINT_OPTIONS}\n"
    for bounds in ("int high", "int low, int high") for generator in ("torch.Generator generator, ", "")))


def randint(*args, size=None, low=None, high=None, dtype=None, generator=None, requires_grad=False, device=None,
            layout=None):
    """Integers uniform on [low, high): `randint(high, size)` or `randint(low, high, size)`,
    by position or keyword."""
    given = [*args, *(value for value in (low, high, size) if value is not None)]
    if len(given) == 2:
        (high, size), low = given, 0
    elif len(given) == 3:
        low, high, size = given
    if len(given) not in (2, 3) or not all(isinstance(v, (int, np.integer)) for v in (low, high)):
        raise TypeError(_RANDINT_FORMS.format(", ".join(type(v).__name__ for v in args)))
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.int64
    _check_integer_bounds(int(low), int(high), dtype)
    return _random("randint", size_argument((size,)), dtype, generator, requires_grad, device, layout, low=int(low),
                   high=int(high))


def randperm(n: int, *, dtype=None, generator=None, requires_grad=False, device=None, layout=None):
    """A random permutation of 0..n-1."""
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.int64
    shape = size_argument((int(n),))
    if dtype is dt.bool_:
        raise not_implemented("randperm", dtype)
    if not dtype.is_floating_point and n - 1 > np.iinfo(dtype.numpy).max:
        raise RuntimeError(f"value cannot be converted to type {dtype.numpy}_t without overflow")
    return _random("permutation", shape, dtype, generator, requires_grad, device, layout)


def rand_like(x, *, dtype=None, generator=None, requires_grad=False, device=None, layout=None, memory_format=None):
    check_memory_format(memory_format, "rand_like", x.ndim)
    return rand(tuple(x.shape), dtype=dtype or x.dtype, generator=generator, requires_grad=requires_grad, layout=layout,
                device=device or x.device)


def randn_like(x, *, dtype=None, generator=None, requires_grad=False, device=None, layout=None, memory_format=None):
    check_memory_format(memory_format, "randn_like", x.ndim)
    return randn(tuple(x.shape), dtype=dtype or x.dtype, generator=generator, requires_grad=requires_grad, layout=layout,
                 device=device or x.device)


def randint_like(x, low=0, high=None, *, dtype=None, generator=None, requires_grad=False, device=None, layout=None,
                 memory_format=None):
    """`randint` with the shape (and by default the dtype) of `x`."""
    check_memory_format(memory_format, "randint_like", x.ndim)
    low, high = (0, low) if high is None else (low, high)
    return randint(low, high, tuple(x.shape), dtype=dtype or x.dtype, generator=generator,
                   requires_grad=requires_grad, device=device or x.device, layout=layout)


def bernoulli_mask(shape: tuple, keep: float):
    """A key-drawn boolean mask, for dropout (as a pending tensor)."""
    seed_value, counter = default_generator.next_draw()
    return record(_MASK, (seed_value, counter), shape, jnp.dtype(bool), None, (("shape", shape), ("keep", keep)))


_MASK = Op("bernoulli", lambda seed, counter, *, shape, keep: jax.random.bernoulli(key_of(seed, counter), keep, shape))
