"""The safetensors format, read and written with the `safetensors` package: named arrays and
a string-to-string metadata header, nothing executable. Both faces' checkpoints use it."""

from __future__ import annotations

import json
import os
import pathlib

import ml_dtypes
import numpy as np
from safetensors import SafetensorError, deserialize
from safetensors.numpy import save

# safetensors' dtype codes, including the ones NumPy itself lacks.
_DTYPES = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16, "I16": np.int16, "U32": np.uint32,
    "I32": np.int32, "U64": np.uint64, "I64": np.int64, "F16": np.float16, "BF16": ml_dtypes.bfloat16,
    "F32": np.float32, "F64": np.float64, "C64": np.complex64,
}


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that does not fit what it is loaded into."""


def encode(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """The bytes of a safetensors file holding `arrays` and `metadata`."""
    # Not np.ascontiguousarray: it turns a 0-d array (a step count) into shape (1,).
    contiguous = {name: np.array(array, order="C", copy=not array.flags.c_contiguous) for name, array in arrays.items()}
    return save(contiguous, metadata=metadata)


def read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays of the safetensors file at `path` (in the file's order) and its metadata.
    A missing, truncated or corrupt file raises `CheckpointError` (FileNotFoundError for a
    missing one) before anything is returned."""
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    data = path.read_bytes()
    header = _header(data, path)
    try:
        entries = deserialize(data)
    except SafetensorError as error:
        raise CheckpointError(f"{path} is not a valid safetensors file ({error}); it is truncated or corrupt") from error
    arrays = {}
    for name, entry in entries:
        if entry["dtype"] not in _DTYPES:
            raise CheckpointError(f"{path}: entry {name!r} has dtype {entry['dtype']}, which nablax cannot load")
        arrays[name] = np.frombuffer(bytes(entry["data"]), _DTYPES[entry["dtype"]]).reshape(entry["shape"])
    order = sorted(arrays, key=lambda name: header[name]["data_offsets"][0])  # as written
    return {name: arrays[name] for name in order}, header.get("__metadata__") or {}


def _header(data: bytes, path: pathlib.Path) -> dict:
    """The JSON header, checked for size before it is parsed."""
    if len(data) < 8:
        raise CheckpointError(f"{path} is not a safetensors file: {len(data)} bytes, too short for a header; it is truncated")
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        raise CheckpointError(
            f"{path} is truncated or not a safetensors file: its first 8 bytes announce a {size}-byte header, "
            f"but only {len(data) - 8} bytes follow"
        )
    try:
        header = json.loads(data[8:8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path} is not a safetensors file: its header is not JSON ({error}); it is corrupt") from error
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a safetensors file: its header is not a JSON object")
    return header
