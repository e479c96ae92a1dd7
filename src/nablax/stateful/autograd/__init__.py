"""`torch.autograd`: `backward`, `grad`, `Function`, grad mode, and the legacy `Variable`."""

from ..engine import enable_grad as enable_grad
from ..engine import inference_mode as inference_mode
from ..engine import is_grad_enabled as is_grad_enabled
from ..engine import no_grad as no_grad
from ..engine import set_grad_enabled as set_grad_enabled
from .backward import backward as _backward_one
from .backward import grad as grad
from .function import Function as Function
from .function import FunctionCtx as FunctionCtx


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """`torch.autograd.backward`: `tensor.backward(gradient)` for one or more tensors."""
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    gradients = list(grad_tensors) if isinstance(grad_tensors, (list, tuple)) else [grad_tensors] * len(tensors)
    for index, (tensor, gradient) in enumerate(zip(tensors, gradients)):
        keep = retain_graph if retain_graph is not None else index < len(tensors) - 1
        _backward_one(tensor, gradient, retain_graph=keep, create_graph=create_graph, inputs=inputs)


def Variable(data, requires_grad: bool = False, volatile: bool = False):  # noqa: N802 - PyTorch's name
    """The legacy `autograd.Variable(tensor, requires_grad=...)`: since PyTorch 0.4 a
    Variable is a tensor; this returns a tensor sharing `data`'s values."""
    return data.detach().requires_grad_(requires_grad)
