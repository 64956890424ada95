"""Reviewed detections as training clips: labels from verdicts, own tapes, benchmark
recordings refused."""

import shutil

import numpy as np
import pandas as pd
import pytest

from sonoflow.datasets.reviewed import (
    ReviewedClipError,
    merge_reviews,
    refuse_benchmark_recordings,
    reviewed_clips,
    reviewed_splits,
)


def verdicts(**overrides):
    table = pd.DataFrame(
        {
            "recording": ["siteA/r1", "siteA/r1", "siteA/r1", "siteB/r2", "siteB/r2", "siteB/r3"],
            "path": ["siteA/r1.wav"] * 3 + ["siteB/r2.wav"] * 2 + ["siteB/r3.wav"],
            "class": ["hum", "hum", "chirp", "chirp", "hum", "hum"],
            "start_s": [1.0, 5.0, 9.0, 2.0, 4.0, 7.0],
            "end_s": [2.0, 6.0, 10.0, 3.0, 5.0, 8.0],
            "verdict": ["yes", "no", "no", "unsure", "", "no"],
            "corrected_class": ["", "", "hum", "", "", "noise"],
        }
    )
    return table.assign(**overrides)


def test_confirmed_are_targets_rejected_are_noise_and_corrections_relabel():
    clips = reviewed_clips(verdicts(), "spring")
    assert clips["label"].tolist() == ["hum", "noise", "hum", "noise"]
    assert clips["source"].tolist() == ["reviewed", "rejected", "reviewed", "rejected"]
    assert clips["recording"].tolist()[0] == "reviewed/spring/siteA/r1"
    assert (clips["tape"] == clips["recording"]).all()  # each recording its own tape


def test_a_clip_in_two_reviews_is_kept_once_unless_they_disagree():
    first = reviewed_clips(verdicts(), "spring")
    again = reviewed_clips(verdicts(), "summer")
    assert len(merge_reviews([first, again], "datasets.d")) == len(first) + len(again) - 4
    flipped = reviewed_clips(verdicts(verdict=["no", "no", "no", "no", "no", "no"]), "summer")
    with pytest.raises(ReviewedClipError, match="reviews disagree.*\n.*"):
        merge_reviews([first, flipped], "datasets.d")


def test_reviewed_recordings_never_span_splits():
    rng = np.random.default_rng(0)
    n = 200
    clips = pd.DataFrame(
        {
            "tape": [f"reviewed/r/site/rec{i}" for i in rng.integers(0, 30, size=n)],
            "label": rng.choice(["hum", "chirp", "noise"], size=n),
        }
    )
    splits = reviewed_splits(clips, {"train": 0.7, "val": 0.15, "test": 0.15}, seed=1)
    assert (clips.assign(split=splits).groupby("tape")["split"].nunique() == 1).all()
    assert set(splits) == {"train", "val", "test"}


def test_a_benchmark_recording_is_refused_naming_both(tmp_path):
    season = tmp_path / "season"
    (season / "siteA").mkdir(parents=True)
    bench = tmp_path / "bench"
    bench.mkdir()
    for name, size in [("r1.wav", 100), ("r3.wav", 120)]:
        (bench / name).write_bytes(bytes(range(size % 256)) * 3)
    shutil.copy2(bench / "r1.wav", season / "siteA/r1.wav")  # a copy of a benchmark tape
    (season / "siteB").mkdir()
    (season / "siteB/r3.wav").write_bytes(bytes(reversed(range(120))) * 3)  # same size only
    clips = reviewed_clips(verdicts(), "spring")
    roots = {"spring": season}
    with pytest.raises(ReviewedClipError, match=r"siteA/r1\.wav is benchmark 'demo'.*r1\.wav"):
        refuse_benchmark_recordings(clips, roots, {"demo": sorted(bench.iterdir())}, "datasets.d")
    fine = clips[clips["file"] != "siteA/r1.wav"]
    refuse_benchmark_recordings(fine, roots, {"demo": sorted(bench.iterdir())}, "datasets.d")
