"""The calibrate stage from files: a sample.csv, a verdict folder, a run's detections."""

import json
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from simulated_review import season

from sonoflow.review.calibrate_run import CalibrateOutputs, run_calibrate
from sonoflow.review.calibration import CalibrationSettings
from sonoflow.review.sample import SampleSettings, draw_sample
from sonoflow.review.verdicts import VerdictError


def project(tmp_path, seed=0, labels=("hum", "chirp")):
    """A detect run's outputs, review_sample's stratified sample of it and its design, and
    a folder of verdicts."""
    rng = np.random.default_rng(seed)
    detections = season(rng, labels=labels)
    thresholds = dict.fromkeys(labels, 0.3)
    sample, design = draw_sample(detections, thresholds, SampleSettings(size=60, seed=seed))
    sample.to_csv(tmp_path / "sample.csv", index=False)
    (tmp_path / "design.json").write_text(json.dumps(asdict(design)))
    detections.drop(columns=["id", "truth"]).to_csv(tmp_path / "detections.csv", index=False)
    recordings = detections["recording"].unique()
    summary = pd.DataFrame({"recording": recordings, "status": "scored", "duration_s": 3600.0})
    summary.to_csv(tmp_path / "summary.csv", index=False)
    (tmp_path / "verdicts").mkdir()
    truth = detections.rename(columns={"label": "class"})[
        ["class", "recording", "start_s", "truth"]
    ]
    sample = sample.merge(truth, on=["class", "recording", "start_s"], validate="1:1")
    exported = sample.drop(columns="truth").assign(
        verdict=np.where(sample["truth"] == 1, "yes", "no")
    )
    exported.to_csv(tmp_path / "verdicts/sample.csv", index=False)
    return detections, sample


def run(tmp_path, labels=("hum", "chirp")):
    outputs = CalibrateOutputs(
        *(str(tmp_path / n) for n in ["cal.csv", "det.csv", "rates.csv", "cal.png", "rates.png"])
    )
    settings = CalibrationSettings([0.3, 0.5, 0.7, 0.9], resamples=200, min_verdicts=10)
    run_calibrate(
        tmp_path / "sample.csv",
        tmp_path / "design.json",
        tmp_path / "verdicts",
        tmp_path / "detections.csv",
        tmp_path / "summary.csv",
        list(labels),
        settings,
        "site",
        outputs,
    )
    return outputs


def test_calibrate_writes_every_output(tmp_path):
    detections, sample = project(tmp_path)
    out = run(tmp_path)
    table = pd.read_csv(out.calibration)
    assert set(table["class"]) == {"hum", "chirp"}
    assert (
        (table.groupby("class")["yes"].first() + table.groupby("class")["no"].first())
        .eq(sample.groupby("class").size())
        .all()
    )
    calibrated = pd.read_csv(out.detections)
    assert len(calibrated) == len(detections) and calibrated["p_correct"].between(0, 1).all()
    rates = pd.read_csv(out.call_rates)
    assert set(rates["unit"]) == {"day", "hour"}
    days = rates[rates["unit"] == "day"]
    assert days.groupby("class")["detections"].sum().to_dict() == (
        detections.groupby("label").size().to_dict()
    )
    for plot in (out.calibration_plot, out.call_rates_plot):
        assert (tmp_path / plot).stat().st_size > 10_000


def test_no_verdicts_yet_leaves_every_clip_unreviewed(tmp_path):
    project(tmp_path)
    for path in (tmp_path / "verdicts").iterdir():
        path.unlink()
    table = pd.read_csv(run(tmp_path).calibration)
    assert (table["yes"] + table["no"] == 0).all()
    assert table["precision"].isna().all()
    assert table["note"].str.contains("only 0 yes/no verdicts").all()


def test_a_bad_verdict_file_names_file_and_row(tmp_path):
    project(tmp_path)
    path = tmp_path / "verdicts/sample.csv"
    exported = pd.read_csv(path)
    exported.loc[3, "verdict"] = "maybe"
    exported.to_csv(path, index=False)
    with pytest.raises(VerdictError, match=r"sample\.csv row 5: unknown verdict 'maybe'"):
        run(tmp_path)
