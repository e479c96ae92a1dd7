"""`torch.cuda`: whether JAX sees a GPU, and how many."""

from .device import cuda_device_count, cuda_is_available
from .ops.random import manual_seed as seed_all


def is_available() -> bool:
    """True when JAX has a GPU backend with at least one device."""
    return cuda_is_available()


def device_count() -> int:
    return cuda_device_count()


def current_device() -> int:
    if not is_available():
        raise AssertionError("Torch not compiled with CUDA enabled: JAX sees no GPU here")
    return 0


def synchronize(device=None) -> None:
    """Waits for queued GPU work; JAX's arrays block when read, so there is nothing to wait on."""


def manual_seed(seed: int) -> None:
    """Seeds the (single, device-independent) random stream."""
    seed_all(seed)


manual_seed_all = manual_seed
