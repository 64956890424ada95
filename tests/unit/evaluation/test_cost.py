"""Cost beside accuracy: Snakemake's benchmark files read into the leaderboard's columns."""

import json

import numpy as np
import pandas as pd
import pytest

from sonoflow.evaluation.cost import (
    COST,
    add_cost,
    plot_cost,
    prediction_cost,
    read_benchmark,
    training_cost,
)

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_tsv(path, *rows):
    """A Snakemake benchmark file with one row per (seconds, max_rss) repeat."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{s}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t0\t0\n" for s, rss in rows]
    path.write_text(HEADER + "".join(lines))
    return path


def write_json(path, record):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def test_benchmark_repeats_give_mean_seconds_and_peak_memory(tmp_path):
    path = write_tsv(tmp_path / "x.fold0.tsv", (10.0, 500.0), (20.0, "-"), (30.0, 700.0))
    assert read_benchmark(path) == {"s": 20.0, "max_rss_mb": 700.0}
    bad = tmp_path / "bad.tsv"
    bad.write_text("seconds\tmax_rss\n1\t2\n")
    with pytest.raises(ValueError, match="bad.tsv.*columns s and max_rss"):
        read_benchmark(bad)


def test_training_and_prediction_cost_per_experiment_and_benchmark(tmp_path):
    bench, results = tmp_path / "benchmarks", tmp_path / "results"
    experiment = "default.mel32.tiny"
    train = [
        write_tsv(bench / f"train_fold/{experiment}.fold0.tsv", (100.0, 1000.0)),
        write_tsv(bench / f"train_fold/{experiment}.fold1.tsv", (140.0, 1200.0)),
    ]
    fold_results = [
        write_json(results / f"models/{experiment}/fold{k}/results.json", {"device": "cuda"})
        for k in (0, 1)
    ]
    predict = [
        write_tsv(bench / f"predict/{experiment}.demo.shard0.tsv", (30.0, 800.0)),
        write_tsv(bench / f"predict/{experiment}.demo.shard1.tsv", (6.0, 900.0)),
    ]
    runs = [
        write_json(
            results / f"predictions/{experiment}/demo/shard{k}.json",
            {"device": "cuda", "audio_s": audio},
        )
        for k, audio in ((0, 5400.0), (1, 1800.0))
    ]
    (training,) = training_cost(train, fold_results).to_dict("records")
    assert training == {
        "experiment": experiment,
        "train_s_per_fold": 120.0,
        "train_max_rss_mb": 1200.0,
        "train_device": "cuda",
    }
    (prediction,) = prediction_cost(predict, runs).to_dict("records")
    # 36 s over two hours of audio
    assert prediction["predict_s"] == 36.0 and prediction["predict_audio_h"] == 2.0
    assert prediction["predict_s_per_audio_hour"] == 18.0
    assert prediction["predict_max_rss_mb"] == 900.0 and prediction["predict_device"] == "cuda"

    board = pd.DataFrame(
        {"experiment": [experiment], "benchmark": ["demo"], "f1": [0.8], "f1_low": [0.7]}
    )
    board = board.assign(f1_high=0.9)
    costed = add_cost(board, pd.DataFrame([training]), pd.DataFrame([prediction]))
    assert list(costed.columns[-len(COST) :]) == COST
    assert costed.loc[0, "predict_s_per_audio_hour"] == 18.0
    plot = tmp_path / "cost.png"
    plot_cost(costed, plot)
    assert plot.stat().st_size > 1000


def test_a_shard_without_audio_costs_its_seconds_but_no_hours(tmp_path):
    tsv = write_tsv(tmp_path / "e.x.demo.shard0.tsv", (4.0, 100.0))
    run = write_json(tmp_path / "predictions/e.x/demo/shard0.json", {"device": "cpu", "audio_s": 0})
    (row,) = prediction_cost([tsv], [run]).to_dict("records")
    assert row["experiment"] == "e.x" and row["benchmark"] == "demo"
    assert row["predict_s"] == 4.0 and np.isnan(row["predict_s_per_audio_hour"])
    with pytest.raises(ValueError, match="shard0.json.*lacks \\['audio_s'\\]"):
        prediction_cost([tsv], [write_json(tmp_path / "p/e.x/demo/shard0.json", {"device": "cpu"})])
