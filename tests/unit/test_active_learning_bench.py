"""The active-learning benchmark's own parts: the simulated reviewer, the pool's thresholds
and the configs it runs (bench/active_learning.py drives the workflow; these do not)."""

import argparse
from pathlib import Path

import pandas as pd
import pytest
from bench_helpers import bench_module

from sonoflow.config import validate_config

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


@pytest.fixture(scope="module")
def bench():
    return bench_module("active_learning")


def args(**changes):
    values = {"experiment": "default.mel64.band_mlp", "clips": 30, "seed": 3, "quick": False}
    return argparse.Namespace(**{**values, "uncertainty": "margin", **changes})


def test_the_simulated_reviewer_answers_from_the_calls(bench):
    calls = pd.DataFrame(
        {
            "recording": ["a/r1", "a/r1", "b/r2"],
            "label": ["hum", "chirp", "hum"],
            "start_s": [1.0, 5.0, 10.0],
            "end_s": [2.0, 5.2, 11.0],
        }
    )
    sample = pd.DataFrame(
        {
            "id": ["x1", "x2", "x3", "x4", "x5"],
            "recording": ["a/r1", "a/r1", "a/r1", "a/r1", "a/r1"],
            "class": ["hum", "hum", "hum", "chirp", "hum"],
            "start_s": ["1.9", "4.9", "7.0", "4.0", "10.0"],  # as read: text
            "end_s": ["3.0", "5.1", "8.0", "5.01", "11.0"],
        }
    )
    table = bench.simulated_verdicts(sample, calls)
    # x1 overlaps its hum; x2 only the chirp; x3 nothing; x4 its chirp; x5 a hum of another
    # recording only
    assert table["verdict"].tolist() == ["yes", "no", "no", "yes", "no"]
    assert table["corrected_class"].tolist() == ["", "chirp", "", "", ""]
    assert table["start_s"].tolist() == sample["start_s"].tolist()  # the sample as it was


def test_the_pool_threshold_is_the_share_of_windows_above_it(bench, tmp_path):
    scores = tmp_path / f"results/detect/{bench.DETECT}/scores"
    scores.mkdir(parents=True)
    pd.DataFrame({"hum": [i / 100 for i in range(101)], "chirp": [0.5] * 101}).to_parquet(
        scores / "shard0.parquet"
    )
    thresholds = bench.low_thresholds(tmp_path, ["hum", "chirp"], 0.2)
    assert thresholds == {"hum": 0.8, "chirp": 0.5}


def test_the_configs_it_runs_are_valid_and_retrain_on_each_review(bench, tmp_path):
    config = bench.project_config(args(), tmp_path / "season")
    assert config["experiments"] == [
        {"dataset": "default", "features": "mel64", "model": "band_mlp"}
    ]
    assert config["review"]["al_uncertain"]["uncertainty"] == "margin"
    assert {r["size"] for r in config["review"].values()} == {30}
    retrained, experiments = bench.retrained_config(config, args())
    assert experiments == {
        "uncertain": "default_uncertain.mel64.band_mlp",
        "stratified": "default_stratified.mel64.band_mlp",
    }
    assert retrained["datasets"]["default_stratified"]["reviewed"] == ["al_stratified"]
    assert "reviewed" not in config["datasets"]["default"]  # the first config is left as it was
    for each in (config, retrained):
        validate_config(each, SCHEMA)


def test_an_unknown_experiment_part_is_named(bench, tmp_path):
    with pytest.raises(SystemExit, match="'tiny'"):
        bench.project_config(args(experiment="default.mel64.tiny"), tmp_path)
