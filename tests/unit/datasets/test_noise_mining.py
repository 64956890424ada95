import numpy as np
import pytest

from sonoflow.datasets.noise_mining import free_intervals, mine_tape_noise, noise_count


def _overlaps(a, b, margin=0.0):
    return a[0] < b[1] + margin - 1e-9 and a[1] > b[0] - margin + 1e-9


def mine_one_recording(duration, annotations, targets, *args, **kwargs):
    """`mine_tape_noise` on a tape of one recording, "r"."""
    recordings = {"r": (duration, annotations)}
    return mine_tape_noise(recordings, [("r", s, e) for s, e in targets], *args, **kwargs)


def test_free_intervals_respect_margin():
    free = free_intervals(10.0, [(2.0, 3.0), (3.2, 4.0), (9.5, 10.0)], margin_s=0.5)
    assert free == [(0.0, 1.5), (4.5, 9.0)]


def test_noise_never_overlaps_annotations_or_other_noise():
    rng = np.random.default_rng(0)
    for trial in range(200):
        duration = rng.uniform(5, 60)
        starts = np.sort(rng.uniform(0, duration - 1, size=rng.integers(0, 12)))
        annotations = [(s, s + rng.uniform(0.05, 1.0)) for s in starts]
        targets = annotations[: max(1, len(annotations) // 2)] if annotations else []
        margin = rng.uniform(0, 1)
        per_target = int(rng.integers(1, 4))
        clips, counts = mine_one_recording(
            duration,
            annotations,
            targets,
            per_target=per_target,
            margin_s=margin,
            neighbourhood_s=rng.uniform(1, 20),
            rng=rng,
        )
        assert {place for _, place, _, _ in clips} <= {"r"}
        for _, _, start, end in clips:
            assert 0 <= start and end <= duration + 1e-9
            assert not any(_overlaps((start, end), a, margin) for a in annotations), trial
        spans = sorted((s, e) for _, _, s, e in clips)
        assert all(a[1] <= b[0] + 1e-9 for a, b in zip(spans, spans[1:])), "noise clips overlap"
        assert len(clips) + counts["shortfall"] == per_target * len(targets)


def test_noise_has_target_length_and_shortfall_is_counted():
    rng = np.random.default_rng(1)
    annotations = [(1.0, 1.5), (3.0, 3.5)]
    clips, counts = mine_one_recording(
        4.0, annotations, annotations, per_target=3, margin_s=0.2, neighbourhood_s=1.0, rng=rng
    )
    assert all(abs((e - s) - 0.5) < 1e-9 for _, _, s, e in clips)
    assert len(clips) + counts["shortfall"] == 6
    assert counts["shortfall"] > 0  # a 4 s tape has no room for six clear half-second clips


def test_fractional_noise_per_target_gives_integer_part_plus_a_chance_of_one():
    rng = np.random.default_rng(2)
    counts = np.array([noise_count(1.25, rng) for _ in range(4000)])
    assert set(counts) == {1, 2}
    assert counts.mean() == pytest.approx(1.25, abs=0.03)
    assert {noise_count(2.0, rng) for _ in range(50)} == {2}
    assert {noise_count(0.0, rng) for _ in range(50)} == {0}


def test_fixed_noise_duration_and_fallback_are_counted():
    # one target at the start; its neighbourhood (1 s) is busy, room only far away
    annotations = [(0.0, 0.5), (0.6, 2.0)]
    targets = [(0.0, 0.5)]
    rng = np.random.default_rng(0)
    clips, counts = mine_one_recording(
        20.0, annotations, targets, 3, margin_s=0.1, neighbourhood_s=1.0, rng=rng, length_s=2.0
    )
    assert len(clips) == 3 and all(abs((e - s) - 2.0) < 1e-9 for _, _, s, e in clips)
    assert counts == {"wanted": 3, "fallback": 3, "fallback_other_recording": 0, "shortfall": 0}
    clips, counts = mine_one_recording(
        20.0, annotations, targets, 3, 0.1, 1.0, rng, length_s=2.0, fallback=False
    )
    assert clips == []
    assert counts == {"wanted": 3, "fallback": 0, "fallback_other_recording": 0, "shortfall": 3}


def test_tape_fallback_keeps_each_recording_clear_and_is_deterministic():
    recordings = {
        "a": (2.0, [(0.0, 1.0), (1.0, 2.0)]),  # no free time at all
        "b": (5.0, [(1.0, 2.0)]),
        "c": (5.0, [(2.0, 4.0)]),
    }
    targets = [("a", 0.0, 1.0), ("a", 1.0, 2.0)]
    runs = [
        mine_tape_noise(recordings, targets, 4, 0.2, 1.0, np.random.default_rng(7), length_s=0.4)
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    clips, counts = runs[0]
    assert counts == {"wanted": 8, "fallback": 8, "fallback_other_recording": 8, "shortfall": 0}
    assert {place for _, place, _, _ in clips} == {"b", "c"}
    for place in ("b", "c"):
        duration, busy = recordings[place]
        spans = sorted((s, e) for _, p, s, e in clips if p == place)
        assert all(0 <= s and e <= duration for s, e in spans)
        assert not any(_overlaps(span, a, 0.2) for span in spans for a in busy)
        assert all(x[1] <= y[0] + 1e-9 for x, y in zip(spans, spans[1:]))
    _, counts = mine_tape_noise(
        recordings, targets, 4, 0.2, 1.0, np.random.default_rng(7), 0.4, across_recordings=False
    )
    assert counts == {"wanted": 8, "fallback": 0, "fallback_other_recording": 0, "shortfall": 8}
