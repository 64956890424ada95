"""A tiny demo corpus with a dataset and a spectrogram cache, for training tests."""

from __future__ import annotations

from pathlib import Path

from sonoflow.corpus.audio import list_recordings
from sonoflow.corpus.demo import DemoSettings, make_demo_corpus
from sonoflow.datasets.build import prepare_dataset
from sonoflow.features.cache import build_cache
from sonoflow.features.spectrogram import FeatureSettings

FEATURES = {"window_s": 0.5, "n_bins": 32, "hop_length": 320}
LABELS = ["hum", "chirp"]
VARIANT = {
    "noise_per_target": 1,
    "margin_s": 0.1,
    "neighbourhood_s": 3,
    "seed": 1,
    "split": {"train": 0.8, "val": 0.0, "test": 0.2},
}


def build_training_corpus(work: Path, variant: dict = VARIANT, tapes: int = 5) -> Path:
    """work/corpus/{train,benchmark}/ (audio, Raven tables, metadata.csv), dataset, cache."""
    make_demo_corpus(
        work / "corpus",
        DemoSettings(
            seed=2,
            train_tapes=tapes,
            tape_duration_s=(15, 20),
            benchmark_tapes=1,
            benchmark_duration_s=5,
        ),
    )
    corpus = {"label_column": "Annotation", "labels": LABELS, "metadata": None}
    prepare_dataset(
        work / "corpus/train/audio",
        work / "corpus/train/annotations",
        corpus,
        variant,
        work / "dataset",
    )
    build_cache(
        list_recordings(work / "corpus/train/audio"),
        FeatureSettings.from_config(FEATURES),
        work / "cache",
    )
    return work
