"""`summary`: a model's layers with their output shapes and parameter counts, and totals,
for functional models (`nablax.nn` layers) and stateful ones (`nablax.stateful.nn` modules).

Shapes come from `jax.eval_shape` (functional) or from the recorded graph (stateful), so no
layer is actually computed. A stateful module summarises itself (its `__nablax_summary__`,
in `nablax.stateful._summary`): the functional face never imports the stateful one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from .nn.sequential import Sequential
from .state_dict import count_parameters


@dataclasses.dataclass
class Summary:
    """One row per layer: (name, layer type, output shape, parameter count); printing gives a table."""

    rows: list[tuple[str, str, tuple, int]]
    total_parameters: int
    trainable_parameters: int

    def __str__(self) -> str:
        header = ("Layer", "Type", "Output shape", "Params")
        body = [(name, kind, str(list(shape)), f"{count:,}") for name, kind, shape, count in self.rows]
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(4)]
        rule = "-" * (sum(widths) + 6)
        fmt = lambda row: "  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        lines = [fmt(header), rule, *(fmt(row) for row in body), rule,
                 f"Total params: {self.total_parameters:,}", f"Trainable params: {self.trainable_parameters:,}"]
        return "\n".join(lines)

    __repr__ = __str__


def summary(model: Any, *args, state: Any = None) -> Summary:
    """The summary of `model` on example inputs.

    Functional: `summary(model, params, x)` (and `state=` for a model with state).
    Stateful: `summary(module, x)`.

        >>> import jax.numpy as jnp, nablax as nx
        >>> model = nx.nn.MLP([4, 8, 2])
        >>> print(summary(model, model.init(0), jnp.ones((5, 4))).rows[-1])
        ('2', 'Linear', (5, 2), 18)
    """
    summarize_itself = getattr(model, "__nablax_summary__", None)  # a stateful module
    if summarize_itself is not None:
        return summarize_itself(*args)
    params, x = args
    return _functional_summary(model, params, x, state)


def _functional_summary(model, params, x, state) -> Summary:
    # A Sequential gets a row per layer; any other model (composites included) one row.
    chain = isinstance(model, Sequential)
    layers = list(model.layers) if chain else [model]
    names = [str(i) for i in range(len(layers))] if chain else [type(model).__name__]
    rows = []
    shape = jax.ShapeDtypeStruct(np.shape(x), getattr(x, "dtype", np.float32))
    for name, layer in zip(names, layers):
        layer_params = params.get(name, {}) if chain else params
        if layer.has_state:
            layer_state = (state or {}).get(name) if chain else state
            layer_state = layer.init_state() if layer_state is None else layer_state
            shape = jax.eval_shape(lambda p, s, v: layer.apply(p, v, state=s)[0], layer_params, layer_state, shape)
        else:
            shape = jax.eval_shape(lambda p, v: layer.apply(p, v), layer_params, shape)
        rows.append((name, type(layer).__name__, tuple(shape.shape), count_parameters(layer_params)))
    total = count_parameters(params)
    return Summary(rows, total, total)
