"""Per-class thresholds of a detection run: the benchmark's best-F1 ones, one number, or a
number per class."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sonoflow.common.tables import read_table
from sonoflow.evaluation.benchmark import ALL  # the micro-average row of metrics.csv

log = logging.getLogger(__name__)


def best_thresholds(metrics_csv: str | Path, labels: list[str]) -> dict[str, float]:
    """Each class's best-F1 threshold over a benchmark's sweep (evaluate's metrics.csv); a
    class without one (never annotated in the benchmark) gets the micro-average's."""
    metrics = read_table(metrics_csv)
    best = metrics.groupby("class")["best_f1_threshold"].first()
    fallback = best.get(ALL)
    thresholds = {}
    for label in labels:
        value = best.get(label)
        if value is None or pd.isna(value):
            if fallback is None or pd.isna(fallback):
                raise ValueError(
                    f"{metrics_csv}: no best-F1 threshold for class {label!r} nor for {ALL!r}; "
                    f"give detect thresholds as numbers"
                )
            log.warning("%s: no best-F1 threshold for %r; using %r's", metrics_csv, label, ALL)
            value = fallback
        thresholds[label] = float(value)
    return thresholds


def resolve_thresholds(
    threshold: str | float | dict, labels: list[str], metrics_csv: str | Path | None, key: str
) -> dict[str, float]:
    """`best` (needs `metrics_csv`), a number for every class, or {class: number}."""
    if threshold == "best":
        if metrics_csv is None:
            raise ValueError(f"config key {key}: `best` needs a benchmark's metrics.csv")
        return best_thresholds(metrics_csv, labels)
    if isinstance(threshold, dict):
        missing = sorted(set(labels) - set(threshold))
        unknown = sorted(set(threshold) - set(labels))
        if missing or unknown:
            raise ValueError(
                f"config key {key}: classes of the model are {labels}; "
                f"missing {missing}, unknown {unknown}"
            )
        return {label: float(threshold[label]) for label in labels}
    return {label: float(threshold) for label in labels}
