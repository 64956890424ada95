"""Bootstrap over tapes: figures from per-tape counts, intervals whose truth is known, paired
comparisons and the threshold chosen on other tapes."""

import numpy as np
import pandas as pd
import pytest
from evaluation_helpers import SETTINGS

from sonoflow.evaluation import benchmark, bootstrap
from sonoflow.evaluation.bootstrap import (
    FIGURES,
    add_held_out,
    add_intervals,
    best_f1_interval,
    bootstrap_intervals,
    compare_experiments,
    held_out_columns,
    held_out_f1,
    metric_intervals,
    paired_difference,
    resample_weights,
    tape_counts,
    tape_folds,
    unbeaten,
)

TRUE_F1 = 0.7  # recall 0.7 and 0.3 false positives per reference: 2*0.7 / (1.4 + 0.3 + 0.3)


def simulated_tapes(rng, n_tapes=20, recall=0.7, fp_per_reference=0.3, names=None):
    """Per-tape counts of a detector at one threshold: each tape has its own recall (drawn
    around `recall`) and a Poisson number of false positives, so the pooled F1 of infinitely
    many tapes is 2r / (2r + fp_per_reference + 1 - r)."""
    references = rng.poisson(30, n_tapes) + 1
    tape_recall = rng.beta(20 * recall, 20 * (1 - recall), n_tapes)
    tp = rng.binomial(references, tape_recall)
    return pd.DataFrame(
        {
            "threshold": 0.5,
            "class": "call",
            "recording": names or [f"tape{i:02d}" for i in range(n_tapes)],
            "tp": tp,
            "fp": rng.poisson(fp_per_reference * references),
            "fn": references - tp,
        }
    )


def test_the_interval_covers_a_known_f1_in_at_least_90_percent_of_repetitions():
    covered = []
    for repetition in range(200):
        tapes = simulated_tapes(np.random.default_rng(repetition))
        (row,) = bootstrap_intervals(tapes, n_resamples=300, seed=repetition).to_dict("records")
        assert row["f1_low"] <= row["f1"] <= row["f1_high"]
        covered.append(row["f1_low"] <= TRUE_F1 <= row["f1_high"])
    assert np.mean(covered) >= 0.90


def test_detectors_with_equal_expected_f1_are_rarely_declared_different():
    different = []
    for repetition in range(200):
        rng = np.random.default_rng(1000 + repetition)
        a, b = simulated_tapes(rng), simulated_tapes(rng)
        result = paired_difference(a, b, n_resamples=300, seed=repetition)
        different.append(result["f1_excludes_zero"])
    assert np.mean(different) <= 0.06


def test_a_clearly_better_detector_is_declared_better_and_unbeaten():
    rng = np.random.default_rng(5)
    tapes = {"good": simulated_tapes(rng, recall=0.9), "poor": simulated_tapes(rng, recall=0.5)}
    comparison = compare_experiments(tapes, n_resamples=300, seed=0)
    good_minus_poor = comparison.set_index(["experiment_a", "experiment_b"]).loc[("good", "poor")]
    assert good_minus_poor["f1_difference_low"] > 0 and good_minus_poor["f1_excludes_zero"]
    assert good_minus_poor["ap_excludes_zero"]
    assert unbeaten(comparison) == ["good"]


def test_an_experiment_against_itself_differs_by_exactly_zero():
    tapes = simulated_tapes(np.random.default_rng(0))
    result = paired_difference(tapes, tapes, n_resamples=200)
    assert result["f1_difference"] == 0 and result["f1_difference_low"] == 0
    assert result["f1_difference_high"] == 0 and not result["f1_excludes_zero"]


def test_paired_comparison_needs_the_same_tapes():
    rng = np.random.default_rng(0)
    a = simulated_tapes(rng, n_tapes=6)
    b = simulated_tapes(rng, n_tapes=6, names=[f"other{i}" for i in range(6)])
    with pytest.raises(ValueError, match="only in A"):
        paired_difference(a, b)


def test_too_few_tapes_give_a_note_instead_of_an_interval():
    tapes = simulated_tapes(np.random.default_rng(0), n_tapes=4)
    (row,) = bootstrap_intervals(tapes, min_recordings=5).to_dict("records")
    assert np.isnan(row["f1_low"]) and np.isnan(row["f1_high"]) and not np.isnan(row["f1"])
    assert "only 4 recording(s)" in row["note"] and "min_recordings=5" in row["note"]
    best = best_f1_interval(tapes, min_recordings=5)
    assert np.isnan(best["best_f1_low"]) and best["note"] == row["note"]
    assert paired_difference(tapes, tapes)["note"] == row["note"]
    assert bootstrap_intervals(tapes, min_recordings=4)["note"].eq("").all()


def test_resample_weights_draw_each_resample_with_replacement_and_are_seeded():
    weights = resample_weights(7, 500, seed=3)
    assert weights.shape == (500, 7) and (weights.sum(axis=1) == 7).all()
    assert (weights.max(axis=1) > 1).any()  # with replacement
    assert np.array_equal(weights, resample_weights(7, 500, seed=3))
    assert not np.array_equal(weights, resample_weights(7, 500, seed=4))
    assert abs(weights.mean() - 1) < 0.05


def test_tape_counts_sum_the_chosen_classes_and_name_missing_columns():
    per_tape = pd.DataFrame(
        {
            "threshold": [0.5, 0.5, 0.5],
            "class": ["a", "b", "a"],
            "recording": ["r1", "r1", "r2"],
            "tp": [1, 2, 3],
            "fp": [0, 1, 0],
            "fn": [4, 0, 1],
        }
    )
    thresholds, recordings, counts = tape_counts(per_tape)
    assert list(thresholds) == [0.5] and recordings == ["r1", "r2"]
    assert counts[0].tolist() == [[3, 1, 4], [3, 0, 1]]
    assert tape_counts(per_tape, ["b"])[2][0].tolist() == [[2, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="iou_tp"):
        tape_counts(per_tape, prefix="iou_")


def test_vectorised_average_precision_equals_the_benchmark_one():
    rng = np.random.default_rng(0)
    recall, precision = rng.uniform(size=(50, 9)), rng.uniform(size=(50, 9))
    precision[rng.uniform(size=precision.shape) < 0.2] = np.nan
    recall[3] = np.nan
    got = bootstrap.average_precision(recall, precision)
    expected = [benchmark.average_precision(r, p) for r, p in zip(recall, precision, strict=True)]
    np.testing.assert_allclose(got, expected, equal_nan=True)


def scores_and_truth(name):
    """Ten one-second windows with calls at 2 (found), 5 (found late), 8 (missed) and a
    false alarm at 0, for two classes."""
    starts = np.arange(10.0)
    scores = pd.DataFrame(
        {
            "recording": name,
            "start_s": starts,
            "end_s": starts + 1,
            "hum": np.select([np.isin(starts, [2, 5]), starts == 0], [0.9, 0.6], 0.1),
            "chirp": np.where(np.isin(starts, [4, 7]), 0.8, 0.2),
        }
    )
    truth = pd.DataFrame(
        {
            "recording": name,
            "start_s": [2.0, 4.8, 8.0, 4.1, 6.5],
            "end_s": [3.0, 5.9, 9.0, 5.0, 7.3],
            "low_hz": 1000.0,
            "high_hz": 2000.0,
            "label": ["hum", "hum", "hum", "chirp", "chirp"],
        }
    )
    return scores, truth


def test_intervals_of_identical_tapes_collapse_onto_the_metrics_of_the_benchmark():
    """Every resample of identical tapes has the pooled counts' rates: the bounds of every
    figure and class equal the figure `benchmark.evaluate_scores` reports."""
    pairs = [scores_and_truth(f"tape{i}") for i in range(6)]
    scores = pd.concat([s for s, _ in pairs])
    truth = pd.concat([t for _, t in pairs])
    result = benchmark.evaluate_scores(scores, truth, ["hum", "chirp"], SETTINGS)
    settings = {"resamples": 50, "seed": 1, "min_recordings": 5}
    table = add_intervals(result.metrics, result.per_tape, ["hum", "chirp"], settings)
    assert len(table) == len(result.metrics)
    assert set(table["class"]) == {"hum", "chirp", "all", "macro"}
    assert table["interval_note"].eq("").all() and table["n_recordings"].eq(6).all()
    for name in FIGURES:
        for side in ("low", "high"):
            np.testing.assert_allclose(
                table[f"{name}_{side}"], table[name], equal_nan=True, err_msg=f"{name}_{side}"
            )
    assert table["f1"].notna().any() and table["onset_error_ms"].notna().any()


def test_intervals_widen_when_tapes_differ():
    scores, truth = scores_and_truth("good")
    frames = [(scores, truth)]
    for i in range(5):  # tapes where hum scores nothing
        s, t = scores_and_truth(f"bad{i}")
        frames.append((s.assign(hum=0.1), t))
    result = benchmark.evaluate_scores(
        pd.concat([s for s, _ in frames]),
        pd.concat([t for _, t in frames]),
        ["hum", "chirp"],
        SETTINGS,
    )
    bounds = metric_intervals(result.per_tape, ["hum", "chirp"], n_resamples=200)
    hum = bounds[(bounds["class"] == "hum") & (bounds["threshold"] == 0.5)].iloc[0]
    assert hum["recall_low"] == 0 and hum["recall_high"] > 0.1
    chirp = bounds[(bounds["class"] == "chirp") & (bounds["threshold"] == 0.5)].iloc[0]
    assert chirp["recall_low"] == chirp["recall_high"]  # the same on every tape


def two_tapes_two_thresholds():
    """Tape x is best at 0.3, tape y at 0.7; each threshold is poor on the other tape."""
    rows = [
        (0.3, "x", 9, 1, 1),
        (0.7, "x", 2, 0, 8),
        (0.3, "y", 2, 20, 8),
        (0.7, "y", 8, 1, 2),
    ]
    return pd.DataFrame(rows, columns=["threshold", "recording", "tp", "fp", "fn"]).assign(
        **{"class": "call"}
    )


def test_held_out_threshold_is_chosen_on_the_other_tapes():
    result = held_out_f1(two_tapes_two_thresholds())
    # pooled: 0.3 -> tp 11, fp 21, fn 9 (F1 22/52); 0.7 -> tp 10, fp 1, fn 10 (F1 20/31)
    assert result["optimistic_f1"] == pytest.approx(20 / 31)
    # x is scored at y's best threshold 0.7 (2, 0, 8), y at x's best 0.3 (2, 20, 8)
    assert result["thresholds"] == [0.7, 0.3]
    assert result["held_out_f1"] == pytest.approx(8 / (8 + 20 + 16))
    assert result["held_out_f1"] < result["optimistic_f1"]


def test_held_out_f1_of_one_tape_says_why_it_is_missing():
    one = two_tapes_two_thresholds().query("recording == 'x'")
    result = held_out_f1(one)
    assert np.isnan(result["held_out_f1"]) and "only 1 recording" in result["note"]


def test_tape_folds_leave_one_out_or_k_even_folds():
    assert tape_folds(4).tolist() == [0, 1, 2, 3]
    folds = tape_folds(10, n_folds=3, seed=2)
    assert sorted(np.bincount(folds)) == [3, 3, 4]
    assert np.array_equal(folds, tape_folds(10, n_folds=3, seed=2))
    with pytest.raises(ValueError, match="n_folds"):
        tape_folds(10, n_folds=1)


def test_the_expanded_percentile_tails_widen_on_few_tapes_and_tend_to_the_plain_ones():
    tails = [bootstrap.tail_percent(0.95, n) for n in (5, 10, 20, 10_000)]
    assert tails == sorted(tails) and tails[0] < 0.2
    assert tails[-1] == pytest.approx(2.5, abs=0.01)


def test_held_out_columns_per_class_pooled_and_below_min_recordings():
    tapes = pd.concat(
        [two_tapes_two_thresholds(), two_tapes_two_thresholds().assign(**{"class": "song"})]
    )
    settings = {"folds": None, "seed": 0, "min_recordings": 2}
    table = held_out_columns(tapes, ["call", "song"], settings).set_index("class")
    assert table.loc["call", "held_out_f1"] == pytest.approx(8 / 44)
    assert table.loc["call", "held_out_thresholds"] == "0.7;0.3"
    # both classes pooled: the same counts twice, so the same thresholds and F1
    assert table.loc["all", "held_out_f1"] == pytest.approx(8 / 44)
    assert table.loc["all", "held_out_note"] == ""
    assert np.isnan(table.loc["macro", "held_out_f1"]) and table.loc["macro", "held_out_note"]
    few = held_out_columns(tapes, ["call", "song"], {**settings, "min_recordings": 3})
    assert few["held_out_f1"].isna().all()
    assert few.set_index("class").loc["all", "held_out_note"].startswith("only 2 recording(s)")
    assert "evaluation.held_out.min_recordings=3" in few["held_out_note"].iloc[0]


def test_add_held_out_puts_the_class_figures_beside_every_threshold():
    metrics = pd.DataFrame(
        {"threshold": [0.3, 0.7, 0.3, 0.7], "class": ["call", "call", "all", "all"]}
    )
    settings = {"folds": 2, "seed": 0, "min_recordings": 2}
    merged = add_held_out(metrics, two_tapes_two_thresholds(), ["call"], settings)
    assert merged["threshold"].tolist() == [0.3, 0.7, 0.3, 0.7]
    assert merged["held_out_f1"].to_numpy() == pytest.approx([8 / 44] * 4)
