"""The whole DAG on a tiny demo config, then what a config edit reruns."""

import copy
import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from workflow_helpers import (
    ROOT,
    SNAKEMAKE,
    TINY_CONFIG,
    copy_project,
    scheduled_jobs,
    snakemake,
    write_config,
)

EXPERIMENT = "default.mel32.tiny"


@pytest.fixture(scope="module")
def finished_run(tiny_local_run):
    return tiny_local_run


def test_full_run_writes_metrics_models_events_and_plots(finished_run):
    metrics = pd.read_csv(finished_run / "results/metrics.csv")
    assert set(metrics["class"]) == {"hum", "chirp", "all", "macro"}
    # the configured thresholds plus the sweep's 0, 0.25, ..., 1
    assert set(metrics["threshold"]) == {0.0, 0.25, 0.5, 0.75, 0.8, 1.0}
    assert len(metrics) == 2 * 1 * 6 * 4  # experiment x benchmark x threshold x class
    assert set(metrics["experiment"]) == {EXPERIMENT, "default.mel32.tiny_b"}
    rates = metrics[["precision", "recall", "f1", "segment_f1", "average_precision"]]
    assert rates.stack().dropna().between(0, 1).all()
    assert {"onset_error_ms", "offset_error_ms", "count_pearson", "best_f1_threshold"} <= set(
        metrics.columns
    )
    per_tape = pd.read_csv(finished_run / "results/metrics_per_tape.csv")
    assert len(per_tape) == 2 * 6 * 2  # experiment x threshold x class, one benchmark tape
    assert {"recording", "tp", "fp", "fn", "recall"} <= set(per_tape.columns)
    overall = metrics[(metrics["class"] == "all") & (metrics["experiment"] == EXPERIMENT)]
    overall = overall.set_index("threshold")
    # firing everywhere gives one event per recording and class: at most 2 true positives
    assert overall.loc[0.0, "tp"] <= 2
    assert (
        overall["tp"] + overall["fn"]
    ).nunique() == 1  # same reference events at every threshold
    for fold in (0, 1):
        model = finished_run / f"results/models/{EXPERIMENT}/fold{fold}/model.pt"
        checkpoint = torch.load(model, weights_only=True)
        assert checkpoint["classes"] == ["hum", "chirp", "noise"]
        history = pd.read_csv(model.with_name("history.csv"))
        assert {"train_loss", "train_macro_f1", "val_macro_f1", "lr", "samples_per_s"} <= set(
            history.columns
        )
    report = finished_run / f"results/models/{EXPERIMENT}"
    assert pd.read_csv(report / "cv_summary.csv")["fold"].astype(str).tolist()[-2:] == [
        "mean",
        "std",
    ]
    test_metrics = json.loads((report / "test/metrics.json").read_text())
    assert {"accuracy", "macro_f1", "micro_f1", "roc_auc", "gain_over_chance"} <= set(test_metrics)
    assert (report / "plots/confusion_matrix.png").stat().st_size > 1000
    events = list(
        (finished_run / f"results/evaluation/{EXPERIMENT}/demo/events").rglob("*.selections.txt")
    )
    assert len(events) == 3  # one table per threshold for the one benchmark tape
    predictions = finished_run / f"results/predictions/{EXPERIMENT}/demo"
    empty = pd.read_parquet(
        predictions / "shard1.parquet"
    )  # the one tape, bench01.wav, hashes to shard 0
    assert empty.empty and list(empty.columns) == [
        "recording",
        "start_s",
        "end_s",
        "hum",
        "chirp",
        "noise",
    ]
    scores = pd.read_parquet(predictions / "shard0.parquet")
    assert list(scores.columns) == ["recording", "start_s", "end_s", "hum", "chirp", "noise"]
    assert scores[["hum", "chirp", "noise"]].sum(axis=1).round(4).eq(1).all()
    for plot in (
        "f1_by_threshold",
        "f1_intervals",
        "pr_curves",
        "per_tape_recall",
        "recall_by_quality",
        "comparison_forest",
    ):
        assert (finished_run / f"results/plots/{plot}.png").stat().st_size > 1000
    assert (
        finished_run / f"results/evaluation/{EXPERIMENT}/demo/excerpt.png"
    ).stat().st_size > 1000
    predict_log = (finished_run / f"logs/predict/{EXPERIMENT}.demo.shard0.log").read_text()
    train_log = (finished_run / "logs/train_fold" / f"{EXPERIMENT}.fold0.log").read_text()
    assert "audio scored" in predict_log
    for log in (predict_log, train_log):  # GPU jobs say what their start-up cost
        assert re.search(r"start-up: \d+\.\d s from process start to first batch", log)
    assert (finished_run / "benchmarks/predict" / f"{EXPERIMENT}.demo.shard0.tsv").exists()


def test_cost_columns_of_the_leaderboard_are_what_the_benchmark_files_hold(finished_run):
    board = pd.read_csv(finished_run / "results/leaderboard.csv").set_index("experiment")
    bench = finished_run / "benchmarks"
    for experiment in (EXPERIMENT, "default.mel32.tiny_b"):
        row = board.loc[experiment]
        folds = [
            pd.read_csv(bench / f"train_fold/{experiment}.fold{k}.tsv", sep="\t") for k in (0, 1)
        ]
        assert row["train_s_per_fold"] == pytest.approx(
            sum(f["s"].mean() for f in folds) / 2, abs=1e-4
        )
        assert row["train_max_rss_mb"] == pytest.approx(
            max(f["max_rss"].max() for f in folds), abs=1e-4
        )
        shards = [
            pd.read_csv(bench / f"predict/{experiment}.demo.shard{k}.tsv", sep="\t") for k in (0, 1)
        ]
        seconds = sum(f["s"].mean() for f in shards)
        runs = [
            json.loads(
                (finished_run / f"results/predictions/{experiment}/demo/shard{k}.json").read_text()
            )
            for k in (0, 1)
        ]
        hours = sum(r["audio_s"] for r in runs) / 3600
        assert hours > 0 and runs[1]["audio_s"] == 0  # the one tape is in shard 0
        assert row["predict_s"] == pytest.approx(seconds, abs=1e-4)
        assert row["predict_s_per_audio_hour"] == pytest.approx(seconds / hours, rel=1e-3)
        assert row["predict_max_rss_mb"] == pytest.approx(
            max(f["max_rss"].max() for f in shards), abs=1e-4
        )
        # the tiny run is on this machine's device, for training and prediction alike
        expected = "cuda" if torch.cuda.is_available() else "cpu"
        assert row["train_device"] == row["predict_device"] == expected
    assert (finished_run / "results/plots/cost.png").stat().st_size > 1000


def test_complete_run_schedules_nothing(finished_run):
    assert scheduled_jobs(finished_run) == {}


def _edited(project, edit):
    config = copy.deepcopy(TINY_CONFIG)
    edit(config)
    write_config(project, config)
    try:
        return scheduled_jobs(project)
    finally:
        write_config(project, TINY_CONFIG)


def test_threshold_edit_reruns_only_evaluation(finished_run):
    jobs = _edited(finished_run, lambda c: c["evaluation"].update(thresholds=[0.0, 0.6]))
    assert jobs == {"evaluate": 2, "summarize": 1, "all": 1}  # both experiments, nothing upstream


def test_learning_rate_edit_reruns_that_models_training_onwards(finished_run):
    jobs = _edited(finished_run, lambda c: c["models"]["tiny"].update(lr=0.003))
    # the two folds, prediction and evaluation of default.mel32.tiny only, not of tiny_b
    assert jobs == {
        "train_fold": 2,
        "assess_experiment": 1,
        "predict": 2,
        "evaluate": 1,
        "summarize": 1,
        "all": 1,
    }


def test_feature_edit_reruns_cache_and_everything_after(finished_run):
    jobs = _edited(finished_run, lambda c: c["features"]["mel32"].update(fmin=100))
    assert jobs == {
        "cache_spectrograms": 1,
        "train_fold": 4,
        "assess_experiment": 2,
        "predict": 4,
        "evaluate": 2,
        "summarize": 1,
        "all": 1,
    }


def test_invalid_config_stops_before_any_job_naming_the_key(tmp_path):
    config = copy.deepcopy(TINY_CONFIG)
    config["models"]["tiny"]["epochs"] = 0
    project = copy_project(tmp_path, config)
    result = snakemake(project, "--dry-run", check=False)
    assert result.returncode != 0
    assert "models.tiny.epochs: 0 is less than the minimum of 1" in result.stdout + result.stderr


def test_rulegraph_shows_every_stage():
    result = subprocess.run(
        [SNAKEMAKE, "--rulegraph"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    for rule in (
        "make_demo_corpus",
        "prepare_dataset",
        "cache_spectrograms",
        "train_fold",
        "predict",
        "evaluate",
        "summarize",
    ):
        assert f'label = "{rule}"' in result.stdout


def test_slurm_profile_dry_run_requests_gpus_only_for_gpu_rules(tmp_path):
    project = copy_project(tmp_path, yaml.safe_load((ROOT / "config.yaml").read_text()))
    result = subprocess.run(
        [SNAKEMAKE, "--profile", "profiles/slurm", "-n"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    blocks = re.findall(
        r"^rule (\w+):\n(.*?)(?=^rule |\Z)", result.stdout, flags=re.MULTILINE | re.DOTALL
    )
    gpu_of = {rule: "gpu=1" in body for rule, body in blocks}
    assert {"make_demo_corpus", "train_fold", "predict", "evaluate"} <= set(gpu_of)
    assert {rule for rule, gpu in gpu_of.items() if gpu} == {"train_fold", "predict", "check_gpu"}
    assert "slurm_partition=gpu" in dict(blocks)["train_fold"]


def test_lint_is_clean():
    result = subprocess.run([SNAKEMAKE, "--lint"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_snakefmt_is_clean():
    files = [ROOT / "Snakefile", *sorted((ROOT / "workflow/rules").rglob("*.smk"))]
    snakefmt = str(Path(SNAKEMAKE).with_name("snakefmt"))
    result = subprocess.run([snakefmt, "--check", *map(str, files)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_report_is_made_from_a_finished_run(finished_run):
    snakemake(finished_run, "--report", "report.html")
    report = (finished_run / "report.html").read_text(errors="replace")
    for name in (
        "f1_by_threshold",
        "f1_intervals",
        "comparison_forest",
        "cost",
        "training_history",
        "pr_curves",
        "per_tape_recall",
        "excerpt",
        "learning_curves",
        "probabilities",
    ):
        assert f"{name}.png" in report, name


def test_missing_corpus_folder_names_the_config_key(tmp_path):
    config = copy.deepcopy(TINY_CONFIG)
    config["corpus"] = {"recordings": str(tmp_path / "no-such-audio"), "annotations": str(tmp_path)}
    project = copy_project(tmp_path / "project", config)
    result = snakemake(project, "--dry-run", check=False)
    assert result.returncode != 0
    assert "config key corpus.recordings:" in result.stdout + result.stderr


def test_scoring_with_one_fold_reruns_prediction_only(finished_run):
    jobs = _edited(finished_run, lambda c: c["benchmarks"]["demo"].update(folds=[0]))
    # 2 experiments x 2 shards
    assert jobs == {"predict": 4, "evaluate": 2, "summarize": 1, "all": 1}


def test_ruff_is_clean():
    ruff = str(Path(SNAKEMAKE).with_name("ruff"))
    paths = [str(ROOT / p) for p in ("src", "tests", "workflow/scripts", "docs")]
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run([ruff, *args, *paths], capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_variant_is_prepared_but_only_listed_experiments_train(tmp_path):
    config = copy.deepcopy(TINY_CONFIG)
    config["datasets"]["balanced"] = {
        "strategy": "tape_balanced",
        "noise_per_target": 1.5,
        "export": {"animal_spot": True},
    }
    config["experiments"] = [{"dataset": "default", "features": "mel32", "model": "tiny"}]
    project = copy_project(tmp_path, config)
    jobs = scheduled_jobs(project)
    assert jobs["prepare_dataset"] == 2 and jobs["export_dataset"] == 1
    assert jobs["train_fold"] == 2  # one experiment, two folds
    result = snakemake(project, "--dry-run", "check_corpus")
    assert "check_corpus" in result.stdout


def test_pretrained_weights_are_fetched_by_a_local_rule_before_training(tmp_path):
    config = copy.deepcopy(TINY_CONFIG)
    config["models"]["tiny"]["pretrained"] = True
    project = copy_project(tmp_path, config)
    out = snakemake(project, "--dry-run").stdout
    blocks = re.findall(r"^rule (\w+):\n(.*?)(?=^\[|\Z)", out, flags=re.MULTILINE | re.DOTALL)
    (download,) = [text for rule, text in blocks if rule == "download_weights"]
    assert "output: resources/weights/resnet10t.pth" in download
    # Dry runs list jobs in no fixed order: look at the folds of the pretrained model.
    folds = [t for r, t in blocks if r == "train_fold" and "models/default.mel32.tiny/" in t]
    assert len(folds) == 2
    assert all("resources/weights/resnet10t.pth" in t.split("output:")[0] for t in folds)
    assert scheduled_jobs(project)["download_weights"] == 1  # dry run only: no network in tests


def test_unknown_backbone_stops_before_any_job_listing_close_matches(tmp_path):
    config = copy.deepcopy(TINY_CONFIG)
    config["models"]["tiny"]["backbone"] = "resnet10"
    project = copy_project(tmp_path, config)
    result = snakemake(project, "--dry-run", check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "models.tiny.backbone: unknown backbone 'resnet10'" in out
    assert "resnet10t" in out.split("close matches:")[1]
