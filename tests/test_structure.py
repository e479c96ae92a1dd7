"""The shape of the source tree: no import cycle, the functional face never depends on the
stateful one, the stateful engine imports only JAX and NumPy, and no import hides in a
function except of an optional dependency.

Imports are read from the source with `ast`, imports inside functions included.
"""

from __future__ import annotations

import ast
import pathlib
import sys

import pytest

SOURCE = pathlib.Path(__file__).resolve().parent.parent / "src"
PACKAGE = SOURCE / "nablax"

# Modules of the functional face that may use the stateful face: the side-by-side
# comparison of the styles and the demo that runs it.
USES_BOTH_FACES = {"nablax.side_by_side", "nablax.demo"}
# What may be imported inside a function: optional dependencies, and the stateful face
# where importing it up front would switch JAX to 64-bit types for a functional-only user.
IMPORTED_LATE = {"matplotlib", "sklearn", "tqdm", "nablax.stateful"}


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: pathlib.Path) -> list[tuple[str, bool]]:
    """(module imported, whether inside a function) for every import in `path`; relative
    imports resolved, `from package import module` counted as the module."""
    name, tree = module_name(path), ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, inside) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(parent + ([child.module] if child.module else []))
                found.append((base, inside))
                found.extend((f"{base}.{alias.name}", inside) for alias in child.names)
            visit(child, inside)

    visit(tree, False)
    return found


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
IMPORTS = {name: imported(path) for name, path in MODULES.items()}


def internal_graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports (a package's own __init__ left out)."""
    graph = {}
    for name, imports in IMPORTS.items():
        targets = {target for target, _ in imports if target in MODULES}
        graph[name] = {t for t in targets if t != name and not name.startswith(t + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_cycle():
    assert cycles(internal_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_functional_face_never_imports_the_stateful_face():
    offenders = {name: sorted({target for target, _ in imports if target.startswith("nablax.stateful")})
                 for name, imports in IMPORTS.items()
                 if not name.startswith("nablax.stateful") and name not in USES_BOTH_FACES}
    assert {name: targets for name, targets in offenders.items() if targets} == {}


@pytest.mark.parametrize("name", sorted(name for name in MODULES if name.startswith("nablax.stateful.engine")))
def test_the_engine_imports_only_jax_numpy_and_itself(name):
    outside = {target.split(".")[0] for target, _ in IMPORTS[name]} - {"jax", "numpy", "nablax", "__future__"}
    assert outside <= set(sys.stdlib_module_names)
    project = {target for target, _ in IMPORTS[name] if target.startswith("nablax")}
    assert all(target.startswith("nablax.stateful.engine") for target in project), project


def test_no_import_hides_in_a_function():
    late = {name: sorted({target for target, inside in imports
                          if inside and not any(target == allowed or target.startswith(allowed + ".")
                                                for allowed in IMPORTED_LATE)})
            for name, imports in IMPORTS.items()}
    assert {name: targets for name, targets in late.items() if targets} == {}
