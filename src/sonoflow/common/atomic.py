"""Atomic writes: every output lands whole or not at all (temp file, then rename)."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except OSError as err:
        if _disk_full(err):
            raise DiskFullError(
                errno.ENOSPC,
                f"{path}: the disk is full (no space left in {path.parent}) while writing this "
                f"file; nothing partial was left; free space and rerun ({err})",
            ) from err
        raise
    finally:
        tmp_path.unlink(missing_ok=True)


class DiskFullError(OSError):
    """No space left while writing an output; the message names the file."""


def _disk_full(err: OSError) -> bool:
    # numpy reports a short write without an errno: "23904 requested and 6080 written"
    short_write = "requested and" in str(err) and "written" in str(err)
    return err.errno in (errno.ENOSPC, errno.EDQUOT) or short_write


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | Path, obj: object) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_csv(path: str | Path, frame, **kwargs) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, **kwargs)


def _json_default(value: object) -> object:
    # numpy scalars and arrays reach JSON through their Python equivalents
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
