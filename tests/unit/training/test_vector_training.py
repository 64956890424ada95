"""The mlp on a statistics front-end: trained from the cache, then predicting over a long
recording with the front-end rebuilt from the checkpoint, windows at frame times."""

import numpy as np
import pandas as pd
from training_helpers import LABELS, build_training_corpus

from sonoflow.corpus.audio import list_recordings
from sonoflow.datasets.splits import cv_folds
from sonoflow.features.cache import build_cache
from sonoflow.prediction.predict import predict_recordings
from sonoflow.training.data import TrainingData
from sonoflow.training.fold import train_fold

STATS = {
    "type": "statistics",
    "sample_rate": 16000,
    "window_s": 0.5,
    "hop_s": 0.05,
    "n_fft": 512,
    "hop_length": 320,
    "n_bins": 32,
    "fmin": 50,
    "fmax": 8000,
}


def test_mlp_on_statistics_learns_and_predicts(tmp_path):
    work = build_training_corpus(tmp_path, tapes=12)
    build_cache(list_recordings(work / "corpus/train/audio"), STATS, work / "stats")
    clips = pd.read_csv(work / "dataset/clips.csv")
    folds = cv_folds(clips, 2, seed=0)
    model = {"backbone": "mlp", "epochs": 15, "patience": 15, "lr": 0.003, "batch_size": 16}
    results = train_fold(
        TrainingData(clips, work / "stats", STATS, LABELS), folds, 0, model, tmp_path / "fold0"
    )
    # three classes: chance macro-F1 is about 1/3; the demo's calls are easy to tell apart
    assert results["metrics"]["val_macro_f1"] > 0.6
    (recording,) = list_recordings(work / "corpus/benchmark/audio")
    table = predict_recordings([recording], [tmp_path / "fold0/model.pt"], hop_s=0.1)
    assert list(table.columns) == ["recording", "start_s", "end_s", "hum", "chirp", "noise"]
    starts = table["start_s"].to_numpy()
    np.testing.assert_allclose(starts, np.arange(len(table)) * 0.1, atol=1e-9)
    np.testing.assert_allclose(table["end_s"] - table["start_s"], 0.5)
    np.testing.assert_allclose(table[["hum", "chirp", "noise"]].sum(axis=1), 1, atol=1e-5)
