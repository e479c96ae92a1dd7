"""Checkpoints of any pytree of arrays — a params dict, a whole `TrainState` with its optax
state — in the safetensors format: named arrays plus a JSON header, never pickle, so
loading a checkpoint cannot run code.

Entries are named by their path in the tree, joined with dots: a params dict gives exactly
PyTorch's `state_dict` keys (`0.weight`), so `safetensors.torch.load_file` reads a params
checkpoint straight into `torch.nn`, and a file PyTorch wrote loads here. Saving is atomic
(temporary file, fsync, rename); loading checks every entry against the structure it is
loaded into and names each one that is missing, unexpected, or of the wrong shape or dtype.

    >>> import pathlib, tempfile, optax, nablax as nx
    >>> model = nx.nn.Linear(3, 2)
    >>> state = nx.TrainState.create(model.init(0), optax.sgd(0.1, momentum=0.9))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "state.safetensors"
    >>> nx.checkpoint.save(path, state)
    >>> restored = nx.checkpoint.load(path, like=state)
    >>> nx.checkpoint.names(state)[:3]
    ['params.bias', 'params.weight', 'opt_state.0.trace.bias']
    >>> nx.checkpoint.read_metadata(path)["step"]
    0
"""

from __future__ import annotations

import json
import os
import pathlib
import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._atomic import write_atomically
from ._safetensors import CheckpointError, encode, read

FORMAT = "nablax.checkpoint/1"

__all__ = ["CheckpointError", "save", "load", "read_metadata", "names", "latest", "epoch_path", "save_epoch", "resume"]


def _entry_name(key) -> str:
    for attribute in ("key", "name", "idx"):  # DictKey, GetAttrKey, SequenceKey / FlattenedIndexKey
        if hasattr(key, attribute):
            return str(getattr(key, attribute))
    return str(key)


def _flatten(tree) -> tuple[dict[str, Any], Any]:
    """The leaves of `tree` by dotted path name (in flattening order), and its treedef."""
    with_paths, treedef = jax.tree_util.tree_flatten_with_path(tree)
    leaves: dict[str, Any] = {}
    for path, leaf in with_paths:
        name = ".".join(_entry_name(key) for key in path) or "value"
        if name in leaves:
            raise CheckpointError(f"two entries of the tree are both named {name!r} (a dict key with a dot?); rename one")
        leaves[name] = leaf
    return leaves, treedef


def names(tree) -> list[str]:
    """The entry names a checkpoint of `tree` holds, in order."""
    return list(_flatten(tree)[0])


def _is_key(leaf) -> bool:
    return isinstance(leaf, jax.Array) and jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def save(path: str | os.PathLike, tree, *, step: int | None = None, metadata: dict | None = None) -> None:
    """Writes `tree` (any pytree of arrays) to `path`, atomically. `step` defaults to the tree's
    `step` when it has one (a `TrainState`); `metadata` is any JSON-serialisable dict, kept in
    the header and returned by `read_metadata`."""
    leaves, treedef = _flatten(tree)
    arrays, keys = {}, {}
    for name, leaf in leaves.items():
        if _is_key(leaf):  # typed PRNG keys are stored as their raw data and rewrapped on load
            keys[name] = str(jax.random.key_impl(leaf))
            leaf = jax.random.key_data(leaf)
        if not hasattr(leaf, "shape") and not isinstance(leaf, (int, float, bool, np.number)):
            raise CheckpointError(f"checkpoint entry {name!r} is a {type(leaf).__name__}, not an array; only arrays are saved")
        arrays[name] = _as_array(leaf)
    if step is None and hasattr(tree, "step"):
        step = int(tree.step)
    header = {
        "format": FORMAT,
        "names": json.dumps(list(arrays)),
        "treedef": str(treedef),  # for people reading the file; loading uses the `like` tree
        "prng_keys": json.dumps(keys),
        "step": json.dumps(step),
        "user": json.dumps(metadata or {}),
    }
    write_atomically(path, encode(arrays, header))


def read_metadata(path: str | os.PathLike) -> dict:
    """The header of a checkpoint: `step`, `names`, the user's `metadata`, and `format`."""
    _, header = read(path)
    return _decoded(header, path)


def _decoded(header: dict[str, str], path) -> dict:
    if header.get("format") != FORMAT:  # written by another program, e.g. safetensors.torch
        return {"format": header.get("format"), "step": None, "names": None, "prng_keys": {}, "metadata": dict(header)}
    try:
        return {
            "format": FORMAT, "step": json.loads(header["step"]), "names": json.loads(header["names"]),
            "prng_keys": json.loads(header["prng_keys"]), "metadata": json.loads(header["user"]),
        }
    except (KeyError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: the nablax header is damaged ({error!r}); the file is corrupt") from error


def load(path: str | os.PathLike, like=None):
    """Reads a checkpoint. With `like` (a tree of the expected structure, e.g. a fresh
    `TrainState` or `model.init(0)`), returns a tree of that structure after checking every
    entry's name, shape and dtype, and raises `CheckpointError` naming every mismatch. Without
    it, returns the entries as nested dicts (the form of a params pytree)."""
    arrays, header = read(path)
    info = _decoded(header, path)
    for name, impl in info["prng_keys"].items():
        if name in arrays:
            arrays[name] = jax.random.wrap_key_data(arrays[name], impl=impl)
    if like is None:
        return _nested(arrays, path)
    expected, treedef = _flatten(like)
    _check_entries(arrays, expected, path)
    return jax.tree_util.tree_unflatten(treedef, [_restored(arrays[name], expected[name]) for name in expected])


def _is_python_scalar(leaf) -> bool:
    return isinstance(leaf, (int, float, bool))


_SCALAR_DTYPES = {bool: np.bool_, int: np.int32, float: np.float32}


def _as_array(leaf) -> np.ndarray:
    """A leaf as the array stored for it. Python scalars (a `TrainState`'s step, counted on the
    host) are stored as JAX holds them by default, so a file does not depend on whether the
    count was on the host or on the device when it was saved."""
    return np.asarray(leaf, _SCALAR_DTYPES[type(leaf)]) if _is_python_scalar(leaf) else np.asarray(leaf)


def _restored(array: np.ndarray, like):
    """The loaded entry in the form of the leaf it replaces: a Python scalar for a Python scalar."""
    return type(like)(array.item()) if _is_python_scalar(like) else jnp.asarray(array)


def _describe(leaf) -> tuple[tuple[int, ...], str]:
    dtype = leaf.dtype if hasattr(leaf, "dtype") else _as_array(leaf).dtype
    return tuple(np.shape(leaf)), str(dtype)


_SCALAR_KINDS = {bool: np.bool_, int: np.integer, float: np.floating}


def _fits(want, got: np.ndarray) -> bool:
    """Whether a stored entry's dtype fits the leaf it is loaded into. A Python scalar asks for
    a number of its kind, not a width: a step count saved from a program (int32, or int64 with
    `jax_enable_x64`) loads into a host count."""
    if _is_python_scalar(want):
        return np.issubdtype(got.dtype, _SCALAR_KINDS[type(want)])
    return _describe(want)[1] == _describe(got)[1]


def _check_entries(found: dict, expected: dict, path) -> None:
    problems = []
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name not in expected]
    if missing:
        problems.append("missing: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected: " + ", ".join(unexpected))
    for name in expected:
        if name in found:
            (want_shape, want_dtype), (got_shape, got_dtype) = _describe(expected[name]), _describe(found[name])
            if want_shape != got_shape:
                problems.append(f"{name}: shape {got_shape} in the file, {want_shape} expected")
            elif not _fits(expected[name], found[name]):
                problems.append(f"{name}: dtype {got_dtype} in the file, {want_dtype} expected")
    if problems:
        raise CheckpointError(
            f"{path} does not fit the structure it is loaded into:\n  " + "\n  ".join(problems)
            + "\nLoad it into a tree built the same way (same model, optimizer and state), or without `like` to inspect it."
        )


def _nested(arrays: dict[str, np.ndarray], path) -> dict:
    tree: dict = {}
    for name, array in arrays.items():
        *parents, last = name.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise CheckpointError(f"{path}: entry {name!r} nests under an array; load it with `like=`")
        node[last] = jnp.asarray(array)
    return tree


_EPOCH_FILE = re.compile(r"^epoch-(\d+)\.safetensors$")


def epoch_path(folder: str | os.PathLike, epoch: int) -> pathlib.Path:
    """Where `fit` keeps the checkpoint taken after `epoch` epochs."""
    return pathlib.Path(folder) / f"epoch-{epoch:06d}.safetensors"


def latest(folder: str | os.PathLike) -> tuple[int, pathlib.Path] | None:
    """The newest `fit` checkpoint in `folder` as (epochs done, path), or None."""
    folder = pathlib.Path(folder)
    found = [(int(m.group(1)), p) for p in folder.glob("epoch-*.safetensors") if (m := _EPOCH_FILE.match(p.name))]
    return max(found) if found else None


def save_epoch(folder: str | os.PathLike, state, epoch: int, *, keep: int | None = 3) -> pathlib.Path:
    """Saves `state` as the checkpoint after `epoch` epochs in `folder` and deletes the oldest
    ones beyond the newest `keep` (None keeps all). The new file is complete on disk before
    any old one goes."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = epoch_path(folder, epoch)
    save(path, state, metadata={"epoch": epoch})
    if keep is not None:
        found = sorted(p for p in folder.glob("epoch-*.safetensors") if _EPOCH_FILE.match(p.name))
        for old in found[:-keep]:
            old.unlink()
    return path


def resume(folder: str | os.PathLike, like) -> tuple[Any, int]:
    """The newest `fit` checkpoint in `folder` loaded into the structure of `like`, and the
    number of epochs it has done; `(like, 0)` when there is none yet."""
    newest = latest(folder)
    if newest is None:
        return like, 0
    epochs_done, path = newest
    return load(path, like=like), epochs_done
