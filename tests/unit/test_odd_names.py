"""Recording, tape and label names that pandas would read as missing values or numbers
(`NA`, `NaN`, `null`, `None`, `1e5`, `007`) survive every table sonoflow writes and reads."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import soundfile as sf
from detection_helpers import fold_models

from sonoflow.common.atomic import write_csv
from sonoflow.common.tables import read_table
from sonoflow.datasets.splits import cv_folds
from sonoflow.detection.thresholds import best_thresholds
from sonoflow.features.cache import SpectrogramCache
from sonoflow.training.data import TrainingData

ODD = ["NA", "NaN", "null", "None", "1e5", "007"]


def test_read_table_keeps_names_as_written_and_parses_numbers(tmp_path):
    frame = pd.DataFrame({"recording": ODD, "label": ODD[::-1], "start_s": [0.5, None, 1, 2, 3, 4]})
    frame["reason"] = ""
    write_csv(tmp_path / "t.csv", frame)
    table = read_table(tmp_path / "t.csv")
    assert table["recording"].tolist() == ODD
    assert table["label"].tolist() == ODD[::-1]
    assert table["reason"].tolist() == [""] * 6
    assert table["start_s"].isna().tolist() == [False, True, False, False, False, False]
    assert table["start_s"].dtype == float


def test_clips_with_odd_names_round_trip_into_cv_folds(tmp_path):
    """Before: TypeError: '<' not supported between instances of 'float' and 'str'."""
    rows = [
        {"uid": i, "recording": name, "tape": name, "start_s": 0.0, "end_s": 1.0,
         "label": label, "quality": "", "source": "target", "split": "train", "target": i}
        for i, (name, label) in enumerate(
            (name, label) for name in ODD for label in ("NA", "null") for _ in range(3)
        )
    ]  # fmt: skip
    write_csv(tmp_path / "clips.csv", pd.DataFrame(rows))
    params = SimpleNamespace(features={}, labels=["NA", "null"], metadata="")
    data = TrainingData.from_job(tmp_path / "clips.csv", tmp_path / "cache/index.csv", params)
    assert sorted(set(data.clips["recording"])) == sorted(ODD)
    assert set(data.clips["label"]) == {"NA", "null"}
    folds = cv_folds(data.clips, n_folds=3, seed=0)
    assert set(folds) == {0, 1, 2}
    assert (pd.Series(folds).groupby(data.clips["tape"]).nunique() == 1).all()


def test_cache_index_with_odd_names(tmp_path):
    (tmp_path / "spectrograms").mkdir()
    for name in ODD:
        np.save(tmp_path / f"spectrograms/{name}.npy", np.zeros((4, 7), np.float16))
    files = {"file": [f"{n}.wav" for n in ODD], "spectrogram": [f"{n}.npy" for n in ODD]}
    index = pd.DataFrame({"recording": ODD, **files}).assign(frames=7, bins=4)
    write_csv(tmp_path / "index.csv", index)
    cache = SpectrogramCache(tmp_path, settings=None)
    assert cache.frames == dict.fromkeys(ODD, 7)
    assert all(cache.array(name).shape == (4, 7) for name in ODD)


def test_thresholds_of_odd_class_names(tmp_path):
    metrics = pd.DataFrame({"class": ["NA", "007", "all"], "best_f1_threshold": [0.3, 0.6, 0.5]})
    write_csv(tmp_path / "metrics.csv", metrics)
    assert best_thresholds(tmp_path / "metrics.csv", ["NA", "007", "null"]) == {
        "NA": 0.3,
        "007": 0.6,
        "null": 0.5,
    }


def test_detection_tables_of_odd_recording_names(tmp_path):
    """A shard's status table and scores agree on the names (before: `007` read back as 7,
    `NA` as missing, and collect stopped on a mismatch)."""
    from sonoflow.detection.collect import shard_results
    from sonoflow.detection.shard import ScoringSettings, detect_shard

    rng = np.random.default_rng(0)
    names = [f"{name}.wav" for name in ODD]
    for name in names:
        sf.write(tmp_path / name, (0.1 * rng.standard_normal(22050 * 2)).astype(np.float32), 22050)
    detect_shard(
        tmp_path,
        names,
        fold_models(tmp_path / "models"),
        tmp_path / "work",
        tmp_path / "s.parquet",
        tmp_path / "s.csv",
        ScoringSettings(hop_s=0.1),
    )
    merged = list(shard_results(tmp_path / "s.parquet", tmp_path / "s.csv"))
    assert [status["recording"] for status, _ in merged] == ODD
    assert all(status["status"] == "scored" for status, _ in merged)
    assert [set(windows["recording"]) for _, windows in merged] == [{n} for n in ODD]
