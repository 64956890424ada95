"""Events on the tiny demo run: collar F1 beside IoU F1, and false positives that do not
climb with the threshold."""

import numpy as np
import pandas as pd
import pytest
from workflow_helpers import TINY_CONFIG

from sonoflow.common.schema import section_with_defaults
from sonoflow.evaluation.benchmark import ALL, evaluate_scores
from sonoflow.evaluation.dcase import OVERALL
from sonoflow.evaluation.ground_truth import ground_truth_settings, read_ground_truth
from sonoflow.evaluation.summary import COMPARISON_COLUMNS

EXPERIMENTS = ("default.mel32.tiny", "default.mel32.tiny_b")


def test_metrics_and_leaderboard_report_collar_f1_beside_iou_f1(tiny_local_run):
    metrics = pd.read_csv(tiny_local_run / "results/metrics.csv")
    for mode in ("iou", "collar"):
        assert {f"{mode}_{c}" for c in ("tp", "fp", "fn", "precision", "recall", "f1")} <= set(
            metrics.columns
        )
    overall = metrics[metrics["class"] == ALL]
    assert overall["iou_f1"].fillna(-1).equals(overall["f1"].fillna(-1))  # match: iou
    assert overall["collar_f1"].dropna().between(0, 1).all()
    board = pd.read_csv(tiny_local_run / "results/leaderboard.csv")
    assert {"iou_f1", "collar_f1", "onset_error_ms", "offset_error_ms"} <= set(board.columns)
    # one benchmark tape, fewer than evaluation.bootstrap.min_recordings: a note, no interval
    assert {"f1_low", "f1_high", "average_precision_low", "interval_note"} <= set(board.columns)
    assert board["f1_low"].isna().all() and board["interval_note"].str.contains("only 1").all()
    assert {"collar_f1_low", "onset_error_ms_high"} <= set(metrics.columns)
    # the paired comparison of the two experiments, both ways; one tape beats nobody
    comparison = pd.read_csv(tiny_local_run / "results/comparison.csv")
    assert list(comparison.columns) == COMPARISON_COLUMNS
    assert set(zip(comparison["experiment_a"], comparison["experiment_b"])) == {
        EXPERIMENTS,
        EXPERIMENTS[::-1],
    }
    assert comparison["f1_difference"].sum() == pytest.approx(0, abs=1e-6)
    assert comparison["note"].str.contains("only 1").all()
    assert not comparison["f1_excludes_zero"].any() and board["unbeaten"].all()
    # the threshold chosen on other tapes needs evaluation.held_out.min_recordings of them
    assert {"held_out_f1", "held_out_thresholds", "held_out_note"} <= set(metrics.columns)
    assert board["held_out_f1"].isna().all()
    assert board["held_out_note"].str.contains("only 1 recording").all()


def test_dcase_table_has_each_benchmark_and_the_harmonic_mean(tiny_local_run):
    metrics = pd.read_csv(tiny_local_run / "results/metrics.csv")
    assert {"dcase_tp", "dcase_f1", "dcase_f1_low"} <= set(metrics.columns)
    dcase = pd.read_csv(tiny_local_run / "results/dcase.csv")
    assert set(dcase["experiment"]) == set(EXPERIMENTS)
    assert sorted(zip(dcase["experiment"], dcase["benchmark"])) == sorted(
        (e, b) for e in EXPERIMENTS for b in ("demo", OVERALL)
    )
    # one benchmark: the harmonic mean over benchmarks is that benchmark's F-measure
    by = dcase.set_index(["experiment", "benchmark"])["f_measure"]
    for experiment in EXPERIMENTS:
        assert by[(experiment, OVERALL)] == pytest.approx(by[(experiment, "demo")])
    assert "dcase_f1" in pd.read_csv(tiny_local_run / "results/leaderboard.csv")


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_false_positives_do_not_rise_with_the_threshold(tiny_local_run, experiment):
    project = tiny_local_run
    scores = pd.concat(
        [
            pd.read_parquet(p)
            for p in (project / f"results/predictions/{experiment}/demo").glob("*.parquet")
        ]
    )
    demo = project / "results/demo_corpus/benchmark"
    bench = section_with_defaults("benchmark", TINY_CONFIG["benchmarks"]["demo"])
    reader = ground_truth_settings("demo", bench, section_with_defaults("corpus", {}))
    truth = read_ground_truth(demo / "audio", demo / "annotations", reader).annotations
    settings = {
        **section_with_defaults("evaluation", TINY_CONFIG["evaluation"]),
        "thresholds": np.round(np.arange(0.3, 0.951, 0.05), 2).tolist(),
        "sweep_steps": 0,
        "hop_s": TINY_CONFIG["benchmarks"]["demo"]["hop_s"],
    }
    metrics = evaluate_scores(scores, truth, ["hum", "chirp"], settings).metrics
    fp = metrics[metrics["class"] == ALL].set_index("threshold")["fp"].to_numpy()
    assert len(fp) == 14
    # the largest rise of false positives from any threshold to any higher one
    rise = max(fp[j] - fp[i] for i in range(len(fp)) for j in range(i, len(fp)))
    assert rise <= 3, fp
