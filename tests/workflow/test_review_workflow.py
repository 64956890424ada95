"""calibrate on the demo after detection: review_sample's sample of the run's detections,
verdicts of a simulated reviewer saved in the verdict folder, calibrate's outputs, and what
a changed or added verdict file reruns (calibrate only); then the loop closed: a dataset
variant with `reviewed: [spring]` trained, and what a changed verdict reruns there."""

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml
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


# --- the loop closed: reviewed clips back into training --------------------------------

RETRAINED = "retrained.mel32.tiny_b"
AFTER_VERDICTS = {  # what a changed verdict reruns: calibrate, and the variant onwards
    "calibrate": 1,
    "prepare_dataset": 1,
    "export_dataset": 2,
    "train_fold": 2,
    "assess_experiment": 1,
    "predict": 2,
    "evaluate": 1,
    "summarize": 1,
    "all": 1,
}


def retrain_config(season):
    config = review_config(season)
    config["datasets"]["retrained"] = {
        **config["datasets"]["default"],
        "reviewed": ["spring"],
        "export": {"animal_spot": True, "spectrogram_png": True},
    }
    config["experiments"] = [
        {"dataset": d, "features": "mel32", "model": m}
        for d, m in [("default", "tiny"), ("default", "tiny_b"), ("retrained", "tiny_b")]
    ]
    return config


def alternating_reviewer(sample):
    """Per recording in turn: its highest-scoring detection confirmed and the others
    rejected, or every detection rejected (so that rejected clips stand alone)."""
    recordings = sorted(set(sample["recording"]))
    confirming = set(recordings[::2])
    best = sample.groupby("recording")["score"].transform("max") == sample["score"]
    confirmed = sample["recording"].isin(confirming) & best
    return sample.assign(verdict=np.where(confirmed, "yes", "no"), corrected_class="")


def expected_clips(verdicts, season):
    """(recording, start, end, label) of the reviewed clips the verdicts should give: every
    confirmed detection; a rejected one as noise where nothing was confirmed on its
    recording over it (one noise clip per place); each cut at its recording's end (and
    left out when nothing of it is left)."""
    rows = set()
    for recording, group in verdicts.groupby("recording"):
        name = f"reviewed/spring/{recording}"
        yes = group[group["verdict"] == "yes"]
        duration = sf.info(str(Path(season) / group["path"].iloc[0])).duration
        for _, row in group.iterrows():
            over = (yes["start_s"] < row["end_s"]) & (yes["end_s"] > row["start_s"])
            label = row["class"] if row["verdict"] == "yes" else "noise"
            end = min(row["end_s"], duration)
            if (label != "noise" or not over.any()) and end > row["start_s"]:
                rows.add((name, round(row["start_s"], 3), round(end, 3), label))
    return rows


def reviewed_rows(project):
    clips = pd.read_csv(project / "results/datasets/retrained/clips.csv")
    return clips[clips["tape"].str.startswith("reviewed/")]


def clip_set(rows):
    return {
        (r["recording"], round(r["start_s"], 3), round(r["end_s"], 3), r["label"])
        for _, r in rows.iterrows()
    }


def test_reviewed_clips_train_a_variant_and_a_changed_verdict_reruns_it_onwards(
    calibrated, tmp_path
):
    shared, sample = calibrated
    project = tmp_path / "retrain"
    shutil.copytree(shared, project, symlinks=True)  # the shared run stays as it is
    season = yaml.safe_load((project / "config.yaml").read_text())["detect"]["season"]
    season = season["recordings"]
    write_config(project, retrain_config(season))
    folder = project / "verdicts/spring"
    for old in folder.iterdir():
        old.unlink()
    verdicts = alternating_reviewer(sample)
    verdicts.to_csv(folder / "sample.csv", index=False)
    snakemake(project)

    mine = reviewed_rows(project)
    got = clip_set(mine)
    assert got == expected_clips(verdicts, season) and {"noise"} < {label for *_, label in got}
    assert set(mine["tape"]) == {recording for recording, *_ in got}  # named as its tape
    assert set(mine.loc[mine["label"] == "noise", "source"]) == {"rejected"}
    assert set(mine.loc[mine["label"] != "noise", "source"]) == {"reviewed"}
    assert (mine.groupby("tape")["split"].nunique() == 1).all()
    stats = json.loads((project / "results/datasets/retrained/stats.json").read_text())
    assert stats["reviewed"]["recordings"] == mine["tape"].nunique()
    index = pd.read_csv(project / "results/cache/mel32/reviewed/spring/index.csv")
    assert set(mine["recording"]) <= set(index["recording"])
    exported = (project / "results/datasets/retrained/animal_spot/train.csv").read_text()
    assert "reviewedspring" in exported or not (mine["split"] == "train").any()
    pngs = project / "results/datasets/retrained/spectrograms"
    assert all((pngs / f"{uid}.png").is_file() for uid in mine["uid"])
    metrics = pd.read_csv(project / "results/metrics.csv")
    assert RETRAINED in set(metrics["experiment"])

    flipped = verdicts.copy()
    row = flipped.index[flipped["verdict"] == "no"][0]
    flipped.loc[row, "verdict"] = "yes"
    flipped.to_csv(folder / "sample.csv", index=False)
    assert scheduled_jobs(project) == AFTER_VERDICTS  # no detect, cache or sample
    snakemake(project)
    assert clip_set(reviewed_rows(project)) == expected_clips(flipped, season)
    assert scheduled_jobs(project) == {}

    (folder / "bad.csv").write_text(f"id,verdict\n{sample['id'][0]},perhaps\n")
    failed = snakemake(project, "results/datasets/retrained/clips.csv", check=False)
    (folder / "bad.csv").unlink()
    assert failed.returncode != 0
    message = "bad.csv row 2: unknown verdict 'perhaps'"  # in the output and the job's log
    assert message in failed.stdout + failed.stderr
    assert message in (project / "logs/prepare_dataset/retrained.log").read_text()
