"""The plots of a calibration: each class's curve with its interval band over the reviewed
clips (binned), and the estimated true calls per site and day (or per recording)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.common.plots import new_figure, save_figure
from sonoflow.review.calibration import ClassCurve, interval, logit, sigmoid

POINT_BINS = 8  # reviewed clips are shown as the share correct in this many score bins
MOST_RECORDINGS = 30


def plot_calibration(curves: dict[str, ClassCurve], table: pd.DataFrame, path: str | Path) -> None:
    labels = list(curves) or ["(no class)"]
    fig, axes = new_figure((4.6 * len(labels), 4.2), ncols=len(labels))
    axes = axes if isinstance(axes, list) else [axes]
    grid = np.linspace(0.001, 0.999, 200)
    for ax, label in zip(axes, labels):
        curve = curves.get(label)
        ax.set(xlabel="score", ylabel="P(correct)", xlim=(0, 1), ylim=(-0.03, 1.03))
        if curve is None or not np.isfinite(curve.intercept):
            ax.set_title(f"{label}: no yes/no verdicts yet")
            continue
        low, high = interval(curve.boot_p_correct(grid))
        ax.fill_between(grid, low, high, alpha=0.25, label="95% interval")
        ax.plot(grid, curve.p_correct(grid), label="logistic fit on logit(score)")
        _binned_points(ax, curve.reviewed)
        row = table[table["class"] == label].iloc[0]
        target, threshold = row["target_precision"], row["target_threshold"]
        if np.isfinite(threshold):
            ax.axvline(threshold, color="k", ls="--", lw=1)
            ax.text(
                threshold,
                0.02,
                f" precision {target:g}\n above {threshold:.3f}",
                fontsize=8,
                va="bottom",
            )
        reviewed = int(row["yes"] + row["no"])
        ax.set_title(f"{label}: {reviewed} verdicts ({int(row['yes'])} yes)")
        ax.legend(loc="best", fontsize=8)
    save_figure(fig, path)


def _binned_points(ax, reviewed: pd.DataFrame) -> None:
    """Weighted share correct of the reviewed clips in score bins (equal counts), dot
    area by the number of clips."""
    if reviewed.empty:
        return
    order = reviewed.sort_values("score")
    bins = np.array_split(np.arange(len(order)), min(POINT_BINS, len(order)))
    x, y, n = [], [], []
    for members in bins:
        part = order.iloc[members]
        w = part["weight"].to_numpy(dtype=float)
        x.append(float(sigmoid(np.average(logit(part["score"]), weights=w))))
        y.append(float(np.average(part["correct"], weights=w)))
        n.append(len(part))
    ax.scatter(x, y, s=12 * np.asarray(n), color="C3", alpha=0.7, zorder=3)
    ax.scatter([], [], s=30, color="C3", label="reviewed clips (binned, weighted)")


def plot_call_rates(rates: pd.DataFrame, path: str | Path) -> None:
    """Per class: estimated true calls per site and day with 95% intervals; recordings
    without a time stamp: per recording (those with most calls)."""
    labels = sorted(rates["class"].unique()) or ["(no class)"]
    fig, axes = new_figure((6.5 * len(labels), 4.5), ncols=len(labels))
    axes = axes if isinstance(axes, list) else [axes]
    for ax, label in zip(axes, labels):
        mine = rates[rates["class"] == label]
        days = mine[mine["unit"] == "day"]
        if not days.empty:
            _per_day(ax, days)
            ax.set_title(f"{label}: estimated true calls per site and day")
        else:
            _per_recording(ax, mine[mine["unit"] == "recording"])
            ax.set_title(f"{label}: estimated true calls per recording")
    save_figure(fig, path)


def _per_day(ax, days: pd.DataFrame) -> None:
    dates = sorted(days["key"].unique())
    position = {d: i for i, d in enumerate(dates)}
    sites = sorted(days["stratum"].unique())
    width = 0.8 / len(sites)
    for k, (site, part) in enumerate(days.groupby("stratum")):
        x = part["key"].map(position).to_numpy() + (k - (len(sites) - 1) / 2) * width
        y = part["true_calls"].to_numpy(dtype=float)
        err = [y - part["true_calls_low"], part["true_calls_high"] - y]
        ax.bar(x, y, width=width, label=site, alpha=0.85)
        ax.errorbar(x, y, yerr=np.clip(err, 0, None), fmt="none", ecolor="k", lw=0.8)
        ax.scatter(x, part["detections"], marker="_", color="k", s=60, zorder=3)
    ax.scatter([], [], marker="_", color="k", label="raw detections")
    step = max(1, len(dates) // 12)
    ax.set_xticks(range(0, len(dates), step), dates[::step], rotation=45, ha="right")
    ax.set(ylabel="true calls (95% interval)")
    ax.legend(fontsize=8, title="site", title_fontsize=8)


def _per_recording(ax, recordings: pd.DataFrame) -> None:
    if recordings.empty:
        ax.text(0.5, 0.5, "no detections", ha="center", va="center", transform=ax.transAxes)
        return
    top = recordings.sort_values("true_calls", ascending=False).head(MOST_RECORDINGS)
    y = top["true_calls"].to_numpy(dtype=float)
    err = np.clip([y - top["true_calls_low"], top["true_calls_high"] - y], 0, None)
    ax.barh(top["key"], y, xerr=err, alpha=0.85)
    ax.scatter(top["detections"], top["key"], marker="|", color="k", s=60, label="raw")
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    ax.set(xlabel="true calls (95% interval)")
    ax.legend(fontsize=8)
