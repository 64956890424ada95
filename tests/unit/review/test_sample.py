"""Drawing a review sample: seeded, inclusion probabilities that add up to the cells,
uncertain picks nearer the threshold, misses below it, spreads and misses from windows."""

import numpy as np
import pandas as pd
import pytest

from sonoflow.review.sample import (
    COLUMNS,
    MISS_BIN,
    SampleSettings,
    allocate,
    clip_id,
    draw_sample,
    stratum_of,
)
from sonoflow.review.windows import miss_windows, spreads_and_misses

THRESHOLDS = {"hum": 0.5, "chirp": 0.6}


def season(n=400, seed=1) -> pd.DataFrame:
    """Detections of two classes over three sites, scores above the thresholds."""
    rng = np.random.default_rng(seed)
    label = rng.choice(["hum", "chirp"], n)
    site = rng.choice(["siteA", "siteB", "siteC"], n, p=[0.6, 0.3, 0.1])
    tape = rng.integers(0, 4, n)
    start = rng.uniform(0, 3000, n).round(1)
    low = np.array([THRESHOLDS[c] for c in label])
    score = low + (1 - low) * rng.beta(1, 3, n)
    return pd.DataFrame(
        {
            "recording": [f"{s}/r{t}" for s, t in zip(site, tape)],
            "path": [f"{s}/r{t}.wav" for s, t in zip(site, tape)],
            "label": label,
            "start_s": start,
            "end_s": start + 0.5,
            "score": score,
            "fold_spread": rng.uniform(0, 0.3, n),
        }
    )


def test_format_and_reproducible_with_the_seed():
    settings = SampleSettings(size=40, seed=3)
    sample, design = draw_sample(season(), THRESHOLDS, settings)
    assert list(sample.columns) == COLUMNS
    assert sample["id"].is_unique and (sample["verdict"] == "").all()
    assert sample.groupby("class").size().to_dict() == {"chirp": 40, "hum": 40}
    again, _ = draw_sample(season().sample(frac=1, random_state=0), THRESHOLDS, settings)
    pd.testing.assert_frame_equal(sample, again)  # row order of the input does not matter
    other, _ = draw_sample(season(), THRESHOLDS, SampleSettings(size=40, seed=4))
    assert set(other["id"]) != set(sample["id"])
    assert set(sample["stratum"]) == {"siteA", "siteB", "siteC"}
    assert {c["class"] for c in design.cells} == {"hum", "chirp"}


def test_inclusion_probabilities_add_up_to_each_cell():
    detections = season()
    sample, design = draw_sample(detections, THRESHOLDS, SampleSettings(size=30, bins=3))
    for cell in design.cells:
        rows = sample[
            (sample["class"] == cell["class"])
            & (sample["score_bin"] == cell["score_bin"])
            & (sample["stratum"] == cell["stratum"])
        ]
        assert len(rows) == cell["sampled"]
        assert (1 / rows["inclusion_probability"]).sum() == pytest.approx(cell["detections"])
    # the cells' detections are the class's detections: quantile bins x sites partition them
    totals = pd.DataFrame(design.cells).groupby("class")["detections"].sum()
    assert totals.to_dict() == detections["label"].value_counts().to_dict()
    hum = sample[sample["class"] == "hum"]
    assert (1 / hum["inclusion_probability"]).sum() == pytest.approx(totals["hum"])


def test_allocation_fills_small_cells_and_shares_the_rest():
    assert allocate([100, 100, 100], 30) == [10, 10, 10]
    assert allocate([2, 100, 100], 30) == [2, 14, 14]
    assert allocate([2, 3, 1], 30) == [2, 3, 1]  # fewer detections than the size
    assert sum(allocate([5, 7, 9, 11], 17)) == 17


def test_fixed_edges_put_scores_outside_into_the_end_bins():
    detections = season()
    settings = SampleSettings(size=400, bins=(0.7, 0.8, 0.9), stratum="none")
    sample, design = draw_sample(detections, THRESHOLDS, settings)
    assert len(sample) == len(detections) and set(sample["stratum"]) == {"."}
    low = sample[sample["score"] < 0.8]
    assert (low["score_bin"] == 0).all()  # scores below 0.7 too
    assert (sample.loc[sample["score"] >= 0.8, "score_bin"] == 1).all()
    assert design.edges["hum"] == [0.7, 0.8, 0.9]
    assert (sample["inclusion_probability"] == 1).all()


def test_uncertain_picks_are_nearer_the_threshold_or_spread_more():
    detections = season()
    stratified, _ = draw_sample(detections, THRESHOLDS, SampleSettings(size=30))
    margin, _ = draw_sample(
        detections, THRESHOLDS, SampleSettings(strategy="uncertain", size=30, uncertainty="margin")
    )
    spread, _ = draw_sample(detections, THRESHOLDS, SampleSettings(strategy="uncertain", size=30))

    def distance(sample):
        return (sample["score"] - sample["class"].map(THRESHOLDS)).abs().mean()

    assert distance(margin) < distance(stratified) / 2
    assert spread["fold_spread"].mean() > stratified["fold_spread"].mean() + 0.05
    assert (margin["inclusion_probability"] == 1).all()
    hum = detections[detections["label"] == "hum"]
    assert spread[spread["class"] == "hum"]["fold_spread"].min() >= hum["fold_spread"].quantile(0.8)


def test_misses_lie_below_the_threshold():
    detections = season()
    rng = np.random.default_rng(0)
    misses = pd.DataFrame(
        {
            "recording": "siteA/r9",
            "path": "siteA/r9.wav",
            "label": ["hum"] * 10 + ["chirp"] * 10,
            "start_s": np.arange(20.0),
            "end_s": np.arange(20.0) + 0.5,
            "score": rng.uniform(0, 0.5, 20),
            "fold_spread": np.nan,
        }
    )
    settings = SampleSettings(strategy="uncertain", size=10, include_misses=3)
    sample, _ = draw_sample(detections, THRESHOLDS, settings, misses=misses)
    missed = sample[sample["score_bin"] == MISS_BIN]
    assert missed.groupby("class").size().to_dict() == {"chirp": 3, "hum": 3}
    assert (missed["score"] < missed["class"].map(THRESHOLDS)).all()
    best_hum = misses[misses["label"] == "hum"]["score"].nlargest(3)
    assert sorted(missed[missed["class"] == "hum"]["score"]) == sorted(best_hum)


def test_added_recordings_keep_the_previous_rows():
    detections = season()
    settings = SampleSettings(size=40)
    first = draw_sample(detections, THRESHOLDS, settings)
    added = season(40, seed=9).assign(
        recording=lambda f: f["recording"] + "_new", path=lambda f: f["path"] + ".new.wav"
    )
    grown = pd.concat([detections, added], ignore_index=True)
    second, design = draw_sample(grown, THRESHOLDS, settings, previous=first)
    assert design.edges == first[1].edges  # the previous quantile edges are reused
    kept = set(first[0]["id"]) & set(second["id"])
    assert len(kept) >= 0.8 * len(first[0])
    uncertain = SampleSettings(strategy="uncertain", size=20)
    before = draw_sample(detections, THRESHOLDS, uncertain)
    after, _ = draw_sample(grown, THRESHOLDS, uncertain, previous=before)
    assert set(before[0]["id"]) == set(after["id"])


def test_ids_and_strata():
    assert clip_id("a/b.wav", "hum", 1.0, 2.0) == clip_id("a/b.wav", "hum", 1.0004, 2.0)
    assert clip_id("a/b.wav", "hum", 1.0, 2.0) != clip_id("a/b.wav", "chirp", 1.0, 2.0)
    assert stratum_of("siteA/day1/x.wav", "site") == "siteA"
    assert stratum_of("x.wav", "site") == "." and stratum_of("siteA/x.wav", "none") == "."


def windows_of(scores: list[float], spread: list[float]) -> pd.DataFrame:
    start = np.arange(len(scores)) * 0.5
    return pd.DataFrame(
        {
            "recording": "siteA/r1",
            "start_s": start,
            "end_s": start + 1.0,
            "hum": scores,
            "fold_spread:hum": spread,
        }
    )


def test_miss_windows_skip_detections_and_each_other():
    windows = windows_of([0.1, 0.4, 0.45, 0.3, 0.9, 0.9, 0.2, 0.35], [0.0] * 8)
    events = pd.DataFrame({"start_s": [2.0], "end_s": [3.0]})  # over windows 3 to 5
    best = miss_windows(windows, events, "hum", 0.5, 3)
    # 0.45 (window 2, 1-2 s) first; 0.4 overlaps it; 0.35 (window 7); 0.2 overlaps window 7
    assert list(best["score"]) == [0.45, 0.35, 0.1]
    assert (best["end_s"] <= 2.0).sum() == 2 and (best["start_s"] >= 3.0).sum() == 1


def test_spreads_and_misses_read_shards(tmp_path):
    windows = windows_of([0.1, 0.9, 0.8, 0.2, 0.3, 0.1], [0.0, 0.2, 0.4, 0.1, 0.05, 0.0])
    path = tmp_path / "shard0.parquet"
    windows.to_parquet(path)
    detections = pd.DataFrame(
        {"recording": ["siteA/r1"], "path": ["siteA/r1.wav"], "label": ["hum"]}
        | {"start_s": [0.9], "end_s": [1.6], "score": [0.9]}
    )
    spread, misses = spreads_and_misses(detections, [path], {"hum": 0.5}, misses=1)
    assert spread["fold_spread"].iloc[0] == pytest.approx(0.3)  # windows centred at 1.0, 1.5
    assert list(misses["score"]) == [0.3] and misses["path"].iloc[0] == "siteA/r1.wav"


def test_a_run_without_detections_gives_an_empty_sample():
    empty = season().iloc[:0]
    for strategy in ("stratified", "uncertain"):
        sample, design = draw_sample(empty, THRESHOLDS, SampleSettings(strategy=strategy))
        assert sample.empty and list(sample.columns) == COLUMNS and design.cells == []
