"""The small regression problem the training tests share, and a comparison of pytrees."""

import jax
import numpy as np


def regression_data(n=64, seed=0):
    """`(x, y)`: `n` rows of 3 standard normal features, targets `x @ [1, -2, 0.5] + 0.3`."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)


def assert_trees_close(ours, theirs, atol=1e-6):
    """Every leaf of `ours` within `atol` of the same leaf of `theirs` (same structure)."""
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs), strict=True):
        np.testing.assert_allclose(a, b, atol=atol, rtol=0)
