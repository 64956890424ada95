import itertools

import numpy as np
import pytest
from evaluation_helpers import random_cases

from sonoflow.evaluation.matching import iou_matrix, match


def iou_match(ref, est, min_iou):
    return match(ref, est, {"match": "iou", "min_iou": min_iou})


def brute_force(iou, min_iou):
    """Largest matching by trying every subset of eligible pairs; then its best total IoU."""
    pairs = [
        (r, c) for r in range(iou.shape[0]) for c in range(iou.shape[1]) if iou[r, c] >= min_iou
    ]
    for size in range(min(iou.shape), -1, -1):
        best = None
        for chosen in itertools.combinations(pairs, size):
            rows, cols = zip(*chosen) if chosen else ((), ())
            if len(set(rows)) == size and len(set(cols)) == size:
                total = sum(iou[r, c] for r, c in chosen)
                best = total if best is None else max(best, total)
        if best is not None:
            return size, best
    return 0, 0.0


def test_matches_brute_force_on_random_small_cases():
    for rng, ref, est in random_cases(seed=0):
        min_iou = rng.choice([0.1, 0.3, 0.5])
        matched = iou_match(ref, est, min_iou)
        iou = iou_matrix(ref, est).reshape(len(ref), len(est))
        size, total = brute_force(iou, min_iou)
        assert len(matched) == size
        assert sum(v for *_, v in matched) == pytest.approx(total)
        assert len({r for r, _, _ in matched}) == len(matched) == len({c for _, c, _ in matched})
        assert all(v >= min_iou for *_, v in matched)


def test_cardinality_beats_greedy_iou():
    # greedy by IoU would pair ref 0 with est 0 and leave ref 1 unmatched
    ref = np.array([[0.0, 1.0], [0.3, 1.3]])
    est = np.array([[0.05, 1.05], [-0.5, 0.8]])
    iou = iou_matrix(ref, est)
    assert iou[0, 0] > iou[0, 1] >= 0.4 and iou[1, 0] >= 0.4 > iou[1, 1]
    assert sorted((r, c) for r, c, _ in iou_match(ref, est, 0.4)) == [(0, 1), (1, 0)]


def test_iou_values():
    assert iou_matrix([[0, 2]], [[1, 3]])[0, 0] == pytest.approx(1 / 3)
    assert iou_matrix([[0, 1]], [[1, 2]])[0, 0] == 0.0
    assert iou_matrix([[1, 1]], [[1, 1]])[0, 0] == 0.0  # zero-length events never match
