"""What the sampler needs from a detect run's window scores: each detection's fold spread
and the likely misses (the best windows below the threshold).

A detection's fold spread is the mean, over the windows whose centre lies inside it, of the
standard deviation of the fold models' scores of its class (the window nearest its centre
when none does); NaN where the shards predate stored spreads. A miss candidate is a window
scored below its class's threshold that overlaps no detection of that class; per class and
recording the best ones are taken greedily, each overlapping none taken before. Shards are
read one recording at a time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.detection.collect import recording_windows
from sonoflow.detection.shard import spread_column

MISS_COLUMNS = ["recording", "path", "label", "start_s", "end_s", "score", "fold_spread"]


def spreads_and_misses(
    detections: pd.DataFrame,
    shard_scores: list[str | Path],
    thresholds: dict[str, float],
    misses: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`detections` (collect_detections's detections.csv) with a `fold_spread` column, and
    up to `misses` miss candidates per class (columns MISS_COLUMNS)."""
    detections = detections.reset_index(drop=True).copy()
    detections["fold_spread"] = np.nan
    paths = dict(zip(detections["recording"], detections["path"]))
    by_recording = {name: part for name, part in detections.groupby("recording", sort=False)}
    found = []
    for scores_path in shard_scores:
        for name, windows in recording_windows(scores_path):
            events = by_recording.get(name, detections.iloc[:0])
            for label, threshold in thresholds.items():
                mine = events[events["label"] == label]
                if len(mine):
                    detections.loc[mine.index, "fold_spread"] = event_spreads(windows, mine, label)
                if misses:
                    best = miss_windows(windows, mine, label, threshold, misses)
                    found.append(best.assign(recording=name, path=paths.get(name, "")))
    candidates = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    candidates = candidates.reindex(columns=MISS_COLUMNS)
    return detections, candidates


def event_spreads(windows: pd.DataFrame, events: pd.DataFrame, label: str) -> np.ndarray:
    """Mean fold spread of `label` over the windows centred inside each event."""
    centres = (windows["start_s"].to_numpy(float) + windows["end_s"].to_numpy(float)) / 2
    column = spread_column(label)
    spread = windows[column].to_numpy(float) if column in windows else np.full(len(centres), np.nan)
    out = []
    for start, end in zip(events["start_s"].to_numpy(float), events["end_s"].to_numpy(float)):
        inside = (centres >= start) & (centres <= end)
        if not inside.any() and len(centres):
            inside = np.zeros(len(centres), bool)
            inside[np.argmin(np.abs(centres - (start + end) / 2))] = True
        values = spread[inside]
        out.append(float(np.nanmean(values)) if np.isfinite(values).any() else np.nan)
    return np.array(out)


def miss_windows(
    windows: pd.DataFrame, events: pd.DataFrame, label: str, threshold: float, count: int
) -> pd.DataFrame:
    """The `count` best windows of `label` below `threshold`, overlapping no event and no
    window taken before them."""
    start = windows["start_s"].to_numpy(float)
    end = windows["end_s"].to_numpy(float)
    score = windows[label].to_numpy(float)
    free = np.isfinite(score) & (score < threshold)
    for s, e in zip(events["start_s"].to_numpy(float), events["end_s"].to_numpy(float)):
        free &= ~((start < e) & (end > s))
    column = spread_column(label)
    spread = windows[column].to_numpy(float) if column in windows else np.full(len(score), np.nan)
    taken = []
    candidates = np.flatnonzero(free)
    for i in candidates[np.argsort(-score[candidates], kind="stable")]:
        if len(taken) == count:
            break
        if not free[i]:
            continue  # overlaps a window taken before
        taken.append(i)
        free &= ~((start < end[i]) & (end > start[i]))
    return pd.DataFrame(
        {
            "label": label,
            "start_s": start[taken],
            "end_s": end[taken],
            "score": score[taken],
            "fold_spread": spread[taken],
        }
    )
