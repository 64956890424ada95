"""The DCASE few-shot bioacoustic event detection figures (Task 5, 2021-2024) of a run.

The counts come from `matching.dcase_counts` (the `dcase_tp`, `dcase_fp`, `dcase_fn` columns
of every evaluation, whatever `match` is). As the official evaluation
(c4dm/dcase-few-shot-bioacoustic, evaluation_metrics/evaluation.py): a subset's precision,
recall and F-measure come from its counts summed over its files, and the overall figures
are the harmonic means over subsets of the subset precisions, recalls and F-measures. Here
a subset is a benchmark, and a file is one (recording, class): the `all` row of a
benchmark's metrics holds exactly those sums. Before the harmonic mean the official code
floors every figure at 1e-5 (no detections, no true positive), so one subset scoring
nothing drags the overall figure to about 0 rather than making it undefined; so does this.

A DCASE submission is one set of events, so one operating point: each experiment's figures
are taken at the single threshold (of the sweep, shared by its benchmarks) that maximises
the overall F-measure. Like the leaderboard's best threshold it is chosen on the tapes it is
scored on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

FLOOR = 1e-5  # the official MIN_EVAL_VALUE
OVERALL = "(harmonic mean)"  # not a valid benchmark name, so it never collides with one
COLUMNS = ["experiment", "benchmark", "threshold", "tp", "fp", "fn"]
COLUMNS = [*COLUMNS, "precision", "recall", "f_measure", "n_benchmarks"]


def dcase_scores(tp, fp, fn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F-measure with the official rules: tp / (tp + fp), tp / (tp +
    fn), tp / (tp + (fp + fn) / 2), each FLOOR where undefined or zero."""
    tp, fp, fn = (np.asarray(x, dtype=float) for x in (tp, fp, fn))
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), FLOOR)
        recall = np.where(tp > 0, tp / (tp + fn), FLOOR)
        f_measure = np.where(tp > 0, tp / (tp + 0.5 * (fp + fn)), FLOOR)
    return np.maximum(precision, FLOOR), recall, f_measure


def dcase_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per experiment, at its best overall threshold: one row per benchmark (counts,
    precision, recall, F-measure) and one with benchmark `(harmonic mean)`, the harmonic
    means over its benchmarks. `metrics` is `results/metrics.csv` (rows per experiment,
    benchmark, threshold and class, with `dcase_tp`, `dcase_fp`, `dcase_fn`)."""
    needed = ["experiment", "benchmark", "threshold", "class", "dcase_tp", "dcase_fp", "dcase_fn"]
    missing = [c for c in needed if c not in metrics]
    if missing:
        raise ValueError(f"metrics lack the columns {missing} (rerun evaluate)")
    # the dcase counts alone: metrics also has the configured match's tp, fp, fn
    overall = metrics.loc[metrics["class"] == "all", needed].rename(
        columns={f"dcase_{c}": c for c in ("tp", "fp", "fn")}
    )
    rows = []
    for experiment, runs in overall.groupby("experiment", sort=False):
        runs = runs.assign(threshold=runs["threshold"].astype(float).round(6))
        counts = runs.pivot_table(
            index="threshold", columns="benchmark", values=["tp", "fp", "fn"], aggfunc="sum"
        )
        # a threshold qualifies only where every benchmark was evaluated at it
        counts = counts.dropna()
        if counts.empty:
            continue
        benchmarks = list(counts["tp"].columns)
        scores = dcase_scores(counts["tp"], counts["fp"], counts["fn"])
        f_hmean = stats.hmean(scores[2], axis=1)
        best = int(np.argmax(f_hmean))  # ties: the lowest threshold
        threshold = float(counts.index[best])
        for j, benchmark in enumerate(benchmarks):
            rows.append(
                {
                    "experiment": experiment,
                    "benchmark": benchmark,
                    "threshold": threshold,
                    **{c: int(counts[c].iloc[best, j]) for c in ("tp", "fp", "fn")},
                    "precision": scores[0][best, j],
                    "recall": scores[1][best, j],
                    "f_measure": scores[2][best, j],
                    "n_benchmarks": 1,
                }
            )
        rows.append(
            {
                "experiment": experiment,
                "benchmark": OVERALL,
                "threshold": threshold,
                **{c: int(counts[c].iloc[best].sum()) for c in ("tp", "fp", "fn")},
                "precision": float(stats.hmean(scores[0][best])),
                "recall": float(stats.hmean(scores[1][best])),
                "f_measure": float(f_hmean[best]),
                "n_benchmarks": len(benchmarks),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
