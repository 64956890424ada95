"""How sure a benchmark figure is: a bootstrap over tapes, paired comparisons, and an
honestly chosen threshold.

Everything works on the per-tape counts of `benchmark.evaluate_scores` (rows per threshold,
class and recording with `tp`, `fp`, `fn`), never by re-running matching. A resample draws
the benchmark's recordings with replacement; it is a row of a resample x recording matrix of
how often each recording was drawn, so the counts of all resamples at all thresholds are one
matrix product and the rates follow from the summed counts (micro over the chosen classes).

Below `min_recordings` recordings a bootstrap over tapes says little (a handful of tapes gives
intervals that are too narrow), so intervals are NaN and a `note` says why.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd

LEVEL = 0.95
MIN_RECORDINGS = 5


def tape_counts(
    per_tape: pd.DataFrame, classes: list[str] | None = None, prefix: str = ""
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(thresholds, recordings, counts): counts[t, r] = (tp, fp, fn) of recording r at
    threshold t, summed over `classes` (all classes when None). `prefix` picks another
    matcher's counts (`iou_`, `collar_`)."""
    columns = [f"{prefix}{c}" for c in ("tp", "fp", "fn")]
    missing = [c for c in ["threshold", "class", "recording", *columns] if c not in per_tape]
    if missing:
        raise ValueError(f"per-tape counts lack the columns {missing}")
    rows = per_tape if classes is None else per_tape[per_tape["class"].isin(classes)]
    sums = rows.groupby(["threshold", "recording"])[columns].sum()
    thresholds = np.sort(rows["threshold"].unique()).astype(float)
    recordings = sorted(rows["recording"].unique())
    grid = pd.MultiIndex.from_product([thresholds, recordings], names=["threshold", "recording"])
    counts = sums.reindex(grid, fill_value=0).to_numpy(float)
    return thresholds, recordings, counts.reshape(len(thresholds), len(recordings), 3)


def resample_weights(n_recordings: int, n_resamples: int, seed: int) -> np.ndarray:
    """A resample x recording matrix: how often each recording is drawn in each resample."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_recordings, size=(n_resamples, n_recordings))
    offsets = np.arange(n_resamples)[:, None] * n_recordings
    return np.bincount((draws + offsets).ravel(), minlength=n_resamples * n_recordings).reshape(
        n_resamples, n_recordings
    )


def rates(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 from (..., 3) arrays of (tp, fp, fn), with the NaN rules of
    `benchmark`: no detections -> NaN precision, no references -> NaN recall and F1."""
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return precision, recall, np.where(np.isnan(precision) | np.isnan(recall), np.nan, f1)


def best_f1(counts: np.ndarray) -> np.ndarray:
    """The best F1 over the threshold axis (second to last of (..., threshold, 3) counts)."""
    f1 = rates(counts)[2]
    all_nan = np.isnan(f1).all(axis=-1)
    return np.where(all_nan, np.nan, np.nanmax(np.where(all_nan[..., None], 0.0, f1), axis=-1))


def _resampled(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(resample, threshold, 3) counts from (threshold, recording, 3) counts."""
    return np.einsum("br,trk->btk", weights, counts)


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval over the first axis, ignoring resamples where the figure is NaN."""
    tail = 100 * (1 - level) / 2
    with np.errstate(invalid="ignore"):
        if np.isnan(values).all():
            return float("nan"), float("nan")
        low, high = np.nanpercentile(values, [tail, 100 - tail], axis=0)
    return float(low), float(high)


def too_few_note(n_recordings: int, min_recordings: int) -> str:
    """Why a benchmark gets no interval ('' when it does)."""
    if n_recordings >= min_recordings:
        return ""
    return (
        f"only {n_recordings} recording(s), fewer than min_recordings={min_recordings}: "
        "a bootstrap over so few tapes would give a misleading interval"
    )


def bootstrap_intervals(
    per_tape: pd.DataFrame,
    classes: list[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    min_recordings: int = MIN_RECORDINGS,
    level: float = LEVEL,
    prefix: str = "",
) -> pd.DataFrame:
    """Per threshold: precision, recall, F1 with `*_low` / `*_high` bounds of a bootstrap
    over tapes, `n_recordings`, and `note` (why the bounds are NaN, else '')."""
    thresholds, recordings, counts = tape_counts(per_tape, classes, prefix)
    note = too_few_note(len(recordings), min_recordings)
    point = dict(zip(("precision", "recall", "f1"), rates(counts.sum(axis=1)), strict=True))
    table = pd.DataFrame({"threshold": thresholds, **point})
    boot = None
    if not note:
        boot = rates(_resampled(counts, resample_weights(len(recordings), n_resamples, seed)))
    for i, name in enumerate(("precision", "recall", "f1")):
        bounds = [
            _interval(boot[i][:, t], level) if boot is not None else (np.nan, np.nan)
            for t in range(len(thresholds))
        ]
        table[f"{name}_low"], table[f"{name}_high"] = np.array(bounds).reshape(-1, 2).T
    return table.assign(n_recordings=len(recordings), note=note)


def best_f1_interval(
    per_tape: pd.DataFrame,
    classes: list[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    min_recordings: int = MIN_RECORDINGS,
    level: float = LEVEL,
    prefix: str = "",
) -> dict:
    """Best-threshold F1 with a bootstrap interval; each resample picks its own best threshold,
    so the interval includes the luck of choosing it. Keys: best_f1, best_f1_low,
    best_f1_high, n_recordings, note."""
    _, recordings, counts = tape_counts(per_tape, classes, prefix)
    note = too_few_note(len(recordings), min_recordings)
    low = high = float("nan")
    if not note:
        weights = resample_weights(len(recordings), n_resamples, seed)
        low, high = _interval(best_f1(_resampled(counts, weights)), level)
    return {
        "best_f1": float(best_f1(counts.sum(axis=1))),
        "best_f1_low": low,
        "best_f1_high": high,
        "n_recordings": len(recordings),
        "note": note,
    }


def paired_difference(
    per_tape_a: pd.DataFrame,
    per_tape_b: pd.DataFrame,
    classes: list[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    min_recordings: int = MIN_RECORDINGS,
    level: float = LEVEL,
    prefix: str = "",
) -> dict:
    """Best-threshold F1 of A minus that of B on the same benchmark, with a paired bootstrap
    interval (both scored on the same resampled tapes). Keys: difference, difference_low,
    difference_high, excludes_zero, n_recordings, note."""
    _, rec_a, counts_a = tape_counts(per_tape_a, classes, prefix)
    _, rec_b, counts_b = tape_counts(per_tape_b, classes, prefix)
    if rec_a != rec_b:
        only_a, only_b = sorted(set(rec_a) - set(rec_b)), sorted(set(rec_b) - set(rec_a))
        raise ValueError(
            f"paired comparison needs the same recordings: only in A {only_a}, only in B {only_b}"
        )
    note = too_few_note(len(rec_a), min_recordings)
    low = high = float("nan")
    if not note:
        weights = resample_weights(len(rec_a), n_resamples, seed)
        diffs = best_f1(_resampled(counts_a, weights)) - best_f1(_resampled(counts_b, weights))
        low, high = _interval(diffs, level)
    return {
        "difference": float(best_f1(counts_a.sum(axis=1)) - best_f1(counts_b.sum(axis=1))),
        "difference_low": low,
        "difference_high": high,
        "excludes_zero": bool(low > 0 or high < 0),
        "n_recordings": len(rec_a),
        "note": note,
    }


def compare_experiments(per_tapes: dict[str, pd.DataFrame], **options) -> pd.DataFrame:
    """`paired_difference` for every ordered pair of experiments (keys of `per_tapes`) on one
    benchmark: rows with `experiment_a`, `experiment_b` and the difference A - B."""
    rows = [
        {
            "experiment_a": a,
            "experiment_b": b,
            **paired_difference(per_tapes[a], per_tapes[b], **options),
        }
        for a, b in permutations(per_tapes, 2)
    ]
    columns = ["experiment_a", "experiment_b", "difference", "difference_low", "difference_high"]
    return pd.DataFrame(rows, columns=[*columns, "excludes_zero", "n_recordings", "note"])


def unbeaten(comparison: pd.DataFrame) -> list[str]:
    """Experiments that no other one beats with confidence: no row where B - A > 0 excludes
    zero (a row A, B with an interval entirely below zero means B beats A)."""
    experiments = list(dict.fromkeys([*comparison["experiment_a"], *comparison["experiment_b"]]))
    beaten = comparison.loc[
        comparison["excludes_zero"] & (comparison["difference_high"] < 0), "experiment_a"
    ]
    return [e for e in experiments if e not in set(beaten)]


def tape_folds(n_recordings: int, n_folds: int | None = None, seed: int = 0) -> np.ndarray:
    """Fold of each recording: leave one tape out when `n_folds` is None (or at least the
    number of recordings), else a seeded shuffle into `n_folds` folds of near-equal size."""
    if n_folds is None or n_folds >= n_recordings:
        return np.arange(n_recordings)
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    order = np.random.default_rng(seed).permutation(n_recordings)
    folds = np.empty(n_recordings, dtype=int)
    folds[order] = np.arange(n_recordings) % n_folds
    return folds


def held_out_f1(
    per_tape: pd.DataFrame,
    classes: list[str] | None = None,
    n_folds: int | None = None,
    seed: int = 0,
    prefix: str = "",
) -> dict:
    """F1 with the threshold chosen on other tapes: per fold, the best-F1 threshold of the
    remaining tapes is applied to the fold's tapes; their counts are pooled over folds.
    Beside it the optimistic F1 (threshold chosen on all tapes, scored on them). Keys:
    held_out_f1, optimistic_f1, thresholds (chosen per fold), n_recordings, note."""
    thresholds, recordings, counts = tape_counts(per_tape, classes, prefix)
    optimistic = float(best_f1(counts.sum(axis=1)))
    if len(recordings) < 2:
        note = f"only {len(recordings)} recording(s): no other tape to choose a threshold on"
        return {
            "held_out_f1": float("nan"),
            "optimistic_f1": optimistic,
            "thresholds": [],
            "n_recordings": len(recordings),
            "note": note,
        }
    folds = tape_folds(len(recordings), n_folds, seed)
    pooled = np.zeros(3)
    chosen = []
    for fold in np.unique(folds):
        f1 = rates(counts[:, folds != fold].sum(axis=1))[2]
        best = int(np.nanargmax(f1)) if not np.isnan(f1).all() else 0
        chosen.append(float(thresholds[best]))
        pooled += counts[best, folds == fold].sum(axis=0)
    return {
        "held_out_f1": float(rates(pooled)[2]),
        "optimistic_f1": optimistic,
        "thresholds": chosen,
        "n_recordings": len(recordings),
        "note": "",
    }
