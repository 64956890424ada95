"""Calibration of scores from reviewed detections: the weighted fit, what is left out, the
warnings, the target threshold, and the coverage of the precision's interval."""

import logging

import numpy as np
import pandas as pd
import pytest
from simulated_review import review, season, stratified_sample, true_p, with_cells

from sonoflow.review.calibration import (
    CalibrationSettings,
    calibrate,
    calibrated_detections,
    design_weights,
    fit_curve,
    fit_curves,
    logit,
    rescaled_bootstrap,
)

THRESHOLDS = [0.3, 0.5, 0.7, 0.9]


def simulated(seed, size=80, **review_args):
    rng = np.random.default_rng(seed)
    detections = with_cells(season(rng))  # cells: each cell's residual corrects the curve
    return detections, review(stratified_sample(detections, rng, size=size), rng, **review_args)


def settings(**kw):
    return CalibrationSettings(**{"thresholds": THRESHOLDS, "resamples": 200, **kw})


def test_batched_refits_solve_the_same_fit_as_scikit_learn():
    rng = np.random.default_rng(1)
    x = rng.normal(size=60)
    y = (rng.random(60) < 1 / (1 + np.exp(-(0.3 + 1.2 * x)))).astype(float)
    weights = rng.uniform(0.5, 20, size=(5, 60))
    a, b = fit_curves(x, y, weights, (0.0, 0.0))
    for row in range(5):
        assert (a[row], b[row]) == pytest.approx(fit_curve(x, y, weights[row]), abs=1e-4)


def test_scores_of_one_and_zero_have_a_finite_logit():
    assert np.isfinite(logit([0.0, 1.0])).all()


def test_weights_are_inverse_inclusion_scaled_for_unreviewed_clips_of_the_cell():
    sample = pd.DataFrame(
        {"cell": ["a", "a", "a", "a", "b", "c"], "inclusion_probability": [0.1] * 4 + [0.5, 1.0]}
    )
    reviewed = sample.iloc[[0, 1, 4, 5]]  # two of cell a's four are unsure / unreviewed
    assert design_weights(reviewed, sample) == pytest.approx([20.0, 20.0, 2.0, 1.0])


def test_rescaled_bootstrap_keeps_weights_on_average_and_pools_lonely_clips():
    rng = np.random.default_rng(0)
    cells = np.array(["a"] * 5 + ["b"] * 3 + ["c", "d"])
    weights = np.array([2.0] * 5 + [10.0] * 3 + [4.0, 6.0])
    boot = rescaled_bootstrap(cells, weights, 4000, rng)
    assert boot.mean(axis=0) == pytest.approx(weights, rel=0.06)
    assert boot[:, :8].sum(axis=1) == pytest.approx(5 * 2.0 + 3 * 10.0)  # cells keep their total
    assert boot[:, 8:].std(axis=0).min() > 0  # c and d, alone in their cells, vary pooled


def test_the_fit_recovers_the_true_curve_and_p_correct_follows_it():
    detections, verdicts = simulated(3, size=400)
    _, curves = calibrate(verdicts, detections, ["hum"], settings())
    calibrated = calibrated_detections(detections, curves)
    grid = np.array([0.4, 0.6, 0.8, 0.95])
    assert curves["hum"].p_correct(grid) == pytest.approx(true_p(grid), abs=0.08)
    assert calibrated["p_correct"].between(0, 1).all()
    assert len(calibrated) == len(detections)


def test_unsure_unreviewed_and_misses_are_counted_not_fitted():
    detections, verdicts = simulated(4)
    table, curves = calibrate(verdicts, detections, ["hum"], settings())
    flipped = verdicts.copy()
    left_out = flipped["verdict"].isin(["unsure", ""])
    flipped.loc[left_out, "truth"] = 1 - flipped.loc[left_out, "truth"]
    miss = flipped.iloc[[0]].assign(score_bin=-1, score=0.1, verdict="yes", correct=1.0)
    flipped = pd.concat([flipped, miss.assign(id="miss1", start_s=-5.0)], ignore_index=True)
    again, curves_again = calibrate(flipped, detections, ["hum"], settings())
    assert curves_again["hum"].intercept == pytest.approx(curves["hum"].intercept)
    row = again.iloc[0]
    assert row["unsure"] == (verdicts["verdict"] == "unsure").sum() > 0
    assert row["unreviewed"] == (verdicts["verdict"] == "").sum() > 0
    assert row["yes"] + row["no"] == len(curves["hum"].reviewed)
    assert (row["misses_sampled"], row["misses_confirmed"]) == (1, 1)
    assert row["sampled"] == len(verdicts)


def test_too_few_verdicts_warn_and_all_yes_gives_a_flat_curve(caplog):
    detections, verdicts = simulated(5, size=12)
    caplog.set_level(logging.WARNING)
    table, _ = calibrate(verdicts, detections, ["hum"], settings(min_verdicts=30))
    assert "fewer than min_verdicts=30" in table["note"].iloc[0]
    assert "min_verdicts=30" in caplog.text
    everyone = verdicts.assign(verdict="yes", correct=1.0)
    table, curves = calibrate(everyone, detections, ["hum"], settings(min_verdicts=1))
    assert "every verdict of 'hum' is yes" in table["note"].iloc[0]
    assert curves["hum"].slope == 0.0


def test_target_threshold_is_where_the_precision_reaches_the_target():
    detections, verdicts = simulated(6, size=200)
    table, _ = calibrate(verdicts, detections, ["hum"], settings(target_precision=0.9))
    row = table.iloc[0]
    threshold = row["target_threshold"]
    assert row["target_threshold_low"] <= threshold <= row["target_threshold_high"]
    below = table[table["threshold"] < threshold]
    assert (below["precision"] < 0.9).all()  # no lower evaluated threshold reaches it
    true_at = detections.loc[detections["score"] >= threshold, "truth"].mean()
    assert true_at == pytest.approx(0.9, abs=0.05)
    assert (table["precision_low"] <= table["precision"]).all()
    assert (table["precision"] <= table["precision_high"]).all()
    assert table["detections_above"].is_monotonic_decreasing


def test_precision_interval_covers_the_true_precision_in_90_percent_of_50_reviews():
    """A simulated reviewer answers from known truth drawn from a known calibration curve;
    every repetition draws a new season (about 900 detections), a new stratified sample of
    150 clips and new verdicts (10% unsure, 5% left empty). With 80 clips: 0.90 to 0.97
    over 40 runs (docs/review.md). tests/workflow/test_review_coverage.py does the same
    on a real detect run, where the curve is not right by construction."""
    covered = np.zeros(len(THRESHOLDS))
    for seed in range(50):
        detections, verdicts = simulated(100 + seed, size=150)
        table, _ = calibrate(verdicts, detections, ["hum"], settings(seed=seed, min_verdicts=1))
        truth = [detections.loc[detections["score"] >= t, "truth"].mean() for t in THRESHOLDS]
        covered += (table["precision_low"] <= truth) & (truth <= table["precision_high"])
    coverage = covered / 50
    print("coverage of the 95% precision interval at", dict(zip(THRESHOLDS, coverage)))
    assert (coverage >= 0.9).all(), coverage
