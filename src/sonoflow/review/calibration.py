"""What a score means, learnt from reviewed detections: P(correct) per class, precision
above thresholds and the threshold reaching a target precision, each with an interval.

The curve. Per class, a logistic regression of correct (yes 1, no 0) on logit(score)
(scikit-learn `LogisticRegression`, L2 with `C`, intercept unpenalized), weighted by the
inverse inclusion probabilities of the sample (Wood and Kahl 2024), so that a score bin
sampled ten times more densely than another does not pull the curve ten times harder.
Unsure and unreviewed clips are left out and counted; within a sampling cell (class, score
bin, stratum) the reviewed clips stand in for the unreviewed ones (their weights are
scaled by sampled / reviewed), as for nonresponse at random within a cell. Likely misses
(score bin -1: windows below the threshold, not detections) are counted, not fitted.

The precision. Above a threshold t, the run's detections scoring at least t are a finite
set; their precision is the share of them that is right. The estimate predicts it: a
reviewed detection counts its verdict, every other one its P(correct) from the curve,

    precision(t) = ( sum_{reviewed >= t} correct + sum_{others >= t} p(score) ) / n(>= t).

As the point estimate, chosen over the Horvitz-Thompson (or model-assisted difference)
estimate from the verdicts (whose interval does count, below):
those are unbiased by design, but above a high threshold, or in one site and day, only a
handful of reviewed clips carry weights of 10 to 100 each; the estimate then leaves [0, 1]
and its bootstrap interval collapses to a point when every one of them is yes (in the
coverage simulation the difference estimator's interval covered the true precision above
0.9 in only 56% of runs). The weighted curve borrows strength from the whole score range,
and the weights make it the curve of the population, not of the sample; what it rests on is
that P(correct) is logistic in logit(score), which calibration.png lets a person check
(binned reviewed points against the curve). The same prediction gives the call rates
(`sonoflow.review.call_rates`). With an `uncertain` sample (inclusion probability 1) it is
"the verdict where a person gave one, the curve elsewhere" as well.

Where the curve is wrong. One curve per class misses what differs between sampling cells
(a site whose noise fools the detector more than the others' at the same score) and any
P(correct) that is not logistic in logit(score) (on the tiny workflow's band_mlp,
tests/workflow/test_review_coverage.py, one class's precision dips and then jumps from 0.4
to 0.98 within the top score bin). Two remedies, each measured there:

- For a stratified sample, every unreviewed detection's P is corrected by its cell's
  weighted mean residual (verdict - P) over the cell's reviewed clips, shrunk towards 0 by
  max(0, 1 - v / r^2), v the residual's sampling variance under the curve (positive-part
  James-Stein): a residual no larger than its noise is taken for noise and the curve
  stands; a cell that departs from it beyond its noise follows its own verdicts. Recomputed
  in every resample. (Unshrunk, the cell-by-cell estimate's intervals collapse in top cells
  whose reviewed clips are all yes: 66% coverage above 0.9 with 80 clips, simulated.)
- The precision's interval spans the curve's interval and the verdicts' own: the
  design-weighted share of yes among the reviewed clips above the threshold, with its
  bootstrap interval (`reviewed_precision`). The curve's interval misses where the curve is
  wrong; the verdicts' misses where they are few and all alike (every one yes collapses it
  to 1); the span covers in both cases, and is wide exactly where the two disagree, which
  is what a person should see. The point estimate stays the curve's.

The intervals. A bootstrap of the reviewed clips within their cells (Rao and Wu 1988's
rescaled bootstrap: n_h - 1 draws out of a cell's n_h with weights scaled by
n_h / (n_h - 1), so that a cell of a few clips gets its full variance; cells with a single
reviewed clip are pooled per class), the curve refitted on every resample, the
unreviewed detections drawn as Bernoulli(P) under it (the true share of a finite set
varies around its expectation) and the estimates recomputed; 95% percentile intervals.
The refits solve the same penalized objective as the point fit by Newton's method on all
resamples at once (a thousand scikit-learn fits per class take minutes); a test checks
that both give the same curve.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from sonoflow.review.sample import cell_names

log = logging.getLogger(__name__)

EPS = 1e-4  # scores are clipped to [EPS, 1 - EPS] before the logit
C = 100.0  # inverse L2 strength of the slope (weights scaled to mean 1): only against separation
LEVEL = 0.95
MISS_BIN = -1


@dataclass
class CalibrationSettings:
    thresholds: list[float]
    target_precision: float = 0.9
    min_verdicts: int = 30
    resamples: int = 1000
    seed: int = 0


@dataclass
class ClassCurve:
    """One class's fitted curve and its bootstrap refits."""

    label: str
    intercept: float
    slope: float
    boot_intercept: np.ndarray  # (resamples,)
    boot_slope: np.ndarray
    reviewed: pd.DataFrame  # the reviewed detections: score, correct, weight, cell
    boot_weights: np.ndarray  # (resamples, len(reviewed))
    counts: dict = field(default_factory=dict)
    warning: str = ""
    # each cell's correction of P, then a 0 for cells without reviewed clips: (cells + 1,)
    # and (resamples, cells + 1); None where the class has no curve
    offset_cells: list[str] = field(default_factory=list)
    offsets: np.ndarray | None = None
    boot_offsets: np.ndarray | None = None

    def cell_index(self, cells) -> np.ndarray:
        """Each detection's column of `offsets` and `boot_offsets` from its sampling cell."""
        where = {cell: i for i, cell in enumerate(self.offset_cells)}
        none = len(self.offset_cells)  # the trailing 0
        return np.array([where.get(c, none) for c in np.asarray(cells).astype(str)], dtype=int)

    def p_correct(self, scores) -> np.ndarray:
        return sigmoid(self.intercept + self.slope * logit(scores))

    def boot_p_correct(self, scores) -> np.ndarray:
        """(resamples, len(scores)) P(correct) under every refitted curve."""
        x = logit(scores)
        return sigmoid(self.boot_intercept[:, None] + self.boot_slope[:, None] * x[None, :])


def logit(scores) -> np.ndarray:
    s = np.clip(np.asarray(scores, dtype=float), EPS, 1 - EPS)
    return np.log(s) - np.log1p(-s)


def sigmoid(z) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def fit_curve(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of the weighted logistic regression of y on x (weights scaled to
    mean 1, so that C weighs the penalty against the number of clips, not their weights)."""
    model = LogisticRegression(C=C, solver="newton-cholesky", max_iter=200, tol=1e-8)
    model.fit(x.reshape(-1, 1), y.astype(int), sample_weight=weights / weights.mean())
    return float(model.intercept_[0]), float(model.coef_[0, 0])


def fit_curves(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, start: tuple[float, float], steps: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """The same fit as `fit_curve` for each row of `weights` (resamples, clips) at once:
    Newton's method on C * sum w logloss + slope^2 / 2, from `start`."""
    w = weights / weights.mean(axis=1, keepdims=True)
    a = np.full(len(w), start[0])
    b = np.full(len(w), start[1])
    for _ in range(steps):
        p = sigmoid(a[:, None] + b[:, None] * x[None, :])
        r = C * w * (p - y[None, :])
        ga, gb = r.sum(axis=1), (r * x).sum(axis=1) + b
        h = C * w * p * (1 - p)
        haa, hab, hbb = h.sum(axis=1), (h * x).sum(axis=1), (h * x * x).sum(axis=1) + 1.0
        det = np.maximum(haa * hbb - hab * hab, 1e-12)
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        a, b = a - np.clip(da, -5, 5), b - np.clip(db, -5, 5)
        if max(np.abs(da).max(), np.abs(db).max()) < 1e-8:
            break
    return a, b


def design_weights(reviewed: pd.DataFrame, sample: pd.DataFrame) -> np.ndarray:
    """1 / inclusion probability of each reviewed clip, scaled in its cell by sampled /
    reviewed; clips sampled with certainty (inclusion probability 1) keep weight 1."""
    sampled = sample.groupby("cell").size()
    got = reviewed.groupby("cell").size()
    scale = (sampled / got).reindex(reviewed["cell"]).to_numpy()
    pi = reviewed["inclusion_probability"].to_numpy(dtype=float)
    return np.where(pi >= 1, 1.0, scale / pi)


def rescaled_bootstrap(
    cells: np.ndarray, weights: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """(resamples, clips) Rao-Wu bootstrap weights: in a cell of n >= 2 clips, n - 1 draws
    with replacement, each clip's weight times its draws times n / (n - 1). Clips alone in
    their cell are pooled into one cell first (alone, they would carry no variance)."""
    cells = np.asarray(cells, dtype=object).copy()
    names, sizes = np.unique(cells.astype(str), return_counts=True)
    alone = set(names[sizes == 1])
    if len(alone) > 1:
        cells[np.isin(cells.astype(str), list(alone))] = "pooled"
    out = np.tile(weights.astype(float), (resamples, 1))
    for cell in np.unique(cells.astype(str)):
        members = np.flatnonzero(cells.astype(str) == cell)
        n = len(members)
        if n < 2:
            continue
        draws = rng.integers(0, n, size=(resamples, n - 1))
        counts = np.zeros((resamples, n))
        np.add.at(counts, (np.arange(resamples)[:, None], draws), 1)
        out[:, members] = weights[members] * counts * n / (n - 1)
    return out


def shrunk_residuals(
    cells: np.ndarray, y: np.ndarray, p: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: the weighted mean residual y - p of its reviewed clips, shrunk by
    max(0, 1 - v / r^2) with v = sum w^2 p (1 - p) / (sum w)^2. `p`, `weights`: (clips,) or
    (resamples, clips). Returns the cell names and the offsets (..., cells)."""
    names, index = np.unique(np.asarray(cells).astype(str), return_inverse=True)
    p, w = np.atleast_2d(p), np.atleast_2d(weights)
    one_hot = np.eye(len(names))[index]  # (clips, cells)
    total = np.maximum(w @ one_hot, 1e-12)
    residual = ((w * (y - p)) @ one_hot) / total
    variance = ((w**2 * p * (1 - p)) @ one_hot) / total**2
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.where(residual != 0, np.maximum(0.0, 1 - variance / residual**2), 0.0)
    offsets = keep * residual
    return names, offsets if np.ndim(weights) == 2 else offsets[0]


def class_curve(
    label: str, table: pd.DataFrame, settings: CalibrationSettings, rng: np.random.Generator
) -> ClassCurve:
    """The curve of one class from its rows of the verdict table (`Verdicts.table`)."""
    rows = table[table["class"] == label].assign(cell=_cells)
    misses = rows[rows["score_bin"].astype(int) == MISS_BIN]
    rows = rows[rows["score_bin"].astype(int) != MISS_BIN]
    verdict = rows["verdict"].replace("", "unreviewed")
    counts = {
        "sampled": len(rows),
        **{k: int((verdict == k).sum()) for k in ("yes", "no", "unsure", "unreviewed")},
        "misses_sampled": len(misses),
        "misses_confirmed": int((misses["verdict"] == "yes").sum()),
    }
    reviewed = rows[np.isfinite(rows["correct"].to_numpy(dtype=float))].copy()
    reviewed["weight"] = design_weights(reviewed, rows) if len(reviewed) else []
    n = len(reviewed)
    warning = ""
    if n < settings.min_verdicts:
        warning = (
            f"only {n} yes/no verdicts back class {label!r}, fewer than min_verdicts="
            f"{settings.min_verdicts}: its estimates are rough"
        )
    x, y = logit(reviewed["score"]), reviewed["correct"].to_numpy(dtype=float)
    w = reviewed["weight"].to_numpy(dtype=float)
    boot_w = rescaled_bootstrap(reviewed["cell"].to_numpy(), w, settings.resamples, rng)
    if n == 0:
        a = b = np.nan
        boot_a = boot_b = np.full(settings.resamples, np.nan)
    elif len(np.unique(y)) < 2:  # all yes or all no: a flat curve at that value
        word = "yes" if y[0] == 1 else "no"
        warning = "; ".join(filter(None, [warning, f"every verdict of {label!r} is {word}"]))
        a, b = float(logit([y[0]])[0]), 0.0
        boot_a, boot_b = np.full(settings.resamples, a), np.zeros(settings.resamples)
    else:
        a, b = fit_curve(x, y, w)
        boot_a, boot_b = fit_curves(x, y, boot_w, (a, b))
    if warning:
        log.warning("%s", warning)
    curve = ClassCurve(label, a, b, boot_a, boot_b, reviewed, boot_w, counts, warning)
    if n and np.isfinite(a):
        cells, scores = reviewed["cell"].to_numpy(), reviewed["score"]
        names, offsets = shrunk_residuals(cells, y, curve.p_correct(scores), w)
        _, boot_offsets = shrunk_residuals(cells, y, curve.boot_p_correct(scores), boot_w)
        curve.offset_cells = list(names)
        curve.offsets = np.append(offsets, 0.0)
        curve.boot_offsets = np.hstack([boot_offsets, np.zeros((len(boot_offsets), 1))])
    return curve


def _cells(rows: pd.DataFrame) -> list[str]:
    return cell_names(rows["score_bin"], rows["stratum"])


def predicted_totals(
    curve: ClassCurve,
    scores: np.ndarray,
    known: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    rng: np.random.Generator,
    cells: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted true detections per group: point (n_groups,) and resamples
    (resamples, n_groups). A detection counts its verdict where it has one (`known` 1 or 0,
    else NaN) and its P(correct) otherwise, corrected by its sampling cell's offset where
    `cells` are given; each resample draws the unreviewed detections as Bernoulli(P) under
    that resample's refitted curve and offsets. `groups`: each detection's group index
    (-1: none)."""
    scores = np.asarray(scores, dtype=float)
    keep = groups >= 0
    scores, known, groups = scores[keep], np.asarray(known, dtype=float)[keep], groups[keep]
    resamples = len(curve.boot_intercept)
    if not np.isfinite(curve.intercept):
        return np.full(n_groups, np.nan), np.full((resamples, n_groups), np.nan)
    corrected = cells is not None and curve.offsets is not None
    index = curve.cell_index(np.asarray(cells)[keep]) if corrected else None
    is_known = np.isfinite(known)
    p = curve.p_correct(scores)
    if corrected:
        p = np.clip(p + curve.offsets[index], 0, 1)
    value = np.where(is_known, known, p)
    point = np.bincount(groups, weights=value, minlength=n_groups)
    boot = np.empty((resamples, n_groups))
    chunk = max(1, 4_000_000 // max(1, len(scores)))
    for lo in range(0, resamples, chunk):
        hi = min(resamples, lo + chunk)
        p = sigmoid(
            curve.boot_intercept[lo:hi, None] + curve.boot_slope[lo:hi, None] * logit(scores)
        )
        if corrected:  # indexed chunk by chunk: a (resamples, detections) table is too big
            p = np.clip(p + curve.boot_offsets[lo:hi][:, index], 0, 1)
        drawn = np.where(is_known, known, rng.random(p.shape) < p)
        flat = (np.arange(hi - lo)[:, None] * n_groups + groups[None, :]).ravel()
        sums = np.bincount(flat, weights=drawn.ravel(), minlength=(hi - lo) * n_groups)
        boot[lo:hi] = sums.reshape(hi - lo, n_groups)
    return point, boot


def precision_curve(
    curve: ClassCurve,
    scores: np.ndarray,
    known: np.ndarray,
    at: np.ndarray,
    rng: np.random.Generator,
    cells: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision of the detections scoring at least each of `at` (increasing): point
    (len(at),), resamples (resamples, len(at)) and the detections counted (len(at),);
    NaN where no detection scores that high or the class has no curve."""
    scores = np.asarray(scores, dtype=float)
    at = np.asarray(at, dtype=float)
    groups = np.searchsorted(at, scores, side="right") - 1  # the last threshold <= score
    point, boot = predicted_totals(curve, scores, known, groups, len(at), rng, cells)
    n_t = _tail_sums(np.bincount(groups[groups >= 0], minlength=len(at)).astype(float))[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        point = np.where(n_t > 0, _tail_sums(point)[:-1] / n_t, np.nan)
        boot = np.where(n_t > 0, _tail_sums(boot)[..., :-1] / n_t, np.nan)
    return point, boot, n_t


def reviewed_precision(curve: ClassCurve, at: np.ndarray) -> tuple[np.ndarray, ...]:
    """The verdicts' own precision above each threshold of `at`, without the curve: the
    design-weighted share of yes among the reviewed clips scoring at least t, with its
    bootstrap interval (the curve's resamples of the weights); point, low, high (NaN where no
    reviewed clip scores that high)."""
    scores = curve.reviewed["score"].to_numpy(dtype=float)
    y = curve.reviewed["correct"].to_numpy(dtype=float)
    above = scores[None, :] >= np.asarray(at, dtype=float)[:, None]  # (thresholds, clips)
    w = curve.reviewed["weight"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        point = (above * w) @ y / (above @ w)
        boot = (curve.boot_weights * y) @ above.T / (curve.boot_weights @ above.T)
    return (point, *interval(boot))


def _tail_sums(values: np.ndarray) -> np.ndarray:
    """Along the last axis: out[..., i] = values[..., i:].sum(), with a trailing 0."""
    tails = np.cumsum(values[..., ::-1], axis=-1)[..., ::-1]
    return np.concatenate([tails, np.zeros(tails.shape[:-1] + (1,))], axis=-1)


def known_verdicts(detections: pd.DataFrame, reviewed: pd.DataFrame) -> np.ndarray:
    """Each detection's verdict (1.0, 0.0) where a reviewed clip is that detection (same
    recording, class and start to the millisecond), else NaN."""
    key = _key(detections["recording"], detections["label"], detections["start_s"])
    keys = _key(reviewed["recording"], reviewed["class"], reviewed["start_s"])
    found = dict(zip(keys, reviewed["correct"]))
    return np.array([found.get(k, np.nan) for k in key], dtype=float)


def _key(recordings, labels, starts) -> list[tuple]:
    millis = np.round(np.asarray(starts, dtype=float) * 1000).astype(np.int64)
    return list(zip(map(str, recordings), map(str, labels), millis.tolist()))


def target_threshold(estimates: np.ndarray, candidates: np.ndarray, target: float) -> np.ndarray:
    """The lowest candidate threshold whose precision reaches `target`, per row of
    `estimates` (..., candidates); inf where none does."""
    reached = np.nan_to_num(estimates, nan=-1.0) >= target
    first = np.argmax(reached, axis=-1)
    return np.where(reached.any(axis=-1), candidates[first], np.inf)


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bounds over the first (resample) axis, ignoring NaN resamples."""
    tail = 50 * (1 - level)
    if values.size == 0:
        empty = np.full(values.shape[1:], np.nan)
        return empty, empty.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
        low, high = np.nanpercentile(values, [tail, 100 - tail], axis=0)
    return low, high


def calibrate(
    verdicts: pd.DataFrame,
    detections: pd.DataFrame,
    labels: list[str],
    settings: CalibrationSettings,
) -> tuple[pd.DataFrame, dict[str, ClassCurve]]:
    """calibration.csv's table (one row per class and threshold) and each class's curve.

    `verdicts`: `Verdicts.table` of the review sample (columns class, score, score_bin,
    stratum, inclusion_probability, verdict, correct); `detections`: the run's detections
    (columns label, score, and `cell` from `sample.detection_cells` where the sample is
    stratified, so that each cell's residual corrects the curve)."""
    rng = np.random.default_rng(settings.seed)
    thresholds = np.array(sorted(settings.thresholds), dtype=float)
    rows, curves = [], {}
    for label in labels:
        curve = class_curve(label, verdicts, settings, rng)
        curves[label] = curve
        mine = detections[detections["label"] == label]
        scores = mine["score"].to_numpy(dtype=float)
        known = known_verdicts(mine, curve.reviewed)
        cells = mine["cell"].to_numpy() if "cell" in mine else None
        point, boot, n_t = precision_curve(curve, scores, known, thresholds, rng, cells)
        verdicts_point, verdicts_low, verdicts_high = reviewed_precision(curve, thresholds)
        low, high = interval(boot)
        low, high = np.fmin(low, verdicts_low), np.fmax(high, verdicts_high)
        candidates = np.unique(scores)
        cand_point, cand_boot, _ = precision_curve(curve, scores, known, candidates, rng, cells)
        best = target_threshold(cand_point, candidates, settings.target_precision)
        best_boot = target_threshold(cand_boot, candidates, settings.target_precision)
        unreached = float(np.mean(~np.isfinite(best_boot))) if len(best_boot) else 1.0
        t_low, t_high = interval(np.where(np.isfinite(best_boot), best_boot, np.nan))
        note = curve.warning
        if unreached > (1 - LEVEL) / 2:  # the upper bound is "not reached"
            t_high = np.nan
            reach = f"target precision not reached in {unreached:.0%} of resamples"
            note = "; ".join(filter(None, [note, reach]))
        unmatched = int(len(curve.reviewed) - np.isfinite(known).sum())
        if unmatched:
            note = "; ".join(
                filter(None, [note, f"{unmatched} reviewed clips are not among the detections"])
            )
        for i, t in enumerate(thresholds):
            rows.append(
                {
                    "class": label,
                    "intercept": curve.intercept,
                    "slope": curve.slope,
                    **curve.counts,
                    "detections": len(scores),
                    "reviewed_matched": int(np.isfinite(known).sum()),
                    "threshold": t,
                    "detections_above": int(n_t[i]),
                    "precision": point[i],
                    "precision_low": low[i],
                    "precision_high": high[i],
                    "reviewed_precision": verdicts_point[i],
                    "target_precision": settings.target_precision,
                    "target_threshold": best if np.isfinite(best) else np.nan,
                    "target_threshold_low": t_low,
                    "target_threshold_high": t_high,
                    "note": note,
                }
            )
    return pd.DataFrame(rows), curves


def calibrated_detections(detections: pd.DataFrame, curves: dict[str, ClassCurve]) -> pd.DataFrame:
    """Every detection with `p_correct` (NaN for a class without a curve), its cell's
    correction included where `detections` has cells."""
    p = np.full(len(detections), np.nan)
    for label, curve in curves.items():
        mask = (detections["label"] == label).to_numpy()
        if np.isfinite(curve.intercept):
            p[mask] = curve.p_correct(detections.loc[mask, "score"])
            if "cell" in detections:
                index = curve.cell_index(detections.loc[mask, "cell"])
                p[mask] = np.clip(p[mask] + curve.offsets[index], 0, 1)
    return detections.drop(columns="cell", errors="ignore").assign(p_correct=p)
