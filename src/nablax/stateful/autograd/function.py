"""`torch.autograd.Function`: an op whose forward and backward the user writes.

`MyFunction.apply(*args)` records one op. Its function of the input values is a
`jax.custom_vjp` whose forward runs the user's `forward(ctx, ...)` and whose backward runs
the user's `backward(ctx, *grad_outputs)`, both on tensors wrapping the traced values: so
the user's backward is the derivative JAX uses, inside the compiled program, as PyTorch's
"defining new autograd functions" tutorial expects.

    >>> import nablax.stateful as torch
    >>> class Cube(torch.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (x,) = ctx.saved_tensors
    ...         return grad_output * 3 * x ** 2
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> y = Cube.apply(x)
    >>> y.sum().backward()
    >>> x.grad
    tensor([ 3., 12.])
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .. import engine
from ..engine import Op, no_grad
from ..recording import output, record_expr
from ..tensor import Tensor


class FunctionCtx:
    """The `ctx` of a Function: what `forward` saves for `backward`."""

    def __init__(self, needs_input_grad: tuple):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()
        self.materialize_grads = True
        self._non_differentiable: set[int] = set()

    def save_for_backward(self, *tensors) -> None:
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable.update(id(tensor) for tensor in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors) -> None:
        raise NotImplementedError("mark_dirty(): a Function that changes its inputs in place is not supported by "
                                  "nablax.stateful; return a new tensor from forward instead")


@jax.tree_util.register_pytree_node_class
class _Residuals:
    """What crosses from the custom_vjp's forward to its backward: the values of the saved
    tensors and of tensor attributes (children), and the rest of the ctx (static)."""

    def __init__(self, values: tuple, layout: tuple):
        self.values, self.layout = values, layout

    def tree_flatten(self):
        return self.values, self.layout

    @classmethod
    def tree_unflatten(cls, layout, values):
        return cls(tuple(values), layout)


class _Opaque:
    """A Python value of the ctx carried as static data (compared by identity)."""

    def __init__(self, value):
        self.value = value


def _tensor(value) -> Tensor:
    return Tensor._from_expr(engine.source(value))


def _pack(ctx: FunctionCtx, inputs: tuple) -> _Residuals:
    """The ctx after forward, and the (shape, dtype) of each input value (for zero gradients)."""
    attributes = {name: value for name, value in vars(ctx).items() if name not in ("saved_tensors", "needs_input_grad")}
    tensors = [name for name, value in attributes.items() if isinstance(value, Tensor)]
    values = tuple(t._value() for t in ctx.saved_tensors) + tuple(attributes[name]._value() for name in tensors)
    others = tuple((name, _Opaque(value)) for name, value in attributes.items() if name not in tensors)
    return _Residuals(values, (len(ctx.saved_tensors), tuple(tensors), others, ctx.needs_input_grad, inputs))


def _unpack(residuals: _Residuals) -> FunctionCtx:
    saved_count, tensors, others, needs, _ = residuals.layout
    ctx = FunctionCtx(needs)
    for name, opaque in others:
        setattr(ctx, name, opaque.value)
    ctx.saved_tensors = tuple(_tensor(v) for v in residuals.values[:saved_count])
    for name, value in zip(tensors, residuals.values[saved_count:]):
        setattr(ctx, name, _tensor(value))
    return ctx


def _outputs(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


@functools.lru_cache(maxsize=256)
def _function_op(function: type, layout: tuple, needs: tuple):
    """The op that `function.apply` records for one layout of arguments (a tensor's place, or
    a non-tensor argument's value): a function of the tensor inputs' values. With it, the
    function giving the op's signature for given inputs (see `signature` below)."""
    observed: dict = {}  # what the user's backward gave when it last ran

    def arguments(values) -> list:
        tensors = iter(values)
        return [_tensor(next(tensors)) if is_tensor else value for is_tensor, value in layout]

    def run_forward(values):
        ctx = FunctionCtx(needs)
        with no_grad():
            result = function.forward(ctx, *arguments(values))
        return tuple(t._value() for t in _outputs(result)), ctx

    @jax.custom_vjp
    def apply(*values):
        return run_forward(values)[0]

    def forward(*values):
        outputs, ctx = run_forward(values)
        return outputs, _pack(ctx, tuple((jnp.shape(v), jnp.result_type(v)) for v in values))

    def backward(residuals, cotangents):
        ctx = _unpack(residuals)
        with no_grad():
            grads = _outputs(function.backward(ctx, *(_tensor(c) for c in cotangents)))
        tensor_grads = [grad for (is_tensor, _), grad in zip(layout, grads) if is_tensor]
        observed["no_gradient"] = tuple(grad is None for grad in tensor_grads)
        return tuple(jnp.zeros(shape, dtype) if grad is None else jnp.asarray(grad._value(), dtype)
                     for grad, (shape, dtype) in zip(tensor_grads, residuals.layout[-1]))

    apply.defvjp(forward, backward)
    op = Op(function.__name__, apply)

    @functools.lru_cache(maxsize=64)
    def signature(avals: tuple) -> tuple[tuple, tuple | bool]:
        """The outputs (shapes and dtypes) of the op on inputs like `avals` and, where some
        input needs a gradient, for each input whether the user's backward gives it one
        (PyTorch leaves the `.grad` of an input whose gradient is None untouched): found by
        tracing, without computing."""
        outputs = tuple(jax.eval_shape(apply, *avals))
        if not any(needs):
            return outputs, False

        def pull_back(*values):
            results, pullback = jax.vjp(apply, *values)
            return pullback(results)

        jax.eval_shape(pull_back, *avals)
        return outputs, tuple(not none for none in observed["no_gradient"])

    return op, signature


class Function:
    """Base of user-defined autograd functions: subclass with static `forward(ctx, ...)` and
    `backward(ctx, *grad_outputs)` and call `YourFunction.apply(...)`."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args):
        tensors = [arg for arg in args if isinstance(arg, Tensor)]
        layout = tuple((True, None) if isinstance(arg, Tensor) else (False, _static(arg)) for arg in args)
        needs = tuple(isinstance(arg, Tensor) and arg.requires_grad and engine.is_grad_enabled() for arg in args)
        op, signature = _function_op(cls, layout, needs)
        outputs, differentiable = signature(tuple(jax.ShapeDtypeStruct(tuple(t.shape), t.dtype.numpy) for t in tensors))
        node, device = record_expr(op, tensors, tuple(o.shape for o in outputs), None, f"{cls.__name__}Backward",
                                   differentiable=differentiable)
        results = tuple(Tensor._from_expr(output(node, index, out.shape, out.dtype, node.requires_grad, node.grad_name), device)
                        for index, out in enumerate(outputs))
        return results if len(results) > 1 else results[0]


def _static(value):
    """A non-tensor argument as part of the op's identity: it must be hashable."""
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"Function.apply: the argument {value!r} is neither a tensor nor hashable; pass tensors, "
                        "numbers, strings or tuples") from None
    return value
