import numpy as np

from sonoflow.noise_mining import free_intervals, mine_noise


def _overlaps(a, b, margin=0.0):
    return a[0] < b[1] + margin - 1e-9 and a[1] > b[0] - margin + 1e-9


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
        clips, counts = mine_noise(
            duration,
            annotations,
            targets,
            per_target=per_target,
            margin_s=margin,
            neighbourhood_s=rng.uniform(1, 20),
            rng=rng,
        )
        for _, start, end in clips:
            assert 0 <= start and end <= duration + 1e-9
            assert not any(_overlaps((start, end), a, margin) for a in annotations), trial
        spans = sorted((s, e) for _, s, e in clips)
        assert all(a[1] <= b[0] + 1e-9 for a, b in zip(spans, spans[1:])), "noise clips overlap"
        assert len(clips) + counts["shortfall"] == per_target * len(targets)


def test_noise_has_target_length_and_shortfall_is_counted():
    rng = np.random.default_rng(1)
    annotations = [(1.0, 1.5), (3.0, 3.5)]
    clips, counts = mine_noise(
        4.0, annotations, annotations, per_target=3, margin_s=0.2, neighbourhood_s=1.0, rng=rng
    )
    assert all(abs((e - s) - 0.5) < 1e-9 for _, s, e in clips)
    assert len(clips) + counts["shortfall"] == 6
    assert counts["shortfall"] > 0  # a 4 s tape has no room for six clear half-second clips
