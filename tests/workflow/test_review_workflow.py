"""calibrate on the demo after detection: a review sample of the run's detections (made
here the way review_sample writes it), verdicts saved in the verdict folder, calibrate's
outputs, and what a changed or added verdict file reruns (calibrate only)."""

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


def write_sample(project):
    """Per class: two score bins x site, up to 3 clips each, with inclusion probabilities."""
    detections = pd.read_csv(project / "results/detect/season/detections.csv")
    rng = np.random.default_rng(0)
    parts = []
    for _, rows in detections.groupby("label"):
        rows = rows.assign(
            stratum=[r.split("/")[0] if "/" in r else "." for r in rows["recording"]],
            score_bin=(rows["score"] > rows["score"].median()).astype(int),
        )
        for _, cell in rows.groupby(["score_bin", "stratum"]):
            k = min(3, len(cell))
            picked = cell.iloc[rng.choice(len(cell), size=k, replace=False)]
            parts.append(picked.assign(inclusion_probability=k / len(cell)))
    sample = pd.concat(parts, ignore_index=True).rename(columns={"label": "class"})
    sample.insert(0, "id", [f"c{i:03d}" for i in range(len(sample))])
    sample = sample.assign(fold_spread=0.0, verdict="", corrected_class="")
    columns = ["id", "recording", "path", "class", "start_s", "end_s", "score", "fold_spread"]
    columns += ["stratum", "score_bin", "inclusion_probability", "verdict", "corrected_class"]
    folder = project / "results/review/spring"
    folder.mkdir(parents=True, exist_ok=True)
    sample[columns].to_csv(folder / "sample.csv", index=False)
    return sample[columns]


@pytest.fixture(scope="module")
def calibrated(tiny_local_run, shared_data, tmp_path_factory):
    season = make_season(tmp_path_factory.mktemp("season") / "2024", shared_data)
    project = tiny_local_run
    config = review_config(season)
    write_config(project, {**config, "review": {}})
    try:
        snakemake(project)  # detection first: the sample is drawn from its detections
        sample = write_sample(project)
        verdicts = project / "verdicts/spring"
        verdicts.mkdir(parents=True)
        median = sample["score"].median()  # the simulated reviewer
        exported = sample.assign(verdict=np.where(sample["score"] > median, "yes", "no"))
        exported.to_csv(verdicts / "sample.csv", index=False)
        write_config(project, config)
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
