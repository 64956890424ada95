"""Detection on the demo after training: a season of nested recordings (demo benchmark tape,
real recordings, broken files), its review sample, then what threshold edits, review edits
and added recordings rerun."""

import copy
import json
import shutil

import pandas as pd
import pytest
from detection_helpers import BROKEN, make_season
from onnx_helpers import score_with_onnxruntime
from workflow_helpers import TINY_CONFIG, copy_project, scheduled_jobs, snakemake, write_config

EXPERIMENT = "default.mel32.tiny_b"


REVIEW = {"detect": "season", "size": 4, "bins": 2, "padding_s": 0.5}


def detect_config(season, review=None, **run):
    config = copy.deepcopy(TINY_CONFIG)
    config["detect"] = {
        "season": {"recordings": str(season), "experiment": EXPERIMENT, "shards": 2, **run}
    }
    config["review"] = {"check": {**REVIEW, **(review or {})}}
    return config


@pytest.fixture(scope="module")
def detected(tiny_local_run, shared_data, tmp_path_factory):
    """The finished tiny run, then its detection over a season; the config is put back after."""
    season = make_season(tmp_path_factory.mktemp("season") / "2024", shared_data)
    tape = next((tiny_local_run / "results/demo_corpus/benchmark/audio").glob("*.wav"))
    (season / "demo").mkdir()
    shutil.copy2(tape, season / "demo/20240601_044500.wav")
    write_config(tiny_local_run, detect_config(season))
    try:
        assert scheduled_jobs(tiny_local_run) == {
            "detect": 2,
            "collect_detections": 1,
            "review_sample": 1,
            "calibrate": 1,
            "all": 1,
        }
        snakemake(tiny_local_run)
        yield tiny_local_run, season
    finally:
        write_config(tiny_local_run, TINY_CONFIG)


def test_detect_writes_tables_summary_scores_and_plot(detected):
    project, season = detected
    out = project / "results/detect/season"
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == len(list(season.rglob("*.wav"))) + 1 - 2  # mp3 in, hidden out
    demo = summary.set_index("path").loc["demo/20240601_044500.wav"]
    assert demo["status"] == "scored" and demo["start_time"].startswith("2024-06-01T04:45")
    skipped = pd.read_csv(out / "skipped.csv")
    assert set(BROKEN) <= set(skipped["path"])
    thresholds = pd.read_json(out / "thresholds.json", typ="series")
    metrics = pd.read_csv(project / f"results/evaluation/{EXPERIMENT}/demo/metrics.csv")
    best = metrics.groupby("class")["best_f1_threshold"].first()
    assert thresholds["hum"] == best["hum"] and thresholds["chirp"] == best["chirp"]
    assert (out / "tables/demo/20240601_044500.selections.txt").exists()
    assert (out / "tables/siteA/day2/20240502_061500.csv").exists()
    detections = pd.read_csv(out / "detections.csv")
    assert set(detections["label"]) <= {"hum", "chirp"}
    assert (detections["score"] >= detections["label"].map(thresholds)).all()
    scores = pd.concat(pd.read_parquet(p) for p in sorted((out / "scores").glob("*.parquet")))
    assert str(scores["hum"].dtype) == "float16"
    assert set(scores["recording"]) == set(summary.loc[summary["status"] == "scored", "recording"])
    assert (out / "detections.png").stat().st_size > 1000
    logs = "".join(p.read_text() for p in (project / "logs/detect").glob("season.shard*.log"))
    assert "audio hours per second" in logs and "recordings done" in logs
    assert not list(season.rglob("*.parquet")) and not list(season.rglob("*.json"))


def test_threshold_edit_reruns_only_the_cpu_steps(detected):
    project, season = detected
    write_config(project, detect_config(season, threshold={"hum": 0.9, "chirp": 0.95}))
    cpu = {"collect_detections": 1, "review_sample": 1, "calibrate": 1, "all": 1}
    assert scheduled_jobs(project) == cpu
    write_config(project, detect_config(season, formats=["csv"]))
    assert scheduled_jobs(project) == cpu


def test_review_sample_writes_sample_tables_clips_and_page(detected):
    project, season = detected
    out = project / "results/review/check"
    sample = pd.read_csv(out / "sample.csv", dtype={"id": str}, keep_default_na=False)
    assert list(sample.columns) == [
        *["id", "recording", "path", "class", "start_s", "end_s", "score", "fold_spread"],
        *["stratum", "score_bin", "inclusion_probability", "verdict", "corrected_class"],
    ]
    detections = pd.read_csv(project / "results/detect/season/detections.csv")
    counts = detections["label"].value_counts()
    assert sample.groupby("class").size().to_dict() == {c: min(n, 4) for c, n in counts.items()}
    assert sample["fold_spread"].notna().all() and (sample["verdict"] == "").all()
    assert set(sample["stratum"]) <= {p.name for p in season.iterdir()} | {"."}
    for recording in set(sample["recording"]):
        assert (out / f"tables/{recording}.selections.txt").exists()
    for clip in sample["id"]:
        assert (out / f"clips/{clip}.wav").exists() and (out / f"clips/{clip}.png").exists()
    page = (out / "index.html").read_text()
    assert all(clip in page for clip in sample["id"])
    assert "stratified sample of" in (project / "logs/review_sample/check.log").read_text()


def test_a_review_edit_reruns_only_the_sample_and_keeps_the_old_one(detected):
    project, season = detected
    detections = pd.read_csv(project / "results/detect/season/detections.csv")
    assert detections["label"].value_counts().max() > 3  # so a size of 3 changes the sample
    write_config(project, detect_config(season, review={"size": 3}))
    try:
        assert scheduled_jobs(project) == {
            "review_sample": 1,
            "calibrate": 1,
            "all": 1,
        }  # no detection
        first = (project / "results/review/check/sample.csv").read_text()
        snakemake(project)
        assert (project / "results/review/check/sample.csv").read_text() != first
        assert (project / "results/review_history/check/v1.csv").read_text() == first
        log = (project / "logs/review_sample/check.log").read_text()
        assert "previous one is kept as" in log and "v1.csv" in log
    finally:
        write_config(project, detect_config(season))


def test_an_added_recording_reruns_its_shard_and_scores_only_it(detected, shared_data):
    project, season = detected
    added = season / "siteD/20240603_120000.wav"
    added.parent.mkdir()
    shutil.copy2(shared_data / "real-audio/birds_10s.wav", added)
    write_config(project, detect_config(season))
    try:
        assert scheduled_jobs(project) == {
            "detect": 1,
            "collect_detections": 1,
            "review_sample": 1,
            "calibrate": 1,
            "all": 1,
        }
        snakemake(project)
        logs = [p.read_text() for p in (project / "logs/detect").glob("season.shard*.log")]
        rerun = [log for log in logs if "1 scored now" in log]
        assert len(rerun) == 1, logs
        summary = pd.read_csv(project / "results/detect/season/summary.csv")
        assert "siteD/20240603_120000" in set(summary["recording"])
    finally:
        added.unlink()
        shutil.rmtree(added.parent)


def test_without_a_detect_section_nothing_detects(detected):
    project, season = detected
    write_config(project, TINY_CONFIG)
    try:
        assert scheduled_jobs(project) == {}  # detection outputs left behind change nothing
    finally:
        write_config(project, detect_config(season))


def test_exported_ensemble_scores_the_demo_tape_as_detect_did(detected):
    import json
    import warnings

    import numpy as np
    import soundfile as sf
    import torch

    project, season = detected
    snakemake(project, f"results/export/{EXPERIMENT}/detector.torchscript")
    info = json.loads((project / f"results/export/{EXPERIMENT}/detector.json").read_text())
    assert info["labels"] == ["hum", "chirp"] and set(info["thresholds"]["demo"]) == {
        "hum",
        "chirp",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(project / f"results/export/{EXPERIMENT}/detector.torchscript"))
    wave, rate = sf.read(season / "demo/20240601_044500.wav", dtype="float32")
    assert rate == info["sample_rate"]
    scores = module(torch.from_numpy(wave), round(0.1 / info["frame_s"])).numpy()
    stored = pd.concat(
        pd.read_parquet(p) for p in (project / "results/detect/season/scores").glob("*.parquet")
    )
    stored = stored[stored["recording"] == "demo/20240601_044500"][info["classes"]]
    assert scores.shape == stored.shape
    np.testing.assert_allclose(scores, stored.to_numpy(np.float32), atol=1e-3)  # float16 stored

    # detector.onnx with onnxruntime alone (no torch, no sonoflow) against the benchmark
    # predictions of the same tape, stored at full precision (float32 scores)
    export = project / f"results/export/{EXPERIMENT}"
    assert info["onnx"]["file"] == "detector.onnx" and info["onnx"]["frontend_inside"]
    tape = next((project / "results/demo_corpus/benchmark/audio").glob("*.wav"))
    onnx_scores = score_with_onnxruntime(
        export / "detector.onnx", export / "detector.json", tape, 0.1
    )
    shards = (project / f"results/predictions/{EXPERIMENT}/demo").glob("*.parquet")
    predicted = pd.concat(pd.read_parquet(p) for p in shards)
    predicted = predicted[predicted["recording"] == tape.stem][info["classes"]].to_numpy()
    assert onnx_scores.shape == predicted.shape
    np.testing.assert_allclose(onnx_scores, predicted, atol=1e-4)


def test_a_metadata_fusion_model_trains_on_the_demo_and_is_exported(tmp_path):
    """Its export takes the metadata as a second input (refused at the dry run before; the
    demo's metadata.csv, inside make_demo_corpus's folder, was a missing input)."""
    config = copy.deepcopy(TINY_CONFIG)
    config["models"]["tiny_b"]["metadata"] = {"fusion": "gate"}
    project = copy_project(tmp_path / "project", config)
    out = snakemake(project, "export_models", "--dry-run").stdout
    for experiment in ("default.mel32.tiny", "default.mel32.tiny_b"):
        assert f"results/export/{experiment}/detector.onnx" in out
    snakemake(project, "results/export/default.mel32.tiny_b/detector.onnx")
    info = json.loads((project / "results/export/default.mel32.tiny_b/detector.json").read_text())
    assert info["onnx"]["inputs"] == ["audio", "metadata"]
    assert info["metadata"]["columns"] == [
        "geo_x", "geo_y", "geo_z", "day_sin", "day_cos", "hour_sin", "hour_cos",
    ]  # fmt: skip
