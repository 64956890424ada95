import numpy as np
import pandas as pd
import pytest

from sonoflow.common.plots import plt
from sonoflow.evaluation.summary import (
    COMPARISON_COLUMNS,
    comparison_table,
    f1_interval_figure,
    leaderboard,
    mark_unbeaten,
    plot_f1_intervals,
)


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


def test_leaderboard_puts_the_held_out_f1_beside_the_optimistic_one():
    metrics = pd.DataFrame(
        [
            {
                "experiment": "e",
                "benchmark": "b",
                "class": "all",
                "threshold": t,
                **{c: f1 for c in ("precision", "recall", "f1", "iou_f1", "collar_f1")},
                "onset_error_ms": 10.0,
                "offset_error_ms": 20.0,
                "average_precision": 0.7,
                "held_out_f1": 0.65,
                "held_out_thresholds": "0.6;0.3",
                "held_out_note": "",
            }
            for t, f1 in ((0.3, 0.5), (0.6, 0.8))
        ]
    )
    board = leaderboard(metrics)
    assert list(board.columns[board.columns.get_loc("f1") :][:2]) == ["f1", "held_out_f1"]
    (row,) = board.to_dict("records")
    assert (row["f1"], row["held_out_f1"], row["held_out_thresholds"]) == (0.8, 0.65, "0.6;0.3")


def per_tape_of(rng, experiment, recall, benchmark="b", n_tapes=12):
    """Per-tape counts of one experiment at two thresholds (the second fires less)."""
    rows = []
    for tape in range(n_tapes):
        references = 30
        tp = rng.binomial(references, recall)
        for threshold, keep in ((0.3, 1.0), (0.7, 0.8)):
            rows.append(
                {
                    "experiment": experiment,
                    "benchmark": benchmark,
                    "threshold": threshold,
                    "class": "call",
                    "recording": f"tape{tape:02d}",
                    "tp": round(tp * keep),
                    "fp": rng.poisson(5 * keep),
                    "fn": references - round(tp * keep),
                }
            )
    return pd.DataFrame(rows)


BOOTSTRAP = {"resamples": 300, "seed": 0, "min_recordings": 5}


def test_comparison_pairs_every_experiment_of_a_benchmark_both_ways():
    rng = np.random.default_rng(0)
    per_tape = pd.concat(
        [
            per_tape_of(rng, "good", 0.9),
            per_tape_of(rng, "poor", 0.4),
            per_tape_of(rng, "close", 0.88),
            per_tape_of(rng, "alone", 0.5, benchmark="other"),
        ]
    )
    comparison = comparison_table(per_tape, BOOTSTRAP)
    assert list(comparison.columns) == COMPARISON_COLUMNS
    assert len(comparison) == 6 and set(comparison["benchmark"]) == {"b"}  # 3 x 2 ordered pairs
    pairs = comparison.set_index(["experiment_a", "experiment_b"])
    good_poor, poor_good = pairs.loc[("good", "poor")], pairs.loc[("poor", "good")]
    assert good_poor["f1_difference"] == pytest.approx(-poor_good["f1_difference"])
    assert good_poor["f1_difference_low"] > 0 and good_poor["f1_excludes_zero"]
    assert good_poor["n_recordings"] == 12 and good_poor["note"] == ""

    board = pd.DataFrame(
        {"experiment": ["good", "close", "poor", "alone"], "benchmark": ["b", "b", "b", "other"]}
    )
    marked = mark_unbeaten(board, comparison).set_index("experiment")["unbeaten"]
    # poor is beaten; alone has nobody to lose to on its benchmark
    assert not marked["poor"]
    assert marked["good"] and marked["alone"]
    assert marked["close"] == (not pairs.loc[("close", "good"), "f1_excludes_zero"])


def test_comparison_on_too_few_tapes_declares_nobody_beaten():
    rng = np.random.default_rng(1)
    per_tape = pd.concat(
        [per_tape_of(rng, "good", 0.9, n_tapes=3), per_tape_of(rng, "poor", 0.2, n_tapes=3)]
    )
    comparison = comparison_table(per_tape, BOOTSTRAP)
    assert comparison["f1_difference_low"].isna().all()
    assert comparison["note"].str.contains("only 3 recording").all()
    assert not comparison["f1_excludes_zero"].any()
    board = pd.DataFrame({"experiment": ["good", "poor"], "benchmark": ["b", "b"]})
    assert mark_unbeaten(board, comparison)["unbeaten"].all()
