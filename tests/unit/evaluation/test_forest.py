"""The forest plot of results/comparison.csv, from a hand-made table in its column format."""

import numpy as np
import pandas as pd
import pytest

from sonoflow.common.plots import plt
from sonoflow.evaluation.forest import forest_figure, one_row_per_pair, plot_comparison_forest

COLUMNS = [
    "benchmark",
    "experiment_a",
    "experiment_b",
    "f1_difference",
    "f1_difference_low",
    "f1_difference_high",
    "f1_excludes_zero",
    "ap_difference",
    "ap_difference_low",
    "ap_difference_high",
    "ap_excludes_zero",
    "n_recordings",
    "note",
]


def both_ways(benchmark, a, b, f1, ap, n=10, note=""):
    """Rows (A, B) and (B, A) as compare_experiments writes them: mirrored differences."""
    rows = []
    for x, y, sign in ((a, b, 1), (b, a, -1)):
        row = [benchmark, x, y]
        for value, low, high in (f1, ap):
            lo, hi = sorted((sign * low, sign * high))
            row += [sign * value, lo, hi, bool(lo > 0 or hi < 0)]
        rows.append([*row, n, note])
    return rows


def comparison():
    return pd.DataFrame(
        [
            # p beats q with confidence in F1 (0.01 to 0.09), not in AP (-0.01 to 0.07)
            *both_ways("forest", "p", "q", (0.05, 0.01, 0.09), (0.03, -0.01, 0.07)),
            # r beats p by 0.02 in F1, with an interval across zero
            *both_ways("forest", "r", "p", (0.02, -0.03, 0.06), (0.04, 0.01, 0.08)),
            # two tapes: no interval
            *both_ways("pond", "p", "q", (0.04, np.nan, np.nan), (0.0, np.nan, np.nan), 2, "few"),
        ],
        columns=COLUMNS,
    )


def test_one_row_per_pair_keeps_the_orientation_where_a_is_ahead():
    pairs = one_row_per_pair(comparison())
    assert list(zip(pairs["benchmark"], pairs["experiment_a"], pairs["experiment_b"])) == [
        ("forest", "p", "q"),  # +0.05 before +0.02
        ("forest", "r", "p"),
        ("pond", "p", "q"),
    ]
    assert (pairs["f1_difference"] >= 0).all()
    assert pairs["f1_excludes_zero"].tolist() == [True, False, False]


def test_forest_plot_draws_each_pair_with_its_interval_a_zero_line_and_marks_the_sure_ones(
    tmp_path,
):
    fig = forest_figure(comparison())
    f1_ax, ap_ax = fig.axes
    # the zero line
    assert any(np.allclose(line.get_xdata(), 0) for line in f1_ax.lines)
    # rows top to bottom (y 2, 1, 0) in the order of one_row_per_pair
    ticks = {t.get_position()[1]: t.get_text() for t in f1_ax.get_yticklabels()}
    assert ticks == {2: "p - q (forest)", 1: "r - p (forest)", 0: "p - q (pond) (no interval)"}
    # the sure pair (p - q on forest, F1) is drawn in red and filled, the others hollow grey
    legend = [t.get_text() for t in f1_ax.get_legend().get_texts()]
    assert legend == ["interval excludes 0", "interval includes 0 (or none)"]
    sure, unsure = (c for c in f1_ax.containers)
    (x,), (y,) = sure.lines[0].get_xdata(), sure.lines[0].get_ydata()
    assert (x, y) == (pytest.approx(0.05), 2)  # top row
    assert sure.lines[0].get_markerfacecolor() != unsure.lines[0].get_markerfacecolor()
    # its error bar spans the interval 0.01 to 0.09
    segment = sure.lines[2][0].get_segments()[0]
    assert segment[:, 0].tolist() == pytest.approx([0.01, 0.09])
    # on AP the sure pair is r - p (0.01 to 0.08)
    (ap_sure, _) = ap_ax.containers
    assert ap_sure.lines[0].get_ydata().tolist() == [1]
    plt.close(fig)
    plot_comparison_forest(comparison(), tmp_path / "comparison.png")
    assert (tmp_path / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_forest_plot_names_missing_columns():
    with pytest.raises(ValueError, match="ap_difference_low"):
        forest_figure(comparison().drop(columns="ap_difference_low"))


def test_forest_plot_of_a_single_experiment_says_there_is_nothing_to_compare():
    fig = forest_figure(pd.DataFrame(columns=COLUMNS))
    assert "nothing to compare" in fig.axes[0].texts[0].get_text()
    plt.close(fig)
