"""The run's summary: one metrics table, a leaderboard and F1-against-threshold plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from .atomic import atomic_path, write_csv


def collect_metrics(paths: list[str | Path]) -> pd.DataFrame:
    """Concatenate evaluation metrics; each file's experiment and benchmark come from its path
    (results/evaluation/{experiment}/{benchmark}/metrics.csv)."""
    frames = []
    for path in map(Path, paths):
        frame = pd.read_csv(path)
        frame.insert(0, "benchmark", path.parent.name)
        frame.insert(0, "experiment", path.parent.parent.name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def leaderboard(metrics: pd.DataFrame) -> pd.DataFrame:
    """Best overall F1 per experiment x benchmark, with the threshold that gives it, and the F1 of
    a detector that fires everywhere (threshold 0) where the sweep includes it."""
    overall = metrics[metrics["class"] == "all"]
    best = overall.loc[overall.groupby(["experiment", "benchmark"])["f1"].idxmax()]
    board = best[["experiment", "benchmark", "threshold", "precision", "recall", "f1"]].rename(
        columns={"threshold": "best_threshold"}
    )
    everywhere = overall[overall["threshold"] == 0].set_index(["experiment", "benchmark"])["f1"]
    board["f1_fire_everywhere"] = [
        everywhere.get(k) for k in zip(board["experiment"], board["benchmark"])
    ]
    return board.sort_values("f1", ascending=False).reset_index(drop=True)


def plot_f1_by_threshold(metrics: pd.DataFrame, path: str | Path) -> None:
    overall = metrics[metrics["class"] == "all"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for (experiment, benchmark), rows in overall.groupby(["experiment", "benchmark"]):
        ax.plot(rows["threshold"], rows["f1"], marker="o", label=f"{experiment} / {benchmark}")
    ax.set(
        xlabel="threshold",
        ylabel="F1 (all classes)",
        ylim=(0, 1),
        title="Event F1 against threshold",
    )
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def plot_training_history(histories: dict[str, pd.DataFrame], path: str | Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, history in histories.items():
        ax.plot(history["epoch"], history["val_macro_f1"], marker=".", label=name)
    ax.set(xlabel="epoch", ylabel="validation macro-F1", ylim=(0, 1), title="Training per fold")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def new_figure(size: tuple[float, float] = (6, 4), ncols: int = 1):
    """A figure with `ncols` gridded axes side by side: (fig, ax) or (fig, [ax, ...])."""
    fig, axes = plt.subplots(1, ncols, figsize=size, squeeze=False)
    for ax in axes[0]:
        ax.grid(alpha=0.3)
    return fig, axes[0][0] if ncols == 1 else list(axes[0])


def save_figure(fig, path: str | Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)


def write_summary(metrics_paths: list, history_paths: list, out: dict) -> pd.DataFrame:
    metrics = collect_metrics(metrics_paths)
    write_csv(out["metrics"], metrics, float_format="%.6f")
    write_csv(out["leaderboard"], leaderboard(metrics), float_format="%.4f")
    plot_f1_by_threshold(metrics, out["f1_plot"])
    histories = {
        f"{Path(p).parent.parent.name} {Path(p).parent.name}": pd.read_csv(p) for p in history_paths
    }
    plot_training_history(histories, out["history_plot"])
    return metrics
