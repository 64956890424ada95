import numpy as np
import pandas as pd
import pytest

from sonoflow.common.plots import plt
from sonoflow.evaluation.summary import f1_interval_figure, leaderboard, plot_f1_intervals


def test_leaderboard_reports_collar_f1_beside_iou_f1_at_the_best_threshold():
    rows = [
        # threshold, f1, iou_f1, collar_f1, onset, offset
        (0.0, 0.1, 0.1, 0.0, 900.0, 800.0),
        (0.5, 0.8, 0.8, 0.6, 60.0, 70.0),
        (0.9, 0.7, 0.7, 0.65, 40.0, 50.0),
    ]
    metrics = pd.DataFrame(
        [
            {
                "experiment": "e",
                "benchmark": "b",
                "class": "all",
                "threshold": t,
                "precision": f1,
                "recall": f1,
                "f1": f1,
                "iou_f1": iou,
                "collar_f1": collar,
                "onset_error_ms": onset,
                "offset_error_ms": offset,
                "average_precision": 0.75,
            }
            for t, f1, iou, collar, onset, offset in rows
        ]
    )
    (row,) = leaderboard(metrics).to_dict("records")
    assert row["best_threshold"] == 0.5 and row["f1"] == pytest.approx(0.8)
    assert row["iou_f1"] == pytest.approx(0.8) and row["collar_f1"] == pytest.approx(0.6)
    assert (row["onset_error_ms"], row["offset_error_ms"]) == (60.0, 70.0)
    assert row["f1_fire_everywhere"] == pytest.approx(0.1)


def test_leaderboard_carries_the_bootstrap_bounds_and_the_note_of_the_best_threshold():
    rows = [(0.3, 0.5, 0.4, 0.6, ""), (0.6, 0.8, 0.7, 0.9, "")]
    metrics = pd.DataFrame(
        [
            {
                "experiment": "e",
                "benchmark": "b",
                "class": "all",
                "threshold": t,
                **{c: f1 for c in ("precision", "recall", "f1", "iou_f1", "collar_f1")},
                "f1_low": low,
                "f1_high": high,
                "onset_error_ms": 10.0,
                "offset_error_ms": 20.0,
                "average_precision": 0.7,
                "n_recordings": 6,
                "interval_note": note,
            }
            for t, f1, low, high, note in rows
        ]
    )
    (row,) = leaderboard(metrics).to_dict("records")
    assert (row["f1_low"], row["f1"], row["f1_high"]) == (0.7, 0.8, 0.9)
    assert row["n_recordings"] == 6 and row["interval_note"] == ""
    assert "precision_low" not in row  # only the bounds evaluate wrote


def interval_rows(benchmark, n_recordings, banded):
    return [
        {
            "experiment": experiment,
            "benchmark": benchmark,
            "class": cls,
            "threshold": t,
            "f1": f1,
            "f1_low": f1 - 0.1 if banded else np.nan,
            "f1_high": f1 + 0.1 if banded else np.nan,
            "n_recordings": n_recordings,
        }
        for experiment in ("a", "b")
        for t, f1 in ((0.2, 0.4), (0.5, 0.7), (0.8, 0.5))
        for cls in ("all", "song")
    ]


def test_f1_interval_plot_bands_benchmarks_with_intervals_and_says_where_there_are_none(
    tmp_path,
):
    metrics = pd.DataFrame([*interval_rows("forest", 8, True), *interval_rows("pond", 2, False)])
    fig = f1_interval_figure(metrics)
    forest, pond = fig.axes
    # one band (a filled PolyCollection) per experiment where the bounds exist, none elsewhere
    assert len(forest.collections) == 2 and len(pond.collections) == 0
    band = forest.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(0.3) and band[:, 1].max() == pytest.approx(0.8)
    assert len(forest.lines) == len(pond.lines) == 2  # `all` rows only, one line each
    assert "95% interval" in forest.get_title()
    assert "no interval" in pond.get_title() and "2 tape" in pond.get_title()
    labels = [t.get_text() for t in pond.get_legend().get_texts()]
    assert labels == ["a (no interval)", "b (no interval)"]
    plt.close(fig)
    plot_f1_intervals(metrics, tmp_path / "f1_intervals.png")
    assert (tmp_path / "f1_intervals.png").read_bytes()[:4] == b"\x89PNG"
