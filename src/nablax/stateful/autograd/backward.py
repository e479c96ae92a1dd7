"""`tensor.backward()`, `torch.autograd.backward` and `torch.autograd.grad` over the engine's
`BackwardPass`, with PyTorch's rules: a scalar output or an explicit gradient, gradients
accumulated into leaves' `.grad`, and a graph freed after a backward pass unless
`retain_graph=True` (a second pass through it raises PyTorch's error).
"""

from __future__ import annotations

import weakref

import jax.numpy as jnp

from .. import engine
from ..grad_fn import NO_DERIVATIVE, NO_DERIVATIVE_IN, NOT_DIFFERENTIABLE
from ..ops.creation import tensor as make_tensor
from ..tensor import Tensor

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward."
)


def _planned(root: engine.Expr, cotangent, probes=()) -> engine.BackwardPass:
    """The backward pass of `root`, refused where PyTorch refuses it."""
    backward = engine.BackwardPass(root, cotangent, probes)
    for expr in backward.nodes:
        if expr.freed or expr.grad_name in _REFUSED_GRAD_NAMES or expr.op.name in NO_DERIVATIVE_IN:  # (most nodes: no)
            _refuse(expr)
    return backward


_REFUSED_GRAD_NAMES = frozenset({NOT_DIFFERENTIABLE, *NO_DERIVATIVE})


def _refuse(expr: engine.Expr) -> None:
    """Raises PyTorch's error where a backward pass cannot go through `expr`: its graph was
    freed, or PyTorch has no derivative for it (or for the inputs gradients flow to)."""
    if expr.freed and expr.op.saves:
        raise RuntimeError(_FREED)
    if expr.grad_name == NOT_DIFFERENTIABLE:
        raise RuntimeError(f"derivative for aten::{expr.op.name} is not implemented")
    if expr.grad_name in NO_DERIVATIVE:
        error, message = NO_DERIVATIVE[expr.grad_name]
        raise error(message)
    for position, (error, message) in NO_DERIVATIVE_IN.get(expr.op.name, {}).items():
        if expr.grad_edges[position]:
            raise error(message)


def _root_and_cotangent(output: Tensor, gradient, index: int = 0):
    root = output._current_expr()
    if not root.requires_grad:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if output.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return root, None
    if not isinstance(gradient, Tensor):
        gradient = make_tensor(gradient, dtype=output.dtype)
    if gradient.shape != output.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{index}] has a shape of {gradient.shape!r} and output[{index}] has a "
            f"shape of {output.shape!r}."
        )
    return root, engine.strip(gradient._current_expr())


# The grad_fn name of a gradient computed with `create_graph=True`: PyTorch's is that of the
# last op of its backward formula, most often a multiplication.
_GRADIENT_GRAD_NAME = "MulBackward0"


def _gradients(backward_pass: engine.BackwardPass, groups, old, create_graph: bool, retain_graph) -> tuple | list:
    """The gradients of the groups: computed now, or (`create_graph`) recorded as nodes that
    a later backward pass differentiates again. Then the graph is freed, unless retained."""
    if create_graph:
        grads = backward_pass.gradient_exprs(groups, _GRADIENT_GRAD_NAME, old)
    else:
        grads = backward_pass.run(groups, old)
    if not retain_graph:
        for expr in backward_pass.nodes:
            expr.freed = True
    return grads


def backward(output: Tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulates the gradient of `output` into the `.grad` of the leaves it depends on."""
    root, cotangent = _root_and_cotangent(output, gradient)
    retain_graph = create_graph if retain_graph is None else retain_graph
    if inputs is not None:
        wanted = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        grads = grad([output], wanted, None if gradient is None else [gradient], retain_graph=retain_graph,
                     create_graph=create_graph, allow_unused=True)
        for leaf, value in zip(wanted, grads):
            if value is not None:
                _accumulate(leaf, value._current_expr() if create_graph else engine.source(value._value()), add=True)
        return
    retaining = _retained_non_leaves() if _RETAINING else ()
    backward_pass = _planned(root, cotangent, [tensor._current_expr() for tensor in retaining] if retaining else ())
    leaves, groups = backward_pass.leaves()
    for tensor in retaining:  # non-leaf tensors that keep their gradient, where the pass reaches them
        index = backward_pass.probe_variable(tensor._current_expr())
        if index is not None:
            leaves.append(tensor)
            groups.append([index])
    old = [None if leaf.grad is None else leaf.grad._current_expr() for leaf in leaves]
    grads = _gradients(backward_pass, groups, old, create_graph, retain_graph)
    for leaf, value in zip(leaves, grads):
        _accumulate(leaf, value if create_graph else engine.source(value))


# Non-leaf tensors whose gradient a backward pass keeps in their `.grad` (`retain_grad()`): weak
# references by id (tensors compare elementwise, so they cannot be members of a set). A plain
# dict, emptied by the references' callbacks: every backward pass asks whether it is empty.
_RETAINING: dict[int, weakref.ref] = {}


def retain_grad(tensor: Tensor) -> None:
    """`tensor.retain_grad()`: backward passes put the gradient of this non-leaf tensor in its
    `.grad` too (a leaf's is kept anyway)."""
    if not tensor.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if not tensor.is_leaf:
        key = id(tensor)
        _RETAINING[key] = weakref.ref(tensor, lambda _, key=key: _RETAINING.pop(key, None))


def _retained_non_leaves() -> list[Tensor]:
    tensors = [reference() for reference in list(_RETAINING.values())]
    return [tensor for tensor in tensors if tensor is not None and not tensor.is_leaf]


def retains_grad(tensor: Tensor) -> bool:
    reference = _RETAINING.get(id(tensor))
    return reference is not None and reference() is tensor and not tensor.is_leaf


def _accumulate(leaf: Tensor, value: engine.Expr, add: bool = False) -> None:
    """`leaf.grad` becomes `value` (the sum with the old grad, unless `add`); the `.grad`
    tensor object is kept, so references to it see the new values."""
    if leaf.grad is None:
        leaf.grad = Tensor._from_expr(value, leaf.device)
    else:
        leaf.grad._write((leaf.grad + Tensor._from_expr(value))._current_expr() if add else value)


def zero_grads(tensors, set_to_none: bool = True) -> None:
    """Clears the `.grad` of each tensor: to None (PyTorch's default), or to zeros."""
    for tensor in tensors:
        if tensor.grad is not None:
            if set_to_none:
                tensor.grad = None
            else:
                tensor.grad.detach_()
                tensor.grad.zero_()


def _new_tensor(value, like: Tensor) -> Tensor:
    return Tensor._from_expr(engine.source(value), like.device)


def _single_output(outputs: list, grad_outputs):
    """Several outputs as one root: their sum, each weighted by its gradient if given."""
    if grad_outputs is None:
        return sum(outputs[1:], outputs[0])
    return sum(((o * g).sum() for o, g in zip(outputs, grad_outputs)), outputs[0].sum() * 0)


def _variables_of(backward_pass: engine.BackwardPass, tensor: Tensor) -> list[int]:
    """The variables of `backward_pass` whose gradients sum to `tensor`'s (none: unused)."""
    if tensor.is_leaf:
        return [index for index, expr in enumerate(backward_pass.variables)
                if expr.op is engine.VAR and engine.leaf_of(expr) is tensor]
    index = backward_pass.probe_variable(tensor._current_expr())
    return [] if index is None else [index]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs` (leaves or not), returned
    rather than accumulated into `.grad`; with `create_graph`, gradients that can be
    differentiated again."""
    retain_graph = create_graph if retain_graph is None else retain_graph
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(outputs) != 1:
        outputs, grad_outputs = [_single_output(outputs, grad_outputs)], None
    gradient = None if grad_outputs is None else (grad_outputs[0] if isinstance(grad_outputs, (list, tuple)) else grad_outputs)
    root, cotangent = _root_and_cotangent(outputs[0], gradient)
    for tensor in inputs:
        if not tensor.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    probes = [tensor._current_expr() for tensor in inputs if not tensor.is_leaf]
    backward_pass = _planned(root, cotangent, probes)
    groups = [_variables_of(backward_pass, tensor) for tensor in inputs]
    found = iter(_gradients(backward_pass, [group for group in groups if group], None, create_graph, retain_graph))
    results = []
    for index, (tensor, group) in enumerate(zip(inputs, groups)):
        if group:
            value = next(found)
            results.append(Tensor._from_expr(value if create_graph else engine.source(value), tensor.device))
        elif not allow_unused and not materialize_grads:
            raise RuntimeError(
                f"The differentiated Tensor at index {index} appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior."
            )
        else:
            results.append(_new_tensor(jnp.zeros(tensor.shape, tensor.dtype.numpy), tensor) if materialize_grads else None)
    return tuple(results)
