"""The paired comparison of experiments (`results/comparison.csv`) as a forest plot.

`comparison.csv` has a row for every ordered pair of experiments on a benchmark: A - B and
B - A both, mirror images. The plot keeps one of each, the one where A is ahead (difference
at least 0), so every row reads "A beats B by ...", and draws per measure (best-threshold
F1, AP) a panel with the difference, its paired 95% bootstrap interval and a zero line.
Pairs whose interval excludes zero are drawn filled and coloured; the others hollow and
grey. A pair without an interval (too few tapes) is a point alone, labelled so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.common.plots import new_figure, save_figure

MEASURES = {"f1": "best-threshold F1", "ap": "average precision"}
NEEDED = ["benchmark", "experiment_a", "experiment_b"] + [
    f"{m}_{s}"
    for m in MEASURES
    for s in ("difference", "difference_low", "difference_high", "excludes_zero")
]


def one_row_per_pair(comparison: pd.DataFrame) -> pd.DataFrame:
    """One orientation of each (benchmark, unordered pair): the one whose F1 difference is
    at least 0 (on a tie, the one with A first by name), sorted by benchmark and difference."""
    missing = [c for c in NEEDED if c not in comparison]
    if missing:
        raise ValueError(f"comparison table lacks the columns {missing}")
    table = comparison.copy()
    difference = table["f1_difference"].astype(float)
    tie = difference.fillna(0) == 0
    ahead = (difference > 0) | (tie & (table["experiment_a"] < table["experiment_b"]))
    kept = table[ahead]
    return kept.sort_values(
        ["benchmark", "f1_difference"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)


def forest_figure(comparison: pd.DataFrame):
    """The forest plot of a `comparison.csv` table (see the module's docstring)."""
    pairs = one_row_per_pair(comparison)
    labels = [
        f"{row.experiment_a} - {row.experiment_b} ({row.benchmark})"
        + ("" if np.isfinite(row.f1_difference_low) else " (no interval)")
        for row in pairs.itertuples()
    ]
    height = max(2.5, 0.45 * len(pairs) + 1.5)
    fig, axes = new_figure((12, height), ncols=len(MEASURES))
    y = np.arange(len(pairs))[::-1]  # first row on top
    for ax, (measure, title) in zip(axes, MEASURES.items()):
        value = pairs[f"{measure}_difference"].to_numpy(float)
        low = pairs[f"{measure}_difference_low"].to_numpy(float)
        high = pairs[f"{measure}_difference_high"].to_numpy(float)
        sure = pairs[f"{measure}_excludes_zero"].astype(bool).to_numpy()
        ax.axvline(0, color="black", linewidth=1)
        for flag, colour, face, name in (
            (True, "tab:red", "tab:red", "interval excludes 0"),
            (False, "grey", "white", "interval includes 0 (or none)"),
        ):
            rows = sure == flag
            if not rows.any():
                continue
            ax.errorbar(
                value[rows],
                y[rows],
                xerr=np.abs(np.stack([value[rows] - low[rows], high[rows] - value[rows]])),
                fmt="o",
                color=colour,
                markerfacecolor=face,
                capsize=3,
                label=name,
            )
        if pairs.empty:
            ax.text(0.5, 0.5, "fewer than two experiments: nothing to compare", ha="center")
            ax.set_title(title)
            continue
        ax.set_yticks(y, labels if ax is axes[0] else [""] * len(y), fontsize=8)
        ax.set_ylim(-0.6, len(pairs) + 0.4)  # an empty row on top holds the legend
        ax.set(xlabel=f"difference A - B in {title}", title=f"{title}: paired 95% interval")
        ax.legend(fontsize="x-small", loc="upper center", ncols=2)
    return fig


def plot_comparison_forest(comparison: pd.DataFrame, path: str | Path) -> None:
    """`forest_figure` written to `path`."""
    save_figure(forest_figure(comparison), path)
