"""`nablax.summary(module, x)` for the stateful face's modules: each child of a `Sequential`
(or the module itself) with its output shape and parameter count.

Shapes come from the recorded graph: ops record their output shapes as they are called, so
under `no_grad` nothing is computed. `nn.Module.__nablax_summary__` calls this, which keeps
`nablax.summary` free of any import of the stateful face.
"""

from __future__ import annotations

import math

from ..summary import Summary
from .engine import no_grad


def module_summary(module, x) -> Summary:
    """The summary of a stateful `module` on the example input `x`.

        >>> import nablax as nx, nablax.stateful as torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
        >>> module_summary(model, torch.ones(5, 4)).rows[-1]
        ('2', 'Linear', (5, 2), 18)
    """
    children = list(module.named_children()) if type(module).__name__ == "Sequential" else [(type(module).__name__, module)]
    rows = []
    with no_grad():  # shapes are known as soon as the ops are recorded: nothing runs here
        for name, child in children:
            x = child(x)
            count = sum(math.prod(p.shape) for p in child.parameters())
            rows.append((name, type(child).__name__, tuple(x.shape), count))
    total = sum(math.prod(p.shape) for p in module.parameters())
    trainable = sum(math.prod(p.shape) for p in module.parameters() if p.requires_grad)
    return Summary(rows, total, trainable)
