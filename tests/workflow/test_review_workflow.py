"""calibrate on the demo after detection: review_sample's sample of the run's detections,
verdicts of a simulated reviewer saved in the verdict folder, calibrate's outputs, and what
a changed or added verdict file reruns (calibrate only)."""

import copy

import numpy as np
import pandas as pd
import pytest
from detection_helpers import make_season
from workflow_helpers import TINY_CONFIG, scheduled_jobs, snakemake, write_config

EXPERIMENT = "default.mel32.tiny_b"


def review_config(season):
    config = copy.deepcopy(TINY_CONFIG)
    config["detect"] = {
        "season": {
            "recordings": str(season),
            "experiment": EXPERIMENT,
            "threshold": 0.05,
        }
    }
    config["review"] = {"spring": {"detect": "season", "resamples": 100, "min_verdicts": 5}}
    return config


@pytest.fixture(scope="module")
def calibrated(tiny_local_run, shared_data, tmp_path_factory):
    season = make_season(tmp_path_factory.mktemp("season") / "2024", shared_data)
    project = tiny_local_run
    config = review_config(season)
    write_config(project, config)
    try:
        snakemake(project)  # detection, its review sample, calibrate before any verdict
        sample = pd.read_csv(project / "results/review/spring/sample.csv", dtype={"id": str})
        assert len(sample) > 0 and (sample["score_bin"] >= 0).all()
        verdicts = project / "verdicts/spring"
        verdicts.mkdir(parents=True)
        median = sample["score"].median()  # the simulated reviewer
        exported = sample.assign(verdict=np.where(sample["score"] > median, "yes", "no"))
        exported.to_csv(verdicts / "sample.csv", index=False)
        assert scheduled_jobs(project) == {"calibrate": 1, "all": 1}
        snakemake(project)
        yield project, sample
    finally:
        write_config(project, TINY_CONFIG)


def test_calibrate_writes_its_tables_and_plots(calibrated):
    project, sample = calibrated
    out = project / "results/review/spring"
    table = pd.read_csv(out / "calibration.csv")
    assert set(table["class"]) == set(sample["class"])
    per_class = table.drop_duplicates("class").set_index("class")
    assert (per_class["yes"] + per_class["no"]).to_dict() == sample.groupby(
        "class"
    ).size().to_dict()
    detections = pd.read_csv(project / "results/detect/season/detections.csv")
    calibrated = pd.read_csv(out / "detections_calibrated.csv")
    assert len(calibrated) == len(detections) and calibrated["p_correct"].between(0, 1).all()
    rates = pd.read_csv(out / "call_rates.csv")
    assert {"day", "hour"} <= set(rates["unit"])
    timed = rates[rates["unit"].isin(["day", "recording"])]  # untimed: per recording
    assert timed["detections"].sum() == len(detections)
    for plot in ("calibration.png", "call_rates.png"):
        assert (out / plot).stat().st_size > 10_000
    assert "verdicts read from 1 files" in (project / "logs/calibrate/spring.log").read_text()


def test_a_changed_or_added_verdict_file_reruns_only_calibrate(calibrated):
    project, sample = calibrated
    path = project / "verdicts/spring/sample.csv"
    exported = pd.read_csv(path, dtype=str, keep_default_na=False)
    exported.loc[0, "verdict"] = "unsure"
    exported.to_csv(path, index=False)
    assert scheduled_jobs(project) == {"calibrate": 1, "all": 1}
    snakemake(project)
    table = pd.read_csv(project / "results/review/spring/calibration.csv")
    assert table.drop_duplicates("class")["unsure"].sum() == 1
    raven = project / "verdicts/spring/extra.csv"
    exported.iloc[:1].to_csv(raven, index=False)  # the same verdict again, in a second file
    assert scheduled_jobs(project) == {"calibrate": 1, "all": 1}
