"""`torch.save` / `torch.load` for the stateful face, in the safetensors format instead of
pickle: a checkpoint holds named arrays and a JSON description of the object around them,
so loading one cannot run code.

`save` takes a tensor, a state dict (`model.state_dict()`), an optimizer's `state_dict()`,
or any nesting of dicts, lists and tuples of tensors and plain numbers. A state dict's
entries keep their names, so `safetensors.torch.load_file` reads a nablax checkpoint into
PyTorch, and a file written by `safetensors.torch.save_file` loads here. Writes are atomic.

    >>> import pathlib, tempfile
    >>> import nablax.stateful as torch
    >>> model = torch.nn.Linear(3, 2)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.safetensors"
    >>> torch.save(model.state_dict(), path)
    >>> fresh = torch.nn.Linear(3, 2)
    >>> fresh.load_state_dict(torch.load(path))
    <All keys matched successfully>
    >>> bool((fresh.weight == model.weight).all())
    True
"""

from __future__ import annotations

import json
import os

import numpy as np

from .._atomic import write_atomically
from .._safetensors import CheckpointError, encode, read
from .ops.creation import tensor as make_tensor
from .tensor import Tensor

FORMAT = "nablax.stateful/1"


def _to_host(tensor: Tensor) -> np.ndarray:
    return np.asarray(tensor.detach().numpy())


def _describe(obj, name: str, arrays: dict[str, np.ndarray]):
    """The JSON description of `obj`, with each tensor replaced by its entry name in `arrays`."""
    if isinstance(obj, Tensor):
        entry = name or "tensor"
        if entry in arrays:
            raise ValueError(f"save: two tensors would both be stored as {entry!r}; rename a key containing a dot")
        arrays[entry] = _to_host(obj)
        return {"tensor": entry}
    child = (lambda key: f"{name}.{key}" if name else str(key))
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {type(key).__name__} {key!r}")
        return {"dict": [[key, _describe(value, child(key), arrays)] for key, value in obj.items()]}
    if isinstance(obj, (list, tuple)):
        items = [_describe(value, child(index), arrays) for index, value in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if callable(getattr(obj, "state_dict", None)):  # a module or an optimizer
        kind = type(obj).__name__
        raise TypeError(
            f"save: cannot store a whole {kind} object: checkpoints hold tensors and plain values, never pickled "
            f"objects (PyTorch's torch.load refuses those too by default, weights_only=True). Save its state instead: "
            f"torch.save({name or ('optimizer' if hasattr(obj, 'param_groups') else 'model')}.state_dict(), path), then build a new {kind} and call "
            f".load_state_dict(torch.load(path)) on it"
        )
    raise TypeError(
        f"save: cannot store objects of type {type(obj).__name__}; checkpoints hold tensors, numbers, strings and dicts, lists "
        "and tuples of them (never pickled objects)"
    )


def _check_path(function: str, f) -> None:
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"{function}: expected a file path (str or os.PathLike), got {type(f).__name__}")


def save(obj, f: str | os.PathLike) -> None:
    """Writes `obj` to the file `f` (a path), atomically: a crash mid-save leaves the previous
    file intact. File objects are not supported: the atomic rename needs a path."""
    _check_path("save", f)
    arrays: dict[str, np.ndarray] = {}
    structure = _describe(obj, "", arrays)
    write_atomically(f, encode(arrays, {"format": FORMAT, "structure": json.dumps(structure)}))


def _rebuild(description, tensors: dict, path):
    kind, content = next(iter(description.items()))
    if kind == "tensor":
        if content not in tensors:
            raise CheckpointError(f"{path}: the description names tensor {content!r}, which the file lacks; it is corrupt")
        return tensors[content]
    if kind == "dict":
        return {key: _rebuild(value, tensors, path) for key, value in content}
    if kind in ("list", "tuple"):
        items = [_rebuild(value, tensors, path) for value in content]
        return tuple(items) if kind == "tuple" else items
    if kind == "value":
        return content
    raise CheckpointError(f"{path}: unknown entry kind {kind!r} in its description; it is corrupt")


def load(f: str | os.PathLike, map_location=None, weights_only: bool = True, **_):
    """Reads what `save` wrote — or any safetensors file, as a dict of tensors by name. Never
    runs code from the file (`weights_only` is always true). `map_location` moves the
    tensors (e.g. "cpu")."""
    _check_path("load", f)
    arrays, header = read(f)
    tensors = {name: make_tensor(np.array(array)) for name, array in arrays.items()}
    if map_location is not None:
        tensors = {name: t.to(map_location) for name, t in tensors.items()}
    if header.get("format") != FORMAT:  # e.g. written by safetensors.torch.save_file
        return tensors
    try:
        structure = json.loads(header["structure"])
    except (KeyError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{f}: the object description in its header is damaged ({error!r}); it is corrupt") from error
    return _rebuild(structure, tensors, f)
