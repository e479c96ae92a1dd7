"""Shared test set-up: PyTorch as the oracle, and hypothesis profiles.

PyTorch is optional for a plain run (its tests are skipped without it); CI sets
NABLAX_REQUIRE_TORCH=1 so that a missing torch fails instead of silently skipping.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# nablax.stateful turns on jax_enable_x64 for the whole process when imported. Import it up
# front so that every test runs in the same mode whatever the order; the functional face
# must keep float32 under it (its x64-off behaviour is covered by subprocess tests).
import nablax.stateful  # noqa: E402,F401

settings.register_profile(
    "default",
    max_examples=40,
    deadline=None,  # the first example of a shape pays for XLA compilation
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="session")
def torch():
    """The `torch` module, or a skip (a failure when NABLAX_REQUIRE_TORCH is set)."""
    if os.environ.get("NABLAX_REQUIRE_TORCH"):
        import torch
    else:
        torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def to_numpy(value):
    """A JAX array or torch tensor as a NumPy array, for comparisons."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)
