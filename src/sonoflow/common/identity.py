"""What identifies a file's content for the per-item records kept outside Snakemake's
outputs (detection resume records, training checkpoints): its size and modification time."""

from __future__ import annotations

from pathlib import Path


def file_identity(path: str | Path) -> dict | None:
    """Size and modification time (ns) of `path`, so that a file replaced at the same path is
    not taken for the old one. A stat is cheap; a content hash would read every file twice
    (once to hash, once to use it). None when the file cannot be stat'ed."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
