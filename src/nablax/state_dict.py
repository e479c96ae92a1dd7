"""PyTorch-style names for parameter pytrees: `{"0": {"weight": w}}` <-> `{"0.weight": w}`.

Because nablax's parameter pytrees use PyTorch's names and layouts, these two functions are
all it takes to move weights between a nablax model and the same `torch.nn` architecture.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def _merged(params: Mapping[str, Any], model_state: Mapping[str, Any]) -> dict[str, Any]:
    """Params and state in one nested dict, each module's parameters before its buffers (PyTorch's order)."""
    merged = dict(params)
    for name, child in model_state.items():
        if isinstance(child, Mapping) and isinstance(merged.get(name), Mapping):
            merged[name] = _merged(merged[name], child)
        else:
            merged[name] = child
    return merged


def state_dict(params: Mapping[str, Any], model_state: Mapping[str, Any] | None = None) -> dict[str, jax.Array]:
    """Flattens a nested parameter dict (and the model's state, if given) into
    `{"dotted.name": array}`, PyTorch's `state_dict` form.

        >>> import jax.numpy as jnp
        >>> state_dict({"0": {"weight": jnp.zeros((2, 3)), "bias": jnp.zeros(2)}}).keys()
        dict_keys(['0.weight', '0.bias'])
    """
    if model_state:
        params = _merged(params, model_state)
    flat: dict[str, jax.Array] = {}

    def visit(prefix: str, node: Any) -> None:
        if isinstance(node, Mapping):
            for name, child in node.items():
                visit(f"{prefix}{name}.", child)
        else:
            flat[prefix[:-1]] = node

    visit("", params)
    return flat


def _to_array(name: str, value: Any) -> jax.Array:
    if hasattr(value, "detach"):  # a torch.Tensor: go through NumPy without importing torch
        value = value.detach().cpu().numpy()
    try:
        return jnp.asarray(np.asarray(value))
    except Exception as error:
        raise TypeError(f"load_state_dict: entry {name!r} is a {type(value).__name__}, not an array") from error


def load_state_dict(template: Mapping[str, Any], state: Mapping[str, Any], model_state: Mapping[str, Any] | None = None):
    """Returns a params pytree shaped like `template` with the values of the flat `state`;
    with a `model_state` template too (e.g. `model.init_state()`), returns `(params,
    model_state)` filled from the same flat dict (PyTorch's buffers).

    `state` may come from `nablax.state_dict`, PyTorch's `module.state_dict()` or a file; its
    values become JAX arrays of the template's dtypes. Every missing, unexpected or wrongly
    shaped entry is reported by name in one error.

        >>> import nablax as nx
        >>> model = nx.nn.Linear(3, 1)
        >>> params = nx.load_state_dict(model.init(0), {"weight": [[1.0, 2.0, 3.0]], "bias": [0.5]})
        >>> params["weight"].tolist()
        [[1.0, 2.0, 3.0]]
    """
    expected = state_dict(template, model_state)
    missing = [name for name in expected if name not in state]
    unexpected = [name for name in state if name not in expected]
    loaded, wrong_shape = {}, []
    for name, reference in expected.items():
        if name in state:
            value = _to_array(name, state[name])
            if value.shape != reference.shape:
                wrong_shape.append(f"{name}: expected {tuple(reference.shape)}, got {tuple(value.shape)}")
            loaded[name] = value.astype(reference.dtype)
    problems = []
    if missing:
        problems.append(f"missing keys: {missing}")
    if unexpected:
        problems.append(f"unexpected keys: {unexpected}")
    if wrong_shape:
        problems.append(f"wrong shapes: {'; '.join(wrong_shape)}")
    if problems:
        raise ValueError("load_state_dict: the state does not match the model's parameters; " + ", ".join(problems))
    if model_state is not None:
        return _unflatten_like(template, loaded), _unflatten_like(model_state, loaded)
    return _unflatten_like(template, loaded)


def _unflatten_like(template: Mapping[str, Any], flat: dict[str, jax.Array], prefix: str = "") -> dict[str, Any]:
    return {
        name: _unflatten_like(child, flat, f"{prefix}{name}.") if isinstance(child, Mapping) else flat[prefix + name]
        for name, child in template.items()
    }


def count_parameters(params: Any) -> int:
    """The number of scalars in a parameter pytree."""
    return sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(params))
