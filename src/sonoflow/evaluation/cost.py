"""What each detector costs, from Snakemake's own `benchmarks/` files.

Every rule writes a benchmark TSV (`s` wall seconds, `max_rss` peak resident memory in MB,
one row per repeat). Per experiment: training seconds per fold (mean over folds) and peak
memory (max); per experiment x benchmark: prediction seconds per hour of audio (all shards'
seconds over all shards' audio) and peak memory, and the device each ran on (training's
from its results.json, prediction's from the run record predict writes beside its scores).
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from sonoflow.common.plots import plt, save_figure

COST = [
    "train_s_per_fold",
    "train_max_rss_mb",
    "train_device",
    "predict_s",
    "predict_audio_h",
    "predict_s_per_audio_hour",
    "predict_max_rss_mb",
    "predict_device",
]

TRAIN_TSV = re.compile(r"(?P<experiment>.+)\.fold(?P<fold>\d+)\.tsv$")
PREDICT_TSV = re.compile(r"(?P<experiment>.+)\.(?P<benchmark>[^.]+)\.shard(?P<shard>\d+)\.tsv$")


def read_benchmark(path: str | Path) -> dict:
    """Wall seconds (mean over repeats) and peak memory in MB (max) of one benchmark TSV;
    ValueError naming the file when it lacks the columns or a number."""
    table = pd.read_csv(path, sep="\t")
    missing = [c for c in ("s", "max_rss") if c not in table]
    if missing or table.empty:
        raise ValueError(f"{path}: a Snakemake benchmark file needs the columns s and max_rss")
    seconds = pd.to_numeric(table["s"], errors="coerce")
    if seconds.isna().any():
        raise ValueError(f"{path}: column s holds a value that is not a number of seconds")
    # max_rss is '-' or NaN where the job was too short to be measured
    rss = pd.to_numeric(table["max_rss"], errors="coerce")
    return {"s": float(seconds.mean()), "max_rss_mb": float(rss.max())}


def _match(pattern: re.Pattern, path: Path) -> dict:
    found = pattern.match(path.name)
    if found is None:
        raise ValueError(f"{path}: not a benchmark file name of the form {pattern.pattern}")
    return found.groupdict()


def _devices(values) -> str:
    return ";".join(sorted({str(v) for v in values}))


def training_cost(benchmark_paths: list, results_paths: list) -> pd.DataFrame:
    """Per experiment: train_s_per_fold, train_max_rss_mb, train_device, from the
    benchmarks/train_fold/{experiment}.fold{k}.tsv files and the folds' results.json
    (results/models/{experiment}/fold{k}/results.json)."""
    rows = [{**_match(TRAIN_TSV, Path(p)), **read_benchmark(p)} for p in benchmark_paths]
    devices = pd.DataFrame(
        [
            {
                "experiment": Path(p).parent.parent.name,
                "device": json.loads(Path(p).read_text())["device"],
            }
            for p in results_paths
        ],
        columns=["experiment", "device"],
    )
    folds = pd.DataFrame(rows, columns=["experiment", "fold", "s", "max_rss_mb"])
    cost = folds.groupby("experiment").agg(
        train_s_per_fold=("s", "mean"), train_max_rss_mb=("max_rss_mb", "max")
    )
    cost["train_device"] = devices.groupby("experiment")["device"].agg(_devices)
    return cost.reset_index()


def prediction_cost(benchmark_paths: list, run_paths: list) -> pd.DataFrame:
    """Per experiment x benchmark: predict_s (all shards), predict_audio_h (the audio they
    scored), predict_s_per_audio_hour, predict_max_rss_mb and predict_device, from the
    benchmarks/predict/{experiment}.{benchmark}.shard{s}.tsv files and the run records
    results/predictions/{experiment}/{benchmark}/shard{s}.json."""
    shards = pd.DataFrame(
        [{**_match(PREDICT_TSV, Path(p)), **read_benchmark(p)} for p in benchmark_paths],
        columns=["experiment", "benchmark", "shard", "s", "max_rss_mb"],
    )
    runs = []
    for path in map(Path, run_paths):
        record = json.loads(path.read_text())
        missing = [k for k in ("device", "audio_s") if k not in record]
        if missing:
            raise ValueError(f"{path}: the prediction run record lacks {missing}")
        runs.append(
            {
                "experiment": path.parent.parent.name,
                "benchmark": path.parent.name,
                "audio_s": float(record["audio_s"]),
                "device": record["device"],
            }
        )
    runs = pd.DataFrame(runs, columns=["experiment", "benchmark", "audio_s", "device"])
    keys = ["experiment", "benchmark"]
    cost = shards.groupby(keys).agg(
        predict_s=("s", "sum"), predict_max_rss_mb=("max_rss_mb", "max")
    )
    by_run = runs.groupby(keys)
    cost["predict_audio_h"] = by_run["audio_s"].sum() / 3600
    with np.errstate(divide="ignore", invalid="ignore"):
        cost["predict_s_per_audio_hour"] = cost["predict_s"] / cost["predict_audio_h"].where(
            cost["predict_audio_h"] > 0
        )
    cost["predict_device"] = by_run["device"].agg(_devices)
    return cost.reset_index()


def add_cost(board: pd.DataFrame, training: pd.DataFrame, prediction: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard with the COST columns of its experiment (training) and of its
    experiment x benchmark (prediction)."""
    board = board.merge(training, on="experiment", how="left")
    board = board.merge(prediction, on=["experiment", "benchmark"], how="left")
    rest = [c for c in board.columns if c not in COST]
    return board[[*rest, *(c for c in COST if c in board)]]


def plot_cost(board: pd.DataFrame, path: str | Path) -> None:
    """Best F1 (with its bootstrap interval as error bars, where there is one) against
    prediction seconds per audio hour, one point per experiment x benchmark."""
    fig, ax = plt.subplots(figsize=(7, 5))
    without = []
    for row in board.itertuples():
        low, high = getattr(row, "f1_low", np.nan), getattr(row, "f1_high", np.nan)
        has_interval = not (np.isnan(low) or np.isnan(high))
        if not has_interval:
            without.append(f"{row.experiment} / {row.benchmark}")
        ax.errorbar(
            row.predict_s_per_audio_hour,
            row.f1,
            yerr=[[row.f1 - low], [high - row.f1]] if has_interval else None,
            fmt="o",
            capsize=4,
            label=f"{row.experiment} / {row.benchmark}",
        )
    ax.set_xscale("log")
    costs = board["predict_s_per_audio_hour"].to_numpy(float)
    costs = costs[np.isfinite(costs) & (costs > 0)]
    if len(costs):  # room around the points; plain numbers, not powers of ten
        ax.set_xlim(costs.min() / 1.5, costs.max() * 1.5)
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain if costs.max() / costs.min() < 4 else NullFormatter())
    xlabel = "prediction seconds per audio hour (log scale)"
    if without:  # said under the axis: why some points have no error bars
        note = "no interval (fewer tapes than evaluation.bootstrap.min_recordings): "
        xlabel += "\n" + textwrap.fill(note + ", ".join(without), 110)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set(
        ylabel="best F1 (all classes), 95% interval over tapes",
        ylim=(-0.03, 1.03),
        title="Accuracy against prediction cost",
    )
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="x-small", loc="best")
    save_figure(fig, path)
