"""Writing a file so that a crash never leaves it half written."""

from __future__ import annotations

import os
import pathlib
import tempfile


def write_atomically(path: str | os.PathLike, data: bytes) -> pathlib.Path:
    """Writes `data` to `path` through a temporary file in the same folder, flushed to disk
    (fsync) and then renamed over `path`. A rename within one file system is atomic, so
    readers see the old file or the new one, never a mix; a crash mid-write leaves the old
    file intact (and, at worst, a stray `.<name>.*.tmp` file beside it).

        >>> import pathlib, tempfile
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
        >>> write_atomically(target, b"hello").read_bytes()
        b'hello'
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write to {path}: it is a directory; give a file name")
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    _fsync_folder(path.parent)  # makes the rename itself durable
    return path


def _fsync_folder(folder: pathlib.Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename is still atomic there
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
