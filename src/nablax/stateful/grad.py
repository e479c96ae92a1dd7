"""`tensor.backward()`, `torch.autograd.backward` and `torch.autograd.grad`."""

from __future__ import annotations

import jax.numpy as jnp

from . import autograd, core, lazy
from .core import TensorCore


def _root_and_cotangent(output: TensorCore, gradient, index: int = 0):
    root = output._current_expr()
    if not root.requires_grad:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if output.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return root, None
    if not isinstance(gradient, TensorCore):
        from .creation import tensor

        gradient = tensor(gradient, dtype=output.dtype)
    if gradient.shape != output.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{index}] has a shape of {gradient.shape!r} and output[{index}] has a "
            f"shape of {output.shape!r}."
        )
    return root, lazy.strip(gradient._current_expr())


def _no_create_graph(create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError(
            "create_graph=True (gradients of gradients) is not supported by nablax.stateful; "
            "the functional face composes jax.grad for higher-order derivatives"
        )


def backward(output: TensorCore, gradient=None, *, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulates the gradient of `output` into the `.grad` of the leaves it depends on."""
    _no_create_graph(create_graph)
    root, cotangent = _root_and_cotangent(output, gradient)
    if inputs is not None:
        wanted = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        grads = grad([output], wanted, None if gradient is None else [gradient], retain_graph=retain_graph, allow_unused=True)
        for leaf, value in zip(wanted, grads):
            if value is not None:
                _accumulate(leaf, value._value())
        return
    leaves, grads = autograd.run_backward(root, cotangent, retain_graph=bool(retain_graph))
    for leaf, value in zip(leaves, grads):
        _accumulate(leaf, value)


def _accumulate(leaf: TensorCore, value) -> None:
    """`leaf.grad` becomes `value` (already the sum with the old grad, when there was one);
    the `.grad` tensor object is kept, so references to it see the new values."""
    if leaf.grad is None:
        leaf.grad = _new_tensor(value, leaf)
    else:
        leaf.grad._write(lazy.source(value))


def zero_grads(tensors, set_to_none: bool = True) -> None:
    """Clears the `.grad` of each tensor: to None (PyTorch's default), or to zeros."""
    for tensor in tensors:
        if tensor.grad is not None:
            if set_to_none:
                tensor.grad = None
            else:
                tensor.grad.detach_()
                tensor.grad.zero_()


def _new_tensor(value, like: TensorCore):
    return core.TENSOR_CLASS._from_expr(lazy.source(value), like.device)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs` (leaves or not), returned
    rather than accumulated into `.grad`."""
    _no_create_graph(create_graph)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(outputs) != 1:
        from .math_ops import mul

        if grad_outputs is None:
            total = sum(outputs[1:], outputs[0])
        else:
            total = sum((mul(o, g).sum() for o, g in zip(outputs, grad_outputs)), outputs[0].sum() * 0)
            grad_outputs = None
        outputs = [total]
    gradient = None if grad_outputs is None else (grad_outputs[0] if isinstance(grad_outputs, (list, tuple)) else grad_outputs)
    root, cotangent = _root_and_cotangent(outputs[0], gradient)
    _, variables = autograd._backward_graph(root)
    groups, probes = [], []
    for tensor in inputs:
        if not tensor.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        expr = tensor._current_expr()
        if tensor.is_leaf:
            groups.append([v for v in variables if v.leaf() is tensor])
        else:
            groups.append([])
            probes.append(expr)
    found = autograd.run_backward(root, cotangent, retain_graph=bool(retain_graph), groups=[g for g in groups if g],
                                  probes=probes)
    results, leaf_grads, probe_grads = [], iter(found[: sum(1 for g in groups if g)]), iter(found[sum(1 for g in groups if g):])
    for index, (tensor, group) in enumerate(zip(inputs, groups)):
        if tensor.is_leaf and not group:
            if not allow_unused and not materialize_grads:
                raise RuntimeError(
                    f"The differentiated Tensor at index {index} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
            results.append(_new_tensor(jnp.zeros(tensor.shape, tensor.dtype.numpy), tensor) if materialize_grads else None)
        else:
            results.append(_new_tensor(next(leaf_grads) if tensor.is_leaf else next(probe_grads), tensor))
    return tuple(results)
