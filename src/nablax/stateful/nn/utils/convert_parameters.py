"""`torch.nn.utils.parameters_to_vector` and `vector_to_parameters`: all parameters as one
flat vector and back, with the existing view and cat ops (so PyTorch's graph: `CatBackward0`)."""

from __future__ import annotations

from ...ops.copies import cat
from ...tensor import Tensor


def _check_param_device(param: Tensor, old_param_device: int | None) -> int:
    """PyTorch's rule: every parameter on the same device (CUDA devices by index, -1 for the CPU)."""
    device = (param.device.index or 0) if param.device.type == "cuda" else -1
    if old_param_device is not None and device != old_param_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return device


def parameters_to_vector(parameters) -> Tensor:
    """The parameters, flattened and concatenated in order, as one 1-D tensor."""
    device, pieces = None, []
    for param in parameters:
        device = _check_param_device(param, device)
        pieces.append(param.view(-1))
    return cat(pieces)


def _typename(obj) -> str:
    """`torch.typename` of something that is not a tensor: its qualified type name."""
    kind = type(obj)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copies consecutive slices of the 1-D `vec` into the parameters (their `.data`), in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    device, pointer = None, 0
    for param in parameters:
        device = _check_param_device(param, device)
        count = param.numel()
        param.data = vec[pointer : pointer + count].view_as(param).data
        pointer += count
