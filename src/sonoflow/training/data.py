"""What a training run reads: the clips, the spectrogram cache, the feature settings, the
labels and the recordings' metadata, as one value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sonoflow.common.tables import read_table


@dataclass(frozen=True)
class TrainingData:
    clips: pd.DataFrame  # the dataset variant's clips.csv
    cache_dir: Path  # the folder of the features' cache
    features: dict  # the feature settings the cache was computed with
    labels: list[str]  # the experiment's classes, without noise
    metadata_csv: Path | None = None  # recordings' metadata, for fusion models
    extra_cache_dirs: tuple[Path, ...] = ()  # caches of reviewed recordings the clips name

    @classmethod
    def from_job(
        cls, clips_csv: str | Path, cache_file: str | Path, params, extra_indexes=()
    ) -> TrainingData:
        """From a job's inputs: clips.csv, a file in the cache folder (its marker), the
        index.csv of each extra cache (reviewed recordings), and the rule's params
        `features`, `labels` and `metadata` ("" or None: no metadata)."""
        return cls(
            clips=read_table(clips_csv),
            cache_dir=Path(cache_file).parent,
            features=params.features,
            labels=params.labels,
            metadata_csv=Path(params.metadata) if params.metadata else None,
            extra_cache_dirs=tuple(Path(index).parent for index in extra_indexes),
        )

    def cache_indexes(self) -> list[Path]:
        return [folder / "index.csv" for folder in (self.cache_dir, *self.extra_cache_dirs)]
