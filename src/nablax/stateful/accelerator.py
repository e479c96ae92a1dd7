"""`torch.accelerator`: the device-agnostic view of the accelerator, here JAX's GPU.

PyTorch's tutorials pick their device with it:

    >>> import nablax.stateful as torch
    >>> device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
    >>> device in ("cpu", "cuda")
    True
"""

from __future__ import annotations

from .device import cuda_device_count, cuda_is_available
from .device import device as Device


def is_available() -> bool:
    """Whether an accelerator (a GPU JAX can use) is present."""
    return cuda_is_available()


def device_count() -> int:
    return cuda_device_count()


def current_accelerator(check_available: bool = False) -> Device | None:
    """The accelerator as a device (`device(type='cuda')`), or None where there is none."""
    return Device("cuda") if cuda_is_available() else None


def current_device_index() -> int:
    """The index of the current accelerator device: 0 (JAX places on its first device)."""
    if not cuda_is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return 0


current_device_idx = current_device_index


def synchronize(device=None) -> None:
    """Waits for queued work; JAX's arrays block when read, so there is nothing to wait on."""
