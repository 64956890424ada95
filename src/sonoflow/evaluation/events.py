"""From per-window scores to events: threshold, then merge."""

from __future__ import annotations

import numpy as np


def window_spans(start_s: np.ndarray, end_s: np.ndarray, hop_s: float, extent: str) -> np.ndarray:
    """The time span each window's score stands for.

    `window`: the whole window. `centre`: the hop-long stretch at its centre, since
    training labels describe a window's centre; consecutive centre spans touch.
    """
    if extent == "window":
        return np.stack([start_s, end_s], axis=1)
    centre = (np.asarray(start_s) + np.asarray(end_s)) / 2
    return np.stack([centre - hop_s / 2, centre + hop_s / 2], axis=1)


def merge_spans(spans: np.ndarray, scores: np.ndarray, gap_s: float = 0.0) -> np.ndarray:
    """Merge spans that overlap, touch or lie within `gap_s`; rows (start, end, max score)."""
    if len(spans) == 0:
        return np.zeros((0, 3))
    order = np.argsort(spans[:, 0], kind="stable")
    events = []
    start, end, best = spans[order[0], 0], spans[order[0], 1], scores[order[0]]
    for i in order[1:]:
        s, e = spans[i]
        if s <= end + gap_s + 1e-9:
            end, best = max(end, e), max(best, scores[i])
        else:
            events.append((start, end, best))
            start, end, best = s, e, scores[i]
    events.append((start, end, best))
    return np.array(events, dtype=float)


def detect_events(
    spans: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    gap_s: float = 0.0,
    min_duration_s: float = 0.0,
) -> np.ndarray:
    """Events from windows whose score is at or above `threshold`."""
    above = scores >= threshold
    events = merge_spans(spans[above], scores[above], gap_s)
    if len(events):
        events = events[events[:, 1] - events[:, 0] >= min_duration_s - 1e-9]
    return events
