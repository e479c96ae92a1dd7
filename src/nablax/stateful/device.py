"""`torch.device` and `torch.cuda` over JAX's devices: 'cpu' is JAX's CPU, 'cuda' its GPU."""

from __future__ import annotations

import functools

import jax


class device:  # noqa: N801 - PyTorch's name
    """A device: `device('cpu')`, `device('cuda')`, `device('cuda:1')` or `device('cuda', 1)`.

        >>> device('cpu')
        device(type='cpu')
    """

    __slots__ = ("type", "index")

    def __init__(self, type_or_string, index: int | None = None):
        if isinstance(type_or_string, device):
            self.type, self.index = type_or_string.type, type_or_string.index
            return
        if not isinstance(type_or_string, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type(type_or_string).__name__})")
        kind, _, number = type_or_string.partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type_or_string}"
            )
        if number:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type_or_string}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type_or_string}'")
            index = int(number)
        self.type, self.index = kind, index

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


device.__module__ = "torch"


@functools.lru_cache(maxsize=None)
def _gpus() -> tuple:
    try:
        return tuple(jax.devices("gpu"))
    except RuntimeError:  # no GPU backend
        return ()


def cuda_is_available() -> bool:
    """Whether JAX sees a GPU."""
    return bool(_gpus())


def cuda_device_count() -> int:
    return len(_gpus())


def as_device(value) -> device:
    """A `device` from a device, a string or an int (a GPU index, as in PyTorch)."""
    if isinstance(value, device):
        return value
    if isinstance(value, int):
        return device("cuda", value)
    return device(value)


def to_jax(target: device) -> jax.Device:
    """JAX's device for `target`, or PyTorch's error when there is no such GPU."""
    if target.type == "cpu":
        return jax.devices("cpu")[0]
    gpus = _gpus()
    if not gpus:
        raise AssertionError(
            "Torch not compiled with CUDA enabled: JAX sees no GPU here (jax.devices('gpu') is empty); "
            "install jax with CUDA support on a machine with an NVIDIA GPU, or use device('cpu')"
        )
    index = target.index or 0
    if index >= len(gpus):
        raise RuntimeError(f"CUDA error: invalid device ordinal (asked for cuda:{index}, JAX sees {len(gpus)} GPU(s))")
    return gpus[index]


def of_jax(jax_device: jax.Device) -> device:
    """Our `device` for a JAX device: GPUs are 'cuda:<n>'."""
    if jax_device.platform == "cpu":
        return device("cpu")
    return device("cuda", _gpus().index(jax_device))


CPU = device("cpu")

# Whether any tensor has ever left the CPU: until then, ops skip their device checks.
DEVICES_IN_USE = [False]


def note_device(target: device) -> None:
    if target.type != "cpu":
        DEVICES_IN_USE[0] = True


# Where factories (`tensor`, `zeros`, `randn`, ...) put a tensor given no `device=`.
_DEFAULT_DEVICE = [CPU]


def set_default_device(target) -> None:
    """`torch.set_default_device`: the device factories use when given none (None: the CPU).

        >>> import nablax.stateful as torch
        >>> torch.set_default_device("cpu")
        >>> torch.zeros(2).device, torch.get_default_device()
        (device(type='cpu'), device(type='cpu'))
    """
    # (A missing GPU is reported when a factory first needs it, as in PyTorch.)
    _DEFAULT_DEVICE[0] = CPU if target is None else as_device(target)


def get_default_device() -> device:
    return _DEFAULT_DEVICE[0]
