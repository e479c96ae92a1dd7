"""The bridge to the functional face: run a stateful module as a pure function of its
parameters (`functional_call`, `to_functional`), with the same names and layouts."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import jax

from ..state_dict import state_dict as flatten_names
from . import lazy
from .autograd import no_grad
from .core import TensorCore


def _as_tensor(value):
    if isinstance(value, TensorCore):
        return value
    from .tensor import Tensor

    return Tensor._from_expr(lazy.source(value if isinstance(value, jax.Array) else jax.numpy.asarray(value)))


@contextlib.contextmanager
def _swapped(module, tensors: Mapping[str, TensorCore], strict: bool):
    """Temporarily puts `tensors` in place of the module's parameters and buffers of the same names."""
    tables = {}
    for name, owner in _owners(module).items():
        tables[name] = owner
    unknown = [name for name in tensors if name not in tables]
    if unknown and strict:
        raise RuntimeError(f"Unexpected key(s): {', '.join(repr(n) for n in unknown)}.")
    saved = []
    try:
        for name, value in tensors.items():
            if name in tables:
                table, key = tables[name]
                saved.append((table, key, table[key]))
                table[key] = value
        yield
    finally:
        for table, key, value in reversed(saved):
            table[key] = value


def _owners(module) -> dict:
    """Dotted name -> (the dict holding it, its key) for every parameter and buffer."""
    owners = {}
    for prefix, submodule in module.named_modules():
        for table in (submodule._parameters, submodule._buffers):
            for key in table:
                owners[f"{prefix}.{key}" if prefix else key] = (table, key)
    return owners


def functional_call(module, parameter_and_buffer_dicts, args=(), kwargs=None, *, tie_weights: bool = True, strict: bool = False):
    """Calls `module` with the given tensors (or arrays) in place of its parameters and
    buffers, named as in `state_dict()`; `torch.func.functional_call`."""
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (list, tuple)) else [parameter_and_buffer_dicts]
    merged = {}
    for mapping in dicts:
        merged.update(flatten_names(mapping) if any(isinstance(v, Mapping) for v in mapping.values()) else mapping)
    tensors = {name: _as_tensor(value) for name, value in merged.items()}
    args = args if isinstance(args, tuple) else (args,)
    with _swapped(module, tensors, strict):
        return module(*args, **(kwargs or {}))


def _unflatten(flat: dict) -> dict:
    nested: dict = {}
    for name, value in flat.items():
        node = nested
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def to_functional(module):
    """`(apply_fn, params)`: `apply_fn(params, *args, train=False)` is a pure JAX function
    (jit it, differentiate it) computing `module(*args)` from `params`, a nested dict of JAX
    arrays named like the module's `state_dict()`.

    Inputs may be JAX or NumPy arrays, outputs are JAX arrays. Layers that draw random
    numbers (dropout) are only supported in evaluation (`train=False`).
    """
    params = _unflatten({name: tensor._value() for name, tensor in module.state_dict().items()})

    def apply_fn(params, *args, train: bool = False, **kwargs):
        was_training = module.training
        module.train(train)
        try:
            with no_grad():
                out = functional_call(module, params, tuple(_as_tensor(a) for a in args), kwargs)
        finally:
            module.train(was_training)
        return jax.tree_util.tree_map(lambda t: t._value() if isinstance(t, TensorCore) else t, out,
                                      is_leaf=lambda t: isinstance(t, TensorCore))

    return apply_fn, params
