"""The spectrogram cache's index, read without torch (Snakemake checks it at DAG time)."""

from __future__ import annotations

import csv
from pathlib import Path


def missing_cache_files(index: str | Path) -> list[str]:
    """Spectrogram files that `index` lists but that are not on disk (in index order)."""
    index = Path(index)
    with index.open(newline="") as handle:
        names = [row["spectrogram"] for row in csv.DictReader(handle)]
    folder = index.parent / "spectrograms"
    return [str(folder / name) for name in names if not (folder / name).is_file()]
