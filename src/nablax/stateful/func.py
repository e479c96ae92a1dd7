"""The bridge to the functional face: run a stateful module as a pure function of its
parameters (`functional_call`, `to_functional`), with the same names and layouts."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import jax
import numpy as np

from ..state_dict import state_dict as flatten_names
from . import engine
from .engine import no_grad
from .tensor import Tensor


def _as_tensor(value):
    if isinstance(value, Tensor):
        return value
    if not isinstance(value, jax.Array):  # a private copy of host data, which its owner may change later
        value = jax.numpy.asarray(np.array(value))
    return Tensor._from_expr(engine.source(value))


@contextlib.contextmanager
def _swapped(module, tensors: Mapping[str, Tensor], strict: bool, tie_weights: bool):
    """Temporarily puts `tensors` in place of the module's parameters and buffers of the same names."""
    tables = _owners(module)
    if strict:
        errors = []
        unexpected, missing = sorted(set(tensors) - set(tables)), sorted(set(tables) - set(tensors))
        if unexpected:
            errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if errors:
            raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(errors))
    if tie_weights:
        tensors = _untied(tables, tensors)
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


def _untied(tables: dict, tensors: Mapping[str, Tensor]) -> dict:
    """`tensors` plus, for each one replacing a tensor registered under several names (tied
    weights), the same value under the names not given."""
    names_of: dict = {}
    for name, (table, key) in tables.items():
        if table[key] is not None:
            names_of.setdefault(id(table[key]), []).append(name)
    untied = dict(tensors)
    for name, value in tensors.items():
        if name in tables:
            table, key = tables[name]
            for tied in names_of.get(id(table[key]), ()):
                untied.setdefault(tied, value)
    return untied


def _owners(module) -> dict:
    """Dotted name -> (the dict holding it, its key) for every parameter and buffer, under
    every name (a module or tensor shared by two parents appears under both)."""
    owners = {}
    for prefix, submodule in module.named_modules(remove_duplicate=False):
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
        flat = flatten_names(mapping) if any(isinstance(v, Mapping) for v in mapping.values()) else mapping
        repeated = [name for name in flat if name in merged]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        merged.update(flat)
    tensors = {name: _as_tensor(value) for name, value in merged.items()}
    args = args if isinstance(args, tuple) else (args,)
    with _swapped(module, tensors, strict, tie_weights):
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
        return jax.tree_util.tree_map(lambda t: t._value() if isinstance(t, Tensor) else t, out,
                                      is_leaf=lambda t: isinstance(t, Tensor))

    return apply_fn, params
