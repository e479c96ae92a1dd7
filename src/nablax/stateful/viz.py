"""Pictures of the recorded computation graph: the backward graph behind a tensor, as
Graphviz DOT text, and as SVG or PNG when Graphviz's `dot` program is installed.

Nodes are the `grad_fn` objects the notes draw by hand (`MulBackward0`, `AddBackward0`,
...); leaves that accumulate gradients are drawn with their name (when given) and shape.

    >>> import nablax.stateful as torch
    >>> w = torch.tensor(1.0, requires_grad=True)
    >>> loss = (w * torch.tensor(1.0) - 2) ** 2
    >>> print(graph(loss, {"w": w}).source.splitlines()[0])
    digraph {
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

from .grad_fn import AccumulateGrad

_STYLE = {
    "root": 'shape=box, style="filled,rounded", fillcolor="#cfe2f3", fontname="Helvetica"',
    "op": 'shape=box, style="filled,rounded", fillcolor="#eeeeee", fontname="Helvetica"',
    "leaf": 'shape=box, style=filled, fillcolor="#d9ead3", fontname="Helvetica"',
}


_DRAWN = ("svg", "png", "pdf")  # the formats `dot` draws for us


class Graph:
    """A drawn graph: `source` is the DOT text; `save(path)` writes `.dot`, `.svg` or `.png`."""

    def __init__(self, source: str):
        self.source = source

    def __str__(self) -> str:
        return self.source

    def save(self, path) -> pathlib.Path:
        """Writes the graph to `path`, in the format its suffix names (.dot, .gv, .svg, .png)."""
        path = pathlib.Path(path)
        kind = path.suffix.lstrip(".").lower()
        if kind in ("dot", "gv"):
            path.write_text(self.source)
            return path
        if kind not in _DRAWN:
            raise ValueError(f"graph.save: unknown format {path.suffix!r}; use .dot, .svg, .png or .pdf")
        path.write_bytes(self.render(kind))
        return path

    def render(self, kind: str = "svg") -> bytes:
        """The graph drawn by Graphviz's `dot` in `kind` (svg, png, pdf)."""
        if kind not in _DRAWN:
            raise ValueError(f"graph.render: kind must be one of {', '.join(_DRAWN)}, got {kind!r}; save(path) picks it from the suffix")
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(
                "drawing needs Graphviz's `dot` program (e.g. `apt install graphviz` or `brew install graphviz`); "
                "graph(...).source is the DOT text without it"
            )
        return subprocess.run([dot, f"-T{kind}"], input=self.source.encode(), capture_output=True, check=True).stdout

    def _repr_svg_(self) -> str | None:  # drawn inline in notebooks
        return self.render("svg").decode() if shutil.which("dot") else None


def _shape_text(tensor) -> str:
    return "(" + ", ".join(str(size) for size in tensor.shape) + ")"


def graph(tensor, params: dict | None = None) -> Graph:
    """The backward graph behind `tensor`, from its `grad_fn` down to the leaves.

    `params` names leaves: a dict of name -> tensor, e.g. `dict(model.named_parameters())`.
    """
    names = {id(value): name for name, value in (params or {}).items()}
    lines = ["digraph {", '  graph [rankdir=BT, fontname="Helvetica"];']
    ids: dict[int, tuple[str, object]] = {}  # id(node) -> (its name in the drawing, the node, held meanwhile)

    def node_id(node) -> str:
        if id(node) not in ids:
            ids[id(node)] = (f"n{len(ids)}", node)
        return ids[id(node)][0]

    root = tensor.grad_fn
    label = f"{'output' if root is not None else 'tensor'}\\n{_shape_text(tensor)}"
    lines.append(f'  out [label="{label}", {_STYLE["root"]}];')
    if root is None:
        lines.append("}")
        return Graph("\n".join(lines))
    lines.append(f"  {node_id(root)} -> out;")
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            leaf = node.variable
            if leaf is None:  # the leaf tensor no longer exists; the graph still points at it
                text = "leaf"
            else:
                name = names.get(id(leaf), "")
                text = f"{name}\\n{_shape_text(leaf)}" if name else _shape_text(leaf)
            lines.append(f'  {node_id(node)} [label="{text}", {_STYLE["leaf"]}];')
            continue
        lines.append(f'  {node_id(node)} [label="{type(node).__name__}", {_STYLE["op"]}];')
        for child, _ in node.next_functions:
            if child is not None:
                lines.append(f"  {node_id(child)} -> {node_id(node)};")
                stack.append(child)
    lines.append("}")
    return Graph("\n".join(lines))
