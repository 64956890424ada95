"""Noise clips mined near their target, else elsewhere on its tape, clear of every annotation.

Free-interval bookkeeping is written here because no library samples positions from
the complement of a set of intervals.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import numpy as np

NOISE = "noise"  # the label of clips mined from between calls


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


class FreeTime:
    """The free intervals of one recording, kept sorted and split as clips take time."""

    def __init__(self, intervals: list[tuple[float, float]]):
        self.starts = [a for a, _ in intervals]
        self.ends = [b for _, b in intervals]

    def draw(
        self,
        length_s: float,
        rng: np.random.Generator,
        within: tuple[float, float] | None = None,
    ) -> float | None:
        """A start, uniform over all placements of a clip of `length_s` in free time (and
        inside `within`, when given); None when there is no room."""
        first, last = 0, len(self.starts)
        if within is not None:
            first = bisect_right(self.ends, within[0])
            last = bisect_left(self.starts, within[1])
        spans = []
        for a, b in zip(self.starts[first:last], self.ends[first:last]):
            if within is not None:
                a, b = max(a, within[0]), min(b, within[1])
            if b - a >= length_s:
                spans.append((a, b - length_s))
        if not spans:
            return None
        widths = np.array([hi - lo for lo, hi in spans]) + 1e-9
        lo, hi = spans[rng.choice(len(spans), p=widths / widths.sum())]
        return float(rng.uniform(lo, hi))

    def take(self, start: float, end: float) -> None:
        """Remove [start, end], which lies inside one free interval."""
        i = bisect_right(self.starts, start) - 1
        a, b = self.starts[i], self.ends[i]
        pieces = [(x, y) for x, y in ((a, start), (end, b)) if y > x]
        self.starts[i : i + 1] = [x for x, _ in pieces]
        self.ends[i : i + 1] = [y for _, y in pieces]


def noise_count(per_target: float, rng: np.random.Generator) -> int:
    """The integer part of `per_target`, plus one with the probability of its fraction."""
    whole = int(per_target)
    fraction = per_target - whole
    return whole + int(fraction > 0 and rng.random() < fraction)


def mine_tape_noise(
    recordings: dict[str, tuple[float, list[tuple[float, float]]]],
    targets: list[tuple[str, float, float]],
    per_target: float,
    margin_s: float,
    neighbourhood_s: float,
    rng: np.random.Generator,
    length_s: float | None = None,
    fallback: bool = True,
    across_recordings: bool = True,
) -> tuple[list[tuple[int, str, float, float]], dict[str, int]]:
    """Noise clips (target index, recording, start_s, end_s) for the targets of one tape.

    `recordings` maps each recording of the tape to its duration and its annotations (all
    labels); `targets` are (recording, start_s, end_s). Each clip is as long as its target,
    or `length_s` when given. It is first sought within `neighbourhood_s` of its target on
    the target's recording; then, with `fallback`, anywhere on that recording; then, with
    `across_recordings` too, on the tape's other recordings, tried in an order shuffled by
    `rng` for each clip. Every recording keeps its own free time, so clips never come within
    `margin_s` of an annotation of their recording, nor overlap each other. Returns the clips
    and the counts wanted, fallback (clips placed outside their neighbourhood, on any
    recording), fallback_other_recording (those placed on another recording) and shortfall.
    """
    free = {
        name: FreeTime(free_intervals(duration, busy, margin_s))
        for name, (duration, busy) in recordings.items()
    }
    others = {name: [o for o in sorted(recordings) if o != name] for name in recordings}
    clips: list[tuple[int, str, float, float]] = []
    counts = {"wanted": 0, "fallback": 0, "fallback_other_recording": 0, "shortfall": 0}
    for index, (recording, t_start, t_end) in enumerate(targets):
        length = t_end - t_start if length_s is None else length_s
        near = (t_start - neighbourhood_s, t_end + neighbourhood_s)
        for _ in range(noise_count(per_target, rng)):
            counts["wanted"] += 1
            place, start = recording, free[recording].draw(length, rng, within=near)
            if start is None and fallback:
                start = free[recording].draw(length, rng)
                if start is None and across_recordings and others[recording]:
                    for place in rng.permutation(others[recording]):
                        start = free[place].draw(length, rng)
                        if start is not None:
                            break
                    counts["fallback_other_recording"] += start is not None
                counts["fallback"] += start is not None
            if start is None:
                counts["shortfall"] += 1
                continue
            free[place].take(start, start + length)
            clips.append((index, str(place), start, start + length))
    return clips, counts
