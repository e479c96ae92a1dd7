"""Argument and input checks shared by the convolution and pooling layers.

Every error names `who` (a function such as `conv2d`, or a layer's repr) so that a message
raised deep inside a model says which layer was misconfigured.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def is_int(value) -> bool:
    """True for Python and NumPy ints, but not for bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def as_tuple(value, n: int, name: str, who: str, *, minimum: int = 0) -> tuple[int, ...]:
    """`value`, an int or a sequence of `n` ints, as a tuple of `n` ints (torch's `_pair`),
    after checking that each is at least `minimum`.

        >>> as_tuple(3, 2, "kernel_size", "conv2d", minimum=1)
        (3, 3)
    """
    values = (value,) * n if is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or len(values) != n or not all(is_int(v) for v in values):
        raise ValueError(f"{who}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in values):
        kind = "positive" if minimum == 1 else "non-negative" if minimum == 0 else f"at least {minimum}"
        raise ValueError(f"{who}: {name} must be {kind}, got {value!r}")
    return tuple(int(v) for v in values)


def check_positive_int(value, name: str, who: str) -> None:
    """Raises unless `value` is an int of at least 1 (a bool does not count)."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{who}: {name} must be a positive int, got {value!r}")


def check_spatial_input(x, spatial_dims: int, who: str) -> jax.Array:
    """`x` as an array, after checking it is (N, C, *spatial) or unbatched (C, *spatial)."""
    x = jnp.asarray(x)
    if x.ndim not in (spatial_dims + 1, spatial_dims + 2):
        layout = {1: "CL", 2: "CHW"}.get(spatial_dims, "CDHW")
        raise ValueError(
            f"{who}: expected a {spatial_dims + 1}-D unbatched ({', '.join(layout)}) or "
            f"{spatial_dims + 2}-D batched (N, {', '.join(layout)}) input, got input of shape {x.shape}"
        )
    return x


def shape_text(sizes) -> str:
    """Sizes written as torch writes them in messages: `(2 x 2)`."""
    return "(" + " x ".join(str(s) for s in sizes) + ")"
