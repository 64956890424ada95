import pandas as pd
import pytest

from sonoflow.evaluation.summary import leaderboard


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
