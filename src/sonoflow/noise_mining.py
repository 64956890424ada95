"""Noise clips mined from the same tape as their target, clear of every annotation.

Free-interval bookkeeping is written here because no library samples positions from
the complement of a set of intervals.
"""

from __future__ import annotations

import numpy as np


def free_intervals(
    duration_s: float, busy: list[tuple[float, float]], margin_s: float
) -> list[tuple[float, float]]:
    """Parts of [0, duration_s] at least `margin_s` away from every busy interval."""
    grown = sorted((max(0.0, a - margin_s), min(duration_s, b + margin_s)) for a, b in busy)
    free, cursor = [], 0.0
    for a, b in grown:
        if a > cursor:
            free.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < duration_s:
        free.append((cursor, duration_s))
    return free


def draw_slot(
    free: list[tuple[float, float]],
    length_s: float,
    rng: np.random.Generator,
    within: tuple[float, float] | None = None,
) -> float | None:
    """A start time, uniform over all placements of a clip of `length_s` inside a free interval
    (and inside `within`, when given); None when there is no room."""
    starts = []
    for a, b in free:
        if within is not None:
            a, b = max(a, within[0]), min(b, within[1])
        if b - a >= length_s:
            starts.append((a, b - length_s))
    if not starts:
        return None
    widths = np.array([hi - lo for lo, hi in starts]) + 1e-9
    lo, hi = starts[rng.choice(len(starts), p=widths / widths.sum())]
    return float(rng.uniform(lo, hi))


def mine_noise(
    duration_s: float,
    annotations: list[tuple[float, float]],
    targets: list[tuple[float, float]],
    per_target: int,
    margin_s: float,
    neighbourhood_s: float,
    rng: np.random.Generator,
) -> tuple[list[tuple[int, float, float]], dict[str, int]]:
    """Noise clips (target index, start_s, end_s), each as long as its target.

    A clip is first sought within `neighbourhood_s` of its target, then anywhere on the
    tape. Clips never come within `margin_s` of an annotation, nor overlap each other.
    Returns the clips and counts of fallback uses and shortfalls.
    """
    clips: list[tuple[int, float, float]] = []
    counts = {"fallback": 0, "shortfall": 0}
    for index, (t_start, t_end) in enumerate(targets):
        length = t_end - t_start
        for _ in range(per_target):
            busy = annotations + [(s, e) for _, s, e in clips]
            free = free_intervals(duration_s, busy, margin_s)
            near = (t_start - neighbourhood_s, t_end + neighbourhood_s)
            start = draw_slot(free, length, rng, within=near)
            if start is None:
                start = draw_slot(free, length, rng)
                counts["fallback"] += start is not None
            if start is None:
                counts["shortfall"] += 1
                continue
            clips.append((index, start, start + length))
    return clips, counts
