"""A plan as a program: the Python function `jax.jit` compiles, and how it is called."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .plan import Kind, Plan


def build_program(plan: Plan):
    """The function that computes what `plan` describes, for `jax.jit`.

    It returns the values of `plan.outputs`; with a body, also the root's value, the body's
    outputs and the gradients: `jax.vjp` of the body as a function of the variables,
    pulled back from the cotangent, summed per result and added to the old gradient."""

    def program(*args):
        prelude: list = []
        _run_nodes(plan.prelude, prelude, lambda ref: _resolve(ref, args, prelude))
        outputs = tuple(_resolve(ref, args, prelude) for ref in plan.outputs)
        if plan.body is None:
            return outputs
        body = plan.body

        def forward(*variables):
            values: list = []
            _run_nodes(body.nodes, values, lambda ref: _resolve(ref, args, prelude, values, variables))
            root = _resolve(body.root, args, prelude, values, variables)
            return root, tuple(_resolve(ref, args, prelude, values, variables) for ref in body.outputs)

        root, pullback, body_values = jax.vjp(forward, *(_resolve(ref, args, prelude) for ref in body.variables),
                                              has_aux=True)
        cotangent = (jnp.ones_like(root) if body.cotangent is None
                     else _resolve(body.cotangent, args, prelude).astype(root.dtype))
        grads = pullback(cotangent)
        return outputs, root, body_values, tuple(_gradient(grads, indices, old, args, prelude) for indices, old in body.gradients)

    return program


def _gradient(grads, indices, old_ref, args, prelude):
    total = grads[indices[0]]
    for index in indices[1:]:
        total = total + grads[index]
    if old_ref is not None:
        total = _resolve(old_ref, args, prelude) + total
    # -0.0 -> 0.0: PyTorch's BLAS accumulates from +0 and never shows -0. in a gradient.
    return jnp.where(total == 0, jnp.zeros((), total.dtype), total)


def _resolve(ref, args, prelude, body=None, variables=None):
    kind, index = ref.kind, ref.index
    if kind == Kind.ARG:
        return args[index]
    if kind == Kind.PRELUDE:
        return prelude[index]
    if kind == Kind.BODY:
        return body[index]
    return variables[index]


def _run_nodes(nodes, values, lookup):
    for op, static, refs in nodes:
        values.append(op.fn(*[lookup(ref) for ref in refs], **dict(static)))


def call_program(program, args):
    """Runs a compiled program. One without array arguments (it only creates values) runs
    on the CPU, PyTorch's default device, even where JAX's default is a GPU."""
    for arg in args:
        if isinstance(arg, jax.Array):
            return program(*args)
    with jax.default_device(jax.devices("cpu")[0]):
        return program(*args)
