"""Evaluation from window scores: sweep, AP, best threshold, quality, tapes, segments."""

import warnings

import numpy as np
import pandas as pd
import pytest
from evaluation_helpers import SETTINGS

from sonoflow.evaluation.benchmark import (
    ALL,
    MACRO,
    add_rates,
    average_precision,
    compare,
    evaluate_scores,
    segment_counts,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import sed_eval
    from dcase_util.containers import MetaDataContainer


def scores_with_calls(recording, calls, duration=10):
    """One-second windows every second; the `call` score is 0.9 inside calls, 0.3 elsewhere."""
    starts = np.arange(duration, dtype=float)
    score = np.where(np.isin(starts, calls), 0.9, 0.3)
    return pd.DataFrame(
        {"recording": recording, "start_s": starts, "end_s": starts + 1, "call": score}
    )


def truth_rows(recording, spans, quality):
    return pd.DataFrame(
        {
            "recording": recording,
            "start_s": [s for s, _ in spans],
            "end_s": [e for _, e in spans],
            "low_hz": 1000.0,
            "high_hz": 2000.0,
            "label": "call",
            "quality": quality,
        }
    )


def test_metrics_quality_tapes_and_sweep(tmp_path):
    scores = pd.concat(
        [
            scores_with_calls("a", [2, 6]),
            scores_with_calls("b", [1, 4, 8]),
            scores_with_calls("c", []),
        ]
    )
    truth = pd.concat(
        [
            truth_rows("a", [(2.1, 3.1), (6.0, 7.0)], ["A", "B"]),  # both found
            truth_rows("b", [(1.2, 2.0), (5.0, 6.0)], ["A", "B"]),  # first found; 4 and 8 are FP
            truth_rows("c", [(3.0, 4.0)], ["B"]),  # missed
        ]
    )
    result = evaluate_scores(scores, truth, ["call"], SETTINGS, events_dir=tmp_path)
    metrics = result.metrics.set_index(["threshold", "class"])
    row = metrics.loc[(0.5, "call")]
    assert (row["tp"], row["fp"], row["fn"]) == (3, 2, 2)
    assert row["precision"] == pytest.approx(3 / 5) and row["recall"] == pytest.approx(3 / 5)
    # onsets off by 0.1, 0, 0.2; offsets off by 0.1, 0, 0 seconds
    assert row["onset_error_ms"] == pytest.approx(100) and row["offset_error_ms"] == pytest.approx(
        100 / 3
    )
    assert row["recall_quality_A"] == pytest.approx(1.0)
    assert row["recall_quality_B"] == pytest.approx(1 / 3)
    # per-tape counts: reference (2, 2, 1), detected (2, 3, 0)
    assert row["count_pearson"] == pytest.approx(np.corrcoef([2, 2, 1], [2, 3, 0])[0, 1])
    assert metrics.loc[(0.5, ALL), "f1"] == pytest.approx(row["f1"])
    assert metrics.loc[(0.5, MACRO), "recall"] == pytest.approx(row["recall"])
    # sweep: 0.5 plus 0, 0.25, 0.5, 0.75, 1; at 1.0 nothing is detected: precision undefined
    assert sorted(result.metrics["threshold"].unique()) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert np.isnan(metrics.loc[(1.0, "call"), "precision"])
    assert metrics.loc[(1.0, "call"), "recall"] == 0
    assert row["best_f1_threshold"] in (0.5, 0.75)
    assert 0 < row["average_precision"] <= 1
    tapes = result.per_tape[result.per_tape["threshold"] == 0.5].set_index("recording")
    assert tapes["recall"].to_dict() == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert np.isnan(tapes.loc["c", "precision"])
    tables = sorted(p.name for p in tmp_path.rglob("*.selections.txt"))
    assert tables == ["a.selections.txt", "b.selections.txt", "c.selections.txt"]  # only 0.5


def test_average_precision_of_a_known_curve():
    # points (recall, precision): (0.5, 1.0), (1.0, 0.5), and an undefined-precision point
    ap = average_precision(np.array([0.5, 1.0, 0.0]), np.array([1.0, 0.5, np.nan]))
    assert ap == pytest.approx(0.5 * 1.0 + 0.5 * 0.5)
    # a worse point at lower recall is lifted by the better one at higher recall
    assert average_precision(np.array([0.2, 0.6]), np.array([0.3, 0.8])) == pytest.approx(0.48)


def test_segment_counts_agree_with_sed_eval():
    rng = np.random.default_rng(3)
    for _ in range(100):
        metric = sed_eval.sound_event.SegmentBasedMetrics(["x"], time_resolution=1.0)
        totals = np.zeros(3, dtype=int)
        for name in ("f1", "f2"):
            ref = np.sort(rng.uniform(0, 12, size=(rng.integers(0, 4), 2)).round(1), axis=1)
            est = np.sort(rng.uniform(0, 12, size=(rng.integers(0, 4), 2)).round(1), axis=1)
            end = max([0.0, *ref[:, 1], *est[:, 1]])
            totals += segment_counts(ref, est, 1.0, end)

            def events(spans, name=name):
                return MetaDataContainer(
                    [
                        {"filename": name, "event_label": "x", "onset": s, "offset": e}
                        for s, e in spans
                    ]
                )

            metric.evaluate(events(ref), events(est))
        counts = metric.class_wise["x"]
        assert tuple(totals) == (counts["Ntp"], counts["Nfp"], counts["Nfn"])


def test_iou_and_collar_counts_side_by_side():
    ref = truth_rows("a", [(0.0, 1.0), (5.0, 5.2)], ["A", "A"])
    # the first pair overlaps well (IoU 0.7) but its onset is 0.3 s off: IoU match only;
    # the second has IoU 0.29 but onset and offset within 0.2 s: collar match only
    estimated = np.array([[0.3, 1.0], [5.1, 5.35]])
    for mode in ("iou", "collar"):
        counts = compare(ref, estimated, {**SETTINGS, "match": mode}, 10.0)
        assert (counts["iou_tp"], counts["iou_fp"], counts["iou_fn"]) == (1, 1, 1)
        assert (counts["collar_tp"], counts["collar_fp"], counts["collar_fn"]) == (1, 1, 1)
        assert counts["tp"] == counts[f"{mode}_tp"]
    iou_only = np.array([[0.3, 1.0]])
    counts = compare(ref, iou_only, SETTINGS, 10.0)
    assert (counts["iou_tp"], counts["collar_tp"], counts["collar_fp"]) == (1, 0, 1)
    rates = add_rates(pd.DataFrame([counts]))
    assert rates.loc[0, "iou_f1"] == pytest.approx(2 / 3) and rates.loc[0, "collar_f1"] == 0


def flickering_detector(seed=0, calls=40, hop=0.1, duration=300.0):
    """Scores of a detector that finds every call but whose scores flicker inside it: each
    window inside a call scores 0.97 or, one time in three, somewhere in [0.45, 0.85]."""
    rng = np.random.default_rng(seed)
    onsets = np.sort(rng.choice(np.arange(2, duration - 4, 4.0), calls, replace=False))
    onsets += rng.uniform(0, 1, calls)
    lengths = rng.uniform(0.6, 1.5, calls)
    starts = np.arange(0, duration - 1, hop)
    centres = starts + 0.5
    inside = ((centres[:, None] >= onsets) & (centres[:, None] <= onsets + lengths)).any(axis=1)
    flicker = rng.random(len(starts)) < 1 / 3
    score = np.where(inside, np.where(flicker, rng.uniform(0.45, 0.85, len(starts)), 0.97), 0.02)
    scores = pd.DataFrame({"recording": "a", "start_s": starts, "end_s": starts + 1, "call": score})
    truth = truth_rows("a", list(zip(onsets, onsets + lengths)), [""] * calls)
    return scores, truth


def test_false_positives_do_not_rise_with_the_threshold_with_hysteresis():
    scores, truth = flickering_detector()
    thresholds = np.round(np.arange(0.3, 0.951, 0.05), 2).tolist()
    sweep = {"thresholds": thresholds, "sweep_steps": 0, "hop_s": 0.1, "min_iou": 0.4}

    def false_positives(settings):
        metrics = evaluate_scores(scores, truth, ["call"], {**SETTINGS, **sweep, **settings})
        return metrics.metrics.query("`class` == 'call'")["fp"].to_numpy()

    def largest_rise(fp):
        return max(fp[j] - fp[i] for i in range(len(fp)) for j in range(i, len(fp)))

    plain = false_positives({"event_extent": "centre"})  # thresholding alone fragments calls
    assert largest_rise(plain) > 20
    # dips to 0.45 in calls of 6 to 15 windows: a median over 3 windows and a lower threshold
    # of half the threshold (the demo's defaults, no filter and 0.8, are for short calls)
    post = {"median_filter_s": 0.3, "threshold_low_ratio": 0.5, "refine_boundaries": True}
    assert largest_rise(false_positives({"event_extent": "centre", **post})) <= 3


def test_excerpt_threshold_is_the_micro_average_best_or_the_middle_without_references():
    from sonoflow.evaluation.benchmark import ALL, excerpt_threshold

    metrics = pd.DataFrame({"class": ["hum", ALL, ALL], "best_f1_threshold": [0.9, 0.3, 0.3]})
    assert excerpt_threshold(metrics) == 0.3
    undefined = metrics.assign(best_f1_threshold=np.nan)
    assert excerpt_threshold(undefined) == 0.5
