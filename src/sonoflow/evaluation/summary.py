"""The run's summary: metrics tables, a leaderboard and the evaluation and training plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.common.atomic import write_csv
from sonoflow.common.plots import new_figure, plt, save_figure
from sonoflow.common.tables import read_table
from sonoflow.evaluation.bootstrap import compare_experiments, unbeaten
from sonoflow.evaluation.cost import add_cost, plot_cost, prediction_cost, training_cost
from sonoflow.evaluation.dcase import dcase_table
from sonoflow.evaluation.forest import plot_comparison_forest


def collect_metrics(paths: list[str | Path]) -> pd.DataFrame:
    """Concatenate evaluation tables; each file's experiment and benchmark come from its path
    (results/evaluation/{experiment}/{benchmark}/metrics.csv or metrics_per_tape.csv)."""
    frames = []
    for path in map(Path, paths):
        frame = read_table(path)
        frame.insert(0, "benchmark", path.parent.name)
        frame.insert(0, "experiment", path.parent.parent.name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def leaderboard(metrics: pd.DataFrame) -> pd.DataFrame:
    """Best overall F1 per experiment x benchmark, with the threshold that gives it, IoU,
    collar and DCASE F1 and the onset and offset errors there, the average precision over the sweep,
    and the F1 of a detector that fires everywhere (threshold 0); with the bootstrap bounds
    (`*_low`, `*_high`) and `interval_note` (why there are none) that evaluate wrote, and
    `held_out_f1` (threshold chosen on other tapes) beside `f1` with its chosen thresholds
    and note, where evaluate wrote them."""
    overall = metrics[(metrics["class"] == "all") & metrics["f1"].notna()].reset_index(drop=True)
    best = overall.loc[overall.groupby(["experiment", "benchmark"])["f1"].idxmax()]
    columns = ["precision", "recall", "f1", "iou_f1", "collar_f1", "dcase_f1", "onset_error_ms"]
    columns = [c for c in [*columns, "offset_error_ms", "average_precision"] if c in best]
    # 95% bootstrap bounds over tapes beside each figure, where evaluate wrote them
    bounds = [f"{c}_{side}" for c in columns for side in ("low", "high") if f"{c}_{side}" in best]
    notes = ["n_recordings", "interval_note"] if "interval_note" in best else []
    # F1 with the threshold chosen on other tapes, where evaluate wrote it
    notes += [c for c in ("held_out_f1", "held_out_thresholds", "held_out_note") if c in best]
    board = best[["experiment", "benchmark", "threshold", *columns, *bounds, *notes]].rename(
        columns={"threshold": "best_threshold"}
    )
    if "held_out_f1" in board:  # beside the optimistic F1
        board.insert(board.columns.get_loc("f1") + 1, "held_out_f1", board.pop("held_out_f1"))
    everywhere = overall[overall["threshold"] == 0].set_index(["experiment", "benchmark"])["f1"]
    board["f1_fire_everywhere"] = [
        everywhere.get(k) for k in zip(board["experiment"], board["benchmark"])
    ]
    return board.sort_values("f1", ascending=False).reset_index(drop=True)


COMPARISON_COLUMNS = [
    "benchmark",
    "experiment_a",
    "experiment_b",
    *(
        f"{m}_{s}"
        for m in ("f1", "ap")
        for s in ("difference", "difference_low", "difference_high", "excludes_zero")
    ),
    "n_recordings",
    "note",
]


def comparison_table(per_tape: pd.DataFrame, bootstrap: dict) -> pd.DataFrame:
    """`bootstrap.compare_experiments` for every ordered pair of experiments on each benchmark
    (all classes pooled, as the leaderboard's F1): COMPARISON_COLUMNS, one row per pair.
    `bootstrap` is the `evaluation.bootstrap` section (resamples, seed, min_recordings)."""
    options = {
        "n_resamples": bootstrap["resamples"],
        "seed": bootstrap["seed"],
        "min_recordings": bootstrap["min_recordings"],
    }
    frames = []
    for name, rows in per_tape.groupby("benchmark", sort=True):
        tapes = {e: r for e, r in rows.groupby("experiment", sort=True)}
        if len(tapes) > 1:
            frames.append(compare_experiments(tapes, **options).assign(benchmark=name))
    if not frames:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    return pd.concat(frames, ignore_index=True)[COMPARISON_COLUMNS]


def mark_unbeaten(board: pd.DataFrame, comparison: pd.DataFrame) -> pd.DataFrame:
    """`board` with `unbeaten`: True where no other experiment on that benchmark beats the
    row's one with confidence in best-threshold F1 (its paired interval excludes zero)."""
    beaten = set()
    for name, rows in comparison.groupby("benchmark"):
        others = set(rows["experiment_a"]) - set(unbeaten(rows, "f1"))
        beaten |= {(name, e) for e in others}
    marks = [(b, e) not in beaten for b, e in zip(board["benchmark"], board["experiment"])]
    return board.assign(unbeaten=marks)


def at_best_threshold(table: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """Rows of `table` at their experiment x benchmark's best-F1 threshold (all classes)."""
    best = metrics[metrics["class"] == "all"].groupby(["experiment", "benchmark"])[
        "best_f1_threshold"
    ]
    best = best.first().rename("best").reset_index()
    table = table.merge(best, on=["experiment", "benchmark"])
    return table[np.isclose(table["threshold"], table["best"])].drop(columns="best")


def plot_f1_by_threshold(metrics: pd.DataFrame, path: str | Path) -> None:
    """Precision, recall and F1 (all classes) against threshold, one panel each."""
    overall = metrics[metrics["class"] == "all"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    for ax, measure in zip(axes, ("precision", "recall", "f1")):
        for (experiment, benchmark), rows in overall.groupby(["experiment", "benchmark"]):
            ax.plot(
                rows["threshold"], rows[measure], marker=".", label=f"{experiment} / {benchmark}"
            )
        ax.set(xlabel="threshold", ylabel=f"{measure} (all classes)", ylim=(0, 1), title=measure)
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize="x-small")
    save_figure(fig, path)


def f1_interval_figure(metrics: pd.DataFrame):
    """F1 (all classes) against threshold with its 95% tape-bootstrap band (`f1_low`,
    `f1_high`), one panel per benchmark and one line per experiment. Where a benchmark has
    too few tapes for an interval (bounds NaN) the line stands alone, and the legend and the
    panel's title say so."""
    overall = metrics[metrics["class"] == "all"]
    benchmarks = list(dict.fromkeys(overall["benchmark"]))
    experiments = list(dict.fromkeys(overall["experiment"]))
    colours = dict(zip(experiments, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10))
    fig, axes = new_figure((max(6.0, 5.5 * len(benchmarks)), 4.5), ncols=len(benchmarks))
    axes = axes if isinstance(axes, list) else [axes]
    for ax, benchmark in zip(axes, benchmarks):
        without = []
        for experiment in experiments:
            rows = overall[
                (overall["benchmark"] == benchmark) & (overall["experiment"] == experiment)
            ].sort_values("threshold")
            if rows.empty:
                continue
            colour = colours[experiment]
            low = rows.get("f1_low", pd.Series(np.nan, index=rows.index)).astype(float)
            high = rows.get("f1_high", pd.Series(np.nan, index=rows.index)).astype(float)
            banded = low.notna().any()
            label = experiment if banded else f"{experiment} (no interval)"
            ax.plot(rows["threshold"], rows["f1"], marker=".", color=colour, label=label)
            if banded:
                ax.fill_between(rows["threshold"], low, high, color=colour, alpha=0.2, linewidth=0)
            else:
                without.append(int(rows["n_recordings"].iloc[0]) if "n_recordings" in rows else 0)
        title = f"{benchmark}: F1, band = 95% interval over tapes"
        if without:
            title = f"{benchmark}: F1, no interval: only {max(without)} tape(s)"
        ax.set(xlabel="threshold", ylabel="F1 (all classes)", xlim=(0, 1), ylim=(0, 1))
        ax.set_title(title, fontsize="medium")
        ax.legend(fontsize="x-small", loc="best")
    return fig


def plot_f1_intervals(metrics: pd.DataFrame, path: str | Path) -> None:
    """`f1_interval_figure` written to `path`."""
    save_figure(f1_interval_figure(metrics), path)


def plot_pr_curves(metrics: pd.DataFrame, path: str | Path) -> None:
    overall = metrics[metrics["class"] == "all"]
    fig, ax = plt.subplots(figsize=(6, 5))
    for (experiment, benchmark), rows in overall.groupby(["experiment", "benchmark"]):
        rows = rows.sort_values("recall")
        ap = rows["average_precision"].iloc[0]
        ax.plot(
            rows["recall"],
            rows["precision"],
            marker=".",
            label=f"{experiment} / {benchmark} (AP {ap:.2f})",
        )
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1), title="Event PR curves")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def plot_per_tape_recall(per_tape: pd.DataFrame, metrics: pd.DataFrame, path: str | Path) -> None:
    rows = at_best_threshold(per_tape, metrics)
    counts = rows.groupby(["experiment", "benchmark", "recording"])[["tp", "fn"]].sum()
    recall = (counts["tp"] / (counts["tp"] + counts["fn"]).where(lambda n: n > 0)).rename("recall")
    grid = recall.reset_index().pivot_table(
        index=["experiment", "benchmark"], columns="recording", values="recall", dropna=False
    )
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * grid.shape[1] + 3), max(2.5, 0.4 * len(grid) + 2)))
    image = ax.imshow(grid.to_numpy(float), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(grid)), [f"{e} / {b}" for e, b in grid.index], fontsize=7)
    for (i, j), value in np.ndenumerate(grid.to_numpy(float)):
        if not np.isnan(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6, color="w")
    fig.colorbar(image, ax=ax, label="recall at best-F1 threshold")
    ax.set_title("Recall per tape")
    save_figure(fig, path)


def plot_recall_by_quality(metrics: pd.DataFrame, path: str | Path) -> None:
    columns = sorted(c for c in metrics.columns if c.startswith("recall_quality_"))
    rows = at_best_threshold(metrics[metrics["class"] == "all"], metrics)
    fig, ax = plt.subplots(figsize=(6, 4))
    if columns and len(rows):
        width = 0.8 / len(rows)
        for i, row in enumerate(rows.itertuples()):
            values = [getattr(row, c) for c in columns]
            ax.bar(
                np.arange(len(columns)) + i * width,
                values,
                width,
                label=f"{row.experiment} / {row.benchmark}",
            )
        ax.set_xticks(
            np.arange(len(columns)) + 0.4 - width / 2,
            [c.removeprefix("recall_quality_") for c in columns],
        )
        ax.legend(fontsize="x-small")
    else:
        ax.text(0.5, 0.5, "no quality column in the ground truth", ha="center", va="center")
    ax.set(xlabel="annotation quality", ylabel="recall at best-F1 threshold", ylim=(0, 1))
    ax.set_title("Recall per annotation quality")
    save_figure(fig, path)


def plot_training_history(histories: dict[str, pd.DataFrame], path: str | Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, history in histories.items():
        ax.plot(history["epoch"], history["val_macro_f1"], marker=".", label=name)
    ax.set(xlabel="epoch", ylabel="validation macro-F1", ylim=(0, 1), title="Training per fold")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def write_summary(
    metrics_paths: list,
    per_tape_paths: list,
    history_paths: list,
    out: dict,
    bootstrap: dict,
    cost: dict,
) -> pd.DataFrame:
    """Write the summary files of `out` (SUMMARY's names); `bootstrap` is the
    `evaluation.bootstrap` section the paired comparison resamples with; `cost` holds the
    path lists train_benchmarks, fold_results, predict_benchmarks and predict_runs."""
    metrics = collect_metrics(metrics_paths)
    per_tape = collect_metrics(per_tape_paths)
    write_csv(out["metrics"], metrics, float_format="%.6f")
    write_csv(out["per_tape"], per_tape, float_format="%.6f")
    write_csv(out["dcase"], dcase_table(metrics), float_format="%.6f")
    comparison = comparison_table(per_tape, bootstrap)
    write_csv(out["comparison"], comparison, float_format="%.6f")
    plot_comparison_forest(comparison, out["comparison_plot"])
    board = mark_unbeaten(leaderboard(metrics), comparison)
    board = add_cost(
        board,
        training_cost(cost["train_benchmarks"], cost["fold_results"]),
        prediction_cost(cost["predict_benchmarks"], cost["predict_runs"]),
    )
    write_csv(out["leaderboard"], board, float_format="%.4f")
    plot_cost(board, out["cost_plot"])
    plot_f1_by_threshold(metrics, out["f1_plot"])
    plot_f1_intervals(metrics, out["f1_interval_plot"])
    plot_pr_curves(metrics, out["pr_plot"])
    plot_per_tape_recall(per_tape, metrics, out["per_tape_plot"])
    plot_recall_by_quality(metrics, out["quality_plot"])
    histories = {
        f"{Path(p).parent.parent.name} {Path(p).parent.name}": pd.read_csv(p) for p in history_paths
    }
    plot_training_history(histories, out["history_plot"])
    return metrics
