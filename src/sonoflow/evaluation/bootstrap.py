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

import warnings
from itertools import permutations

import numpy as np
import pandas as pd
from scipy import stats

from sonoflow.evaluation.matching import MODES

LEVEL = 0.95
MIN_RECORDINGS = 5


def tape_cube(
    per_tape: pd.DataFrame, columns: list[str], classes: list[str] | None = None
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(thresholds, recordings, cube): cube[t, r, k] = `columns[k]` of recording r at
    threshold t, summed over `classes` (all classes when None)."""
    missing = [c for c in ["threshold", "class", "recording", *columns] if c not in per_tape]
    if missing:
        raise ValueError(f"per-tape counts lack the columns {missing}")
    rows = per_tape if classes is None else per_tape[per_tape["class"].isin(classes)]
    thresholds = np.sort(per_tape["threshold"].unique()).astype(float)
    recordings = sorted(per_tape["recording"].astype(str).unique())
    sums = rows.assign(recording=rows["recording"].astype(str))
    sums = sums.groupby(["threshold", "recording"])[columns].sum()
    grid = pd.MultiIndex.from_product([thresholds, recordings], names=["threshold", "recording"])
    cube = sums.reindex(grid, fill_value=0).to_numpy(float)
    return thresholds, recordings, cube.reshape(len(thresholds), len(recordings), len(columns))


def tape_counts(
    per_tape: pd.DataFrame, classes: list[str] | None = None, prefix: str = ""
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(thresholds, recordings, counts): counts[t, r] = (tp, fp, fn) of recording r at
    threshold t, summed over `classes` (all classes when None). `prefix` picks another
    matcher's counts (`iou_`, `collar_`)."""
    return tape_cube(per_tape, [f"{prefix}{c}" for c in ("tp", "fp", "fn")], classes)


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


def tail_percent(level: float, n_recordings: int) -> float:
    """The lower tail, in percent, of the expanded percentile interval (Hesterberg 2015,
    "What teachers should know about the bootstrap"): the plain percentile interval is too
    narrow on few tapes, by about the factor a t interval has over a normal one, so the
    tails are moved out to Phi(sqrt(n / (n - 1)) * t_{n-1, (1 - level) / 2})."""
    n = max(n_recordings, 2)
    t = stats.t.ppf((1 - level) / 2, df=n - 1)
    return float(100 * stats.norm.cdf(np.sqrt(n / (n - 1)) * t))


def _intervals(values: np.ndarray, level: float, n_recordings: int) -> np.ndarray:
    """(2, ...) bounds over the first (resample) axis, ignoring resamples where the figure
    is NaN; NaN where it is NaN in all."""
    tail = tail_percent(level, n_recordings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
        return np.nanpercentile(values, [tail, 100 - tail], axis=0)


def _interval(values: np.ndarray, level: float, n_recordings: int) -> tuple[float, float]:
    low, high = _intervals(values, level, n_recordings)
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
        if boot is None:
            table[f"{name}_low"] = table[f"{name}_high"] = np.nan
        else:  # one percentile call over every threshold's column of resamples
            low, high = _intervals(boot[i], level, len(recordings))
            table[f"{name}_low"], table[f"{name}_high"] = low, high
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
        low, high = _interval(best_f1(_resampled(counts, weights)), level, len(recordings))
    return {
        "best_f1": float(best_f1(counts.sum(axis=1))),
        "best_f1_low": low,
        "best_f1_high": high,
        "n_recordings": len(recordings),
        "note": note,
    }


def average_precision(recall: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """`benchmark.average_precision` over the last (threshold) axis of any number of curves:
    points sorted by recall, precision made non-increasing in recall, undefined precision
    counted as 0; NaN where recall is undefined (no reference events)."""
    defined = ~np.isnan(recall)
    r = np.where(defined, recall, -1.0)  # undefined points sort first and add no area
    p = np.where(defined, np.nan_to_num(precision, nan=0.0), 0.0)
    order = np.argsort(r, axis=-1, kind="stable")
    r, p = np.take_along_axis(r, order, -1), np.take_along_axis(p, order, -1)
    zeros = np.zeros((*r.shape[:-1], 1))
    r, p = np.concatenate([zeros, np.maximum(r, 0.0)], -1), np.concatenate([zeros, p], -1)
    p = np.flip(np.maximum.accumulate(np.flip(p, -1), axis=-1), -1)
    ap = np.sum(np.diff(r, axis=-1) * p[..., 1:], axis=-1)
    return np.where(defined.any(axis=-1), ap, np.nan)


# Columns of the per-tape table that the figures of `metric_intervals` are built from.
PREFIXES = ("", *(f"{mode}_" for mode in MODES))  # the configured match, then each mode
CUBE = [
    *(f"{m}{c}" for m in PREFIXES for c in ("tp", "fp", "fn")),
    "onset_error_sum_s",
    "offset_error_sum_s",
]
RATES = [f"{m}{r}" for m in PREFIXES for r in ("precision", "recall", "f1")]
FIGURES = [*RATES, "onset_error_ms", "offset_error_ms", "average_precision"]


def error_sums(per_tape: pd.DataFrame) -> pd.DataFrame:
    """`per_tape` with the summed onset and offset errors of each row's matched pairs (in
    seconds) recovered from its mean errors in ms and its TP."""
    out = per_tape.copy()
    for side in ("onset", "offset"):
        if f"{side}_error_sum_s" not in out:
            mean = out[f"{side}_error_ms"].astype(float).fillna(0.0)
            out[f"{side}_error_sum_s"] = mean * out["tp"].astype(float) / 1000
    return out


def figures(cube: np.ndarray) -> dict[str, np.ndarray]:
    """FIGURES from (..., threshold, len(CUBE)) summed counts, each (..., threshold)."""
    out = {}
    for i, mode in enumerate(PREFIXES):
        rated = rates(cube[..., 3 * i : 3 * i + 3])
        out.update(dict(zip((f"{mode}{r}" for r in ("precision", "recall", "f1")), rated)))
    tp = cube[..., 0]
    onset, offset = CUBE.index("onset_error_sum_s"), CUBE.index("offset_error_sum_s")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["onset_error_ms"] = np.where(tp > 0, 1000 * cube[..., onset] / tp, np.nan)
        out["offset_error_ms"] = np.where(tp > 0, 1000 * cube[..., offset] / tp, np.nan)
    ap = average_precision(out["recall"], out["precision"])
    out["average_precision"] = np.broadcast_to(ap[..., None], tp.shape)
    return out


def _macro(per_class: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Rates averaged over classes (NaN skipped, as `benchmark`'s macro rows); AP is that of
    the macro precision-recall curve."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN
        out = {
            name: np.nanmean(np.stack([f[name] for f in per_class]), axis=0)
            for name in FIGURES[:-1]
        }
    ap = average_precision(out["recall"], out["precision"])
    out["average_precision"] = np.broadcast_to(ap[..., None], out["recall"].shape)
    return out


def metric_intervals(
    per_tape: pd.DataFrame,
    labels: list[str],
    n_resamples: int = 1000,
    seed: int = 0,
    min_recordings: int = MIN_RECORDINGS,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Rows per threshold and class (each label, `all` micro, `macro`): `{figure}_low` and
    `{figure}_high` of each of FIGURES from one bootstrap over tapes (every figure and class
    sees the same resamples), `n_recordings` and `interval_note` (why bounds are NaN)."""
    table = error_sums(per_tape)
    thresholds, recordings, _ = tape_cube(table, CUBE)
    note = too_few_note(len(recordings), min_recordings)
    groups = [*labels, "all", "macro"]
    bounds = {g: {} for g in groups}
    if not note:
        weights = resample_weights(len(recordings), n_resamples, seed)
        per_class = [
            figures(_resampled(tape_cube(table, CUBE, [lab])[2], weights)) for lab in labels
        ]
        boot = dict(zip(labels, per_class))
        boot["all"] = figures(_resampled(tape_cube(table, CUBE, labels)[2], weights))
        boot["macro"] = _macro(per_class)
        bounds = {
            g: {n: _intervals(v, level, len(recordings)) for n, v in boot[g].items()}
            for g in groups
        }
    rows = []
    for group in groups:
        for t, threshold in enumerate(thresholds):
            row = {"threshold": threshold, "class": group}
            for name in FIGURES:
                low, high = bounds[group][name][:, t] if name in bounds[group] else (np.nan,) * 2
                row[f"{name}_low"], row[f"{name}_high"] = low, high
            rows.append(row)
    return pd.DataFrame(rows).assign(n_recordings=len(recordings), interval_note=note)


def add_intervals(
    metrics: pd.DataFrame, per_tape: pd.DataFrame, labels: list[str], settings: dict
) -> pd.DataFrame:
    """`metrics` of `benchmark.evaluate_scores` with the bounds of `metric_intervals` beside
    its figures; `settings` is the `evaluation.bootstrap` section."""
    bounds = metric_intervals(
        per_tape,
        labels,
        n_resamples=settings["resamples"],
        seed=settings["seed"],
        min_recordings=settings["min_recordings"],
    )
    key = metrics["threshold"].astype(float).round(6)
    bounds["threshold"] = bounds["threshold"].round(6)
    merged = metrics.assign(threshold=key).merge(bounds, on=["threshold", "class"], how="left")
    return merged.assign(threshold=metrics["threshold"].to_numpy())


def _best_and_ap(cube: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best-threshold F1 and AP of (..., threshold, 3) counts."""
    precision, recall, _ = rates(cube)
    return best_f1(cube), average_precision(recall, precision)


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
    """Best-threshold F1 and AP of A minus those of B on the same benchmark, with paired
    bootstrap intervals (both scored on the same resampled tapes; each resample picks each
    experiment's best threshold anew). Keys per measure m in (f1, ap): m_difference,
    m_difference_low, m_difference_high, m_excludes_zero; n_recordings, note."""
    _, rec_a, counts_a = tape_counts(per_tape_a, classes, prefix)
    _, rec_b, counts_b = tape_counts(per_tape_b, classes, prefix)
    if rec_a != rec_b:
        only_a, only_b = sorted(set(rec_a) - set(rec_b)), sorted(set(rec_b) - set(rec_a))
        raise ValueError(
            f"paired comparison needs the same recordings: only in A {only_a}, only in B {only_b}"
        )
    note = too_few_note(len(rec_a), min_recordings)
    point = np.subtract(_best_and_ap(counts_a.sum(axis=1)), _best_and_ap(counts_b.sum(axis=1)))
    bounds = [(np.nan, np.nan)] * 2
    if not note:
        weights = resample_weights(len(rec_a), n_resamples, seed)
        diffs = np.subtract(
            _best_and_ap(_resampled(counts_a, weights)),
            _best_and_ap(_resampled(counts_b, weights)),
        )
        bounds = [_interval(d, level, len(rec_a)) for d in diffs]
    out = {}
    for measure, value, (low, high) in zip(("f1", "ap"), point, bounds, strict=True):
        out[f"{measure}_difference"] = float(value)
        out[f"{measure}_difference_low"] = low
        out[f"{measure}_difference_high"] = high
        out[f"{measure}_excludes_zero"] = bool(low > 0 or high < 0)
    return {**out, "n_recordings": len(rec_a), "note": note}


COMPARISON = [
    f"{m}_{s}"
    for m in ("f1", "ap")
    for s in ("difference", "difference_low", "difference_high", "excludes_zero")
]


def compare_experiments(per_tapes: dict[str, pd.DataFrame], **options) -> pd.DataFrame:
    """`paired_difference` for every ordered pair of experiments (keys of `per_tapes`) on one
    benchmark: rows with `experiment_a`, `experiment_b` and the differences A - B."""
    rows = [
        {
            "experiment_a": a,
            "experiment_b": b,
            **paired_difference(per_tapes[a], per_tapes[b], **options),
        }
        for a, b in permutations(per_tapes, 2)
    ]
    columns = ["experiment_a", "experiment_b", *COMPARISON, "n_recordings", "note"]
    return pd.DataFrame(rows, columns=columns)


def unbeaten(comparison: pd.DataFrame, measure: str = "f1") -> list[str]:
    """Experiments that no other one beats with confidence in `measure` (f1 or ap): a row
    (A, B) whose interval of A - B lies entirely below zero says B beats A."""
    experiments = list(dict.fromkeys([*comparison["experiment_a"], *comparison["experiment_b"]]))
    beaten = comparison.loc[
        comparison[f"{measure}_excludes_zero"] & (comparison[f"{measure}_difference_high"] < 0),
        "experiment_a",
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


HELD_OUT = ["held_out_f1", "held_out_thresholds", "held_out_note"]


def held_out_columns(per_tape: pd.DataFrame, labels: list[str], settings: dict) -> pd.DataFrame:
    """Per class (each label and `all`, the labels pooled): HELD_OUT, the F1 of `held_out_f1`
    with the threshold chosen on other tapes, the thresholds chosen per fold (joined by ';')
    and why the F1 is missing. `settings` is the `evaluation.held_out` section (folds: None
    for leave-one-tape-out or k, seed, min_recordings); below min_recordings recordings the F1
    is NaN with a note. `macro` rows get NaN: each class would choose its own threshold."""
    rows = []
    for name, classes in [*((lab, [lab]) for lab in labels), ("all", labels)]:
        result = held_out_f1(per_tape, classes, n_folds=settings["folds"], seed=settings["seed"])
        n, note = result["n_recordings"], result["note"]
        if not note and n < settings["min_recordings"]:
            note = (
                f"only {n} recording(s), fewer than evaluation.held_out.min_recordings="
                f"{settings['min_recordings']}: too few tapes to choose a threshold on some "
                "and score it on the others"
            )
        rows.append(
            {
                "class": name,
                "held_out_f1": float("nan") if note else result["held_out_f1"],
                "held_out_thresholds": ""
                if note
                else ";".join(f"{t:g}" for t in result["thresholds"]),
                "held_out_note": note,
            }
        )
    macro = "each class chooses its own threshold: see the classes' and all's rows"
    rows.append({"class": "macro", **dict(zip(HELD_OUT, (np.nan, "", macro)))})
    return pd.DataFrame(rows)


def add_held_out(
    metrics: pd.DataFrame, per_tape: pd.DataFrame, labels: list[str], settings: dict
) -> pd.DataFrame:
    """`metrics` with HELD_OUT beside each class's rows (the same at every threshold)."""
    return metrics.merge(held_out_columns(per_tape, labels, settings), on="class", how="left")
