"""Bad input at stage boundaries (issue 16): key order, deleted cache files, bad audio,
config that would fail late, empty folders, numbers YAML reads as text."""

import copy
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml
from corpus_helpers import calls_corpus
from workflow_helpers import (
    TINY_CONFIG,
    copy_project,
    reordered_keys,
    scheduled_jobs,
    snakemake,
    write_config,
)


def test_same_config_in_another_key_order_reruns_nothing(tiny_local_run):
    config = reordered_keys(copy.deepcopy(TINY_CONFIG))
    assert list(config) != list(TINY_CONFIG)
    write_config(tiny_local_run, config)
    try:
        assert scheduled_jobs(tiny_local_run) == {}
    finally:
        write_config(tiny_local_run, TINY_CONFIG)


def test_deleted_cache_file_is_noticed_at_dag_time(tiny_local_run, tmp_path):
    project = tmp_path / "copy"
    shutil.copytree(tiny_local_run, project, symlinks=True)
    cache = project / "results/cache/mel32"
    spectrograms = sorted((cache / "spectrograms").glob("*.npy"))
    spectrograms[0].unlink()
    result = snakemake(project, "--dry-run", check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "results/cache/mel32: 1 cached spectrogram(s) listed in index.csv are missing" in out
    assert spectrograms[0].name in out and "delete results/cache/mel32/index.csv" in out
    forced = snakemake(project, "--forcerun", "cache_spectrograms", "--dry-run").stdout
    assert "rule cache_spectrograms:" in forced
    (cache / "index.csv").unlink()  # the fix the message gives
    assert scheduled_jobs(project) == {}  # up-to-date results need no cache
    config = copy.deepcopy(TINY_CONFIG)
    config["models"]["tiny"]["lr"] = 0.003
    write_config(project, config)
    jobs = scheduled_jobs(project)  # a training to rerun rebuilds the cache first
    assert jobs["cache_spectrograms"] == 1 and "prepare_dataset" not in jobs


SEASON = {"recordings": "season", "experiment": "default.mel32.tiny_b"}
ONNX = {"type": "embedding", "model": "onnx", "window_s": 0.5, "hop_s": 0.1}


def _dry_run_error(tmp_path, edit) -> str:
    config = copy.deepcopy(TINY_CONFIG)
    edit(config)
    project = copy_project(tmp_path / "project", config)
    result = snakemake(project, "--dry-run", check=False)
    assert result.returncode != 0
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda c: c["benchmarks"]["demo"].update(hop_s=0.03),
            "benchmarks.demo.hop_s: 0.03 s is not a whole number of frames of features.mel32",
        ),
        (
            lambda c: c.setdefault("corpus", {}).update(labels=["hum", "noise"]),
            "corpus.labels: 'noise' is the name of the class of mined noise clips",
        ),
        (
            lambda c: c["datasets"]["default"].update(split={"train": 0.6, "val": 0.2, "test": 0}),
            "datasets.default.split: the shares",
        ),
        (
            lambda c: c["features"]["mel32"].update(fmin=8000),
            "features.mel32.fmin: 8000 Hz is not below features.mel32.fmax",
        ),
        # issue 24: each failed only in a job, or vaguely
        (
            lambda c: c.update(detect={"s": {**SEASON, "threshold": {"hum": 0.5}}}),
            "detect.s.threshold: no threshold for ['chirp']",
        ),
        (
            lambda c: c.update(detect={"s": {**SEASON, "hop_s": 0.03}}),
            "detect.s.hop_s: 0.03 s is not a whole number of frames of features.mel32",
        ),
        (
            lambda c: c["features"].update(loud={**ONNX, "path": "loud.onnx"}),
            "features.loud.path: loud.onnx is not an ONNX model (no such file)",
        ),
        (
            lambda c: (
                c.update(
                    tuning={
                        "enabled": ["default.mel32.tiny"],
                        "centred_space": {"lr": {"factor": 2}},
                    }
                )
                or c["models"]["tiny"].update(lr="auto")
            ),
            "tuning.centred_space: centres nothing for models.tiny",
        ),
        (
            lambda c: c.setdefault("corpus", {}).update(quality_regex="_Q(?P<quality>[1-4]$"),
            "corpus.quality_regex: '_Q(?P<quality>[1-4]$' is not a regular expression",
        ),
        (
            lambda c: c["features"]["mel32"].update(window_s=0.02),
            "features.mel32.n_fft: 512 samples is longer than features.mel32.window_s 0.02 s",
        ),
    ],
)
def test_settings_that_would_fail_late_stop_the_dry_run(tmp_path, edit, message):
    assert message in _dry_run_error(tmp_path, edit)


def test_empty_recording_folders_are_named(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "raven").mkdir()
    corpus = {"recordings": str(tmp_path / "audio"), "annotations": str(tmp_path / "raven")}
    out = _dry_run_error(tmp_path, lambda c: c.update(corpus=corpus))
    assert f"config key corpus.recordings: {tmp_path / 'audio'} holds no .wav" in out
    bench = {"recordings": str(tmp_path / "audio"), "annotations": str(tmp_path / "raven")}
    out = _dry_run_error(tmp_path / "b", lambda c: c["benchmarks"].update(demo=bench))
    assert f"config key benchmarks.demo.recordings: {tmp_path / 'audio'} holds no .wav" in out


def test_detect_folder_without_audio_stops_the_dry_run(tmp_path):
    """Not 40 s of jobs and a KeyError in collect_detections (issue 24)."""
    (tmp_path / "season/site1").mkdir(parents=True)
    (tmp_path / "season/site1/readme.txt").write_text("no audio")
    run = {"recordings": str(tmp_path / "season"), "experiment": "default.mel32.tiny_b"}
    out = _dry_run_error(tmp_path / "p", lambda c: c.update(detect={"season": run}))
    assert f"config key detect.season.recordings: {tmp_path / 'season'} holds no audio" in out


def test_numbers_yaml_reads_as_text_are_accepted(tmp_path):
    project = copy_project(tmp_path, copy.deepcopy(TINY_CONFIG))
    text = (project / "config.yaml").read_text().replace("lr: 0.002", "lr: 2e-3")
    (project / "config.yaml").write_text(text)
    assert yaml.safe_load(text)["models"]["tiny"]["lr"] == "2e-3"
    assert scheduled_jobs(project)["train_fold"] == 4


def test_unreadable_config_yaml_names_its_line(tmp_path):
    project = copy_project(tmp_path, copy.deepcopy(TINY_CONFIG))
    (project / "config.yaml").write_text("cv:\n  folds: [2\nmodels: {}\n")
    result = snakemake(project, "--dry-run", check=False)
    assert result.returncode != 0
    assert "line 3" in result.stdout + result.stderr


def test_bad_audio_skipped_by_the_dataset_and_the_cache_alike(tmp_path):
    corpus = calls_corpus(tmp_path / "corpus", tapes=5, calls=6)
    samples, rate = sf.read(tmp_path / "corpus/audio/rec02.wav", dtype="float32")
    samples[rate] = np.nan
    sf.write(tmp_path / "corpus/audio/rec02.wav", samples, rate, subtype="FLOAT")
    config = copy.deepcopy(TINY_CONFIG)
    config["corpus"] = {**corpus, "bad_audio": "skip"}
    config["features"]["mel32"].update(sample_rate=8000, fmax=4000)
    config["benchmarks"]["demo"]["hop_s"] = 0.08
    project = copy_project(tmp_path / "project", config)
    targets = ["results/datasets/default/clips.csv", "results/cache/mel32/index.csv"]
    snakemake(project, *targets)
    clips = pd.read_csv(project / targets[0])
    index = pd.read_csv(project / targets[1])
    assert "rec02" not in set(clips["recording"]) | set(index["recording"])
    assert set(clips["recording"]) <= set(index["recording"])
    log = (project / "logs/prepare_dataset/default.log").read_text()
    assert "rec02.wav" in log and "NaN" in log and "annotation file without recording" not in log
