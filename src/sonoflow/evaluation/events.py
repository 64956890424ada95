"""From per-window scores to events.

One recording's scores for one class become a time-ordered track, median-filtered over
`median_filter_s`. At a threshold, an event is a run of windows whose smoothed score stays at
or above the lower threshold (hysteresis) and reaches the threshold somewhere; with refinement
its onset and offset lie where the smoothed score crosses the lower threshold, interpolated
between window centres. Events then merge across gaps up to `merge_gap_s`, events longer than
`max_duration_s` split at their deepest dip, and events shorter than `min_duration_s` drop.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy import ndimage


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


@dataclass(frozen=True)
class PostProcessing:
    """How scores become events; the defaults do nothing beyond thresholding and merging
    windows that touch. The workflow's defaults live in the config schema (`evaluation`)."""

    median_filter_s: float = 0.0
    threshold_low: float | None = None  # absolute; None: threshold_low_ratio x threshold
    threshold_low_ratio: float = 1.0
    merge_gap_s: float = 0.0
    min_duration_s: float = 0.0
    max_duration_s: float | None = None
    refine_boundaries: bool = False

    @classmethod
    def from_settings(cls, settings: dict) -> PostProcessing:
        """From an `evaluation` config section (keys it lacks keep the do-nothing values)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in settings.items() if k in names})

    def low(self, threshold: float) -> float:
        """The lower (hysteresis) threshold that goes with `threshold`, never above it."""
        if self.threshold_low is not None:
            return min(self.threshold_low, threshold)
        return self.threshold_low_ratio * threshold


# The `evaluation` keys that shape events: which span a window's score stands for, and the
# post-processing. The others (thresholds, matching, segments, excerpt) only judge events, so
# a detection run, which has no ground truth, reads these alone.
EVENT_KEYS = ("event_extent", *(field.name for field in fields(PostProcessing)))


def event_settings(evaluation: dict) -> dict:
    """The part of an `evaluation` config section that shapes events (EVENT_KEYS)."""
    return {key: evaluation[key] for key in EVENT_KEYS if key in evaluation}


@dataclass(frozen=True)
class ScoreTrack:
    """One recording's windows for one class in time order: spans, centres, smoothed scores."""

    spans: np.ndarray
    centres: np.ndarray
    smoothed: np.ndarray
    joined: np.ndarray  # whether each window's span touches or overlaps the one before


def median_size(span_s: float, hop_s: float) -> int:
    """Windows in a median filter over `span_s` seconds of hops: odd, so that it is centred."""
    size = max(1, int(round(span_s / hop_s)))
    return size if size % 2 else size + 1


def score_track(
    spans: np.ndarray, scores: np.ndarray, hop_s: float, median_filter_s: float = 0.0
) -> ScoreTrack:
    """Windows sorted by time; scores median-filtered over `median_filter_s` (0: as they are)."""
    order = np.argsort(spans[:, 0], kind="stable")
    spans = np.asarray(spans, dtype=float)[order]
    scores = np.asarray(scores, dtype=float)[order]
    size = median_size(median_filter_s, hop_s) if median_filter_s > 0 else 1
    if size > 1:
        # `nearest` repeats the edge windows, so a call at a recording's edge keeps its scores.
        scores = ndimage.median_filter(scores, size=size, mode="nearest")
    joined = np.r_[False, spans[1:, 0] <= spans[:-1, 1] + 1e-9]
    return ScoreTrack(spans, spans.mean(axis=1), scores, joined)


def hysteresis_runs(track: ScoreTrack, threshold: float, low: float) -> list[tuple[int, int]]:
    """(first, last) windows of each run of joined windows at or above `low` that reaches
    `threshold` somewhere."""
    active = track.smoothed >= low
    starts = active & ~(track.joined & np.r_[False, active[:-1]])
    runs = np.cumsum(starts) * active  # run number of each window, 0 outside runs
    count = int(runs.max(initial=0))
    if count == 0:
        return []
    peaks = ndimage.maximum(track.smoothed, runs, index=np.arange(1, count + 1))
    regions = (found[0] for found in ndimage.find_objects(runs))
    return [(r.start, r.stop - 1) for r, peak in zip(regions, peaks) if peak >= threshold]


def track_events(track: ScoreTrack, threshold: float, post: PostProcessing) -> np.ndarray:
    """Events of one track at `threshold`: rows (start, end, peak smoothed score)."""
    low = post.low(threshold)
    runs = hysteresis_runs(track, threshold, low)
    if not runs:
        return np.zeros((0, 3))
    spans = np.array(
        [_bounds(track, first, last, low, post.refine_boundaries) for first, last in runs]
    )
    peaks = np.array([track.smoothed[first : last + 1].max() for first, last in runs])
    events = merge_spans(spans, peaks, post.merge_gap_s)
    if post.max_duration_s is not None:
        events = np.array(
            [piece for event in events for piece in split_long(event, track, post.max_duration_s)]
        ).reshape(-1, 3)
    return events[events[:, 1] - events[:, 0] >= post.min_duration_s - 1e-9]


def _bounds(track: ScoreTrack, first: int, last: int, low: float, refine: bool) -> tuple:
    """Onset and offset of a run: its spans' edges, or where the score crosses `low` between
    the run's end windows and their outside neighbours (a recording's edge, or a gap between
    windows, stays an edge)."""
    start, end = track.spans[first, 0], track.spans[last, 1]
    if not refine:
        return start, end
    s, c = track.smoothed, track.centres
    if track.joined[first]:
        start = c[first - 1] + _fraction(s[first - 1], s[first], low) * (c[first] - c[first - 1])
    if last < len(s) - 1 and track.joined[last + 1]:
        end = c[last] + (1 - _fraction(s[last + 1], s[last], low)) * (c[last + 1] - c[last])
    return start, end


def _fraction(below: float, above: float, low: float) -> float:
    """Where between a score under `low` and one at or above it the line crosses `low`."""
    return float(np.clip((low - below) / (above - below), 0.0, 1.0))


def split_long(event: np.ndarray, track: ScoreTrack, max_duration_s: float) -> list[np.ndarray]:
    """An event longer than `max_duration_s` split at the centre of its lowest-scoring inner
    window, again until each piece is short enough or has no inner window left."""
    start, end = event[0], event[1]
    if end - start <= max_duration_s + 1e-9:
        return [event]
    inner = np.flatnonzero((track.centres > start + 1e-9) & (track.centres < end - 1e-9))
    if len(inner) < 3:
        return [event]
    inner = inner[1:-1]  # a cut next to an edge would leave a sliver
    cut = track.centres[inner[np.argmin(track.smoothed[inner])]]
    return [
        piece
        for a, b in ((start, cut), (cut, end))
        for piece in split_long(np.array([a, b, _peak(track, a, b)]), track, max_duration_s)
    ]


def _peak(track: ScoreTrack, start: float, end: float) -> float:
    inside = (track.centres >= start) & (track.centres <= end)
    return float(track.smoothed[inside].max()) if inside.any() else 0.0
