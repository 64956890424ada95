"""Evaluation settings for tests: one-second windows, IoU matching, thresholding alone; and
random matching problems."""

import numpy as np

SETTINGS = {
    "thresholds": [0.5],
    "sweep_steps": 4,
    "match": "iou",
    "min_iou": 0.4,
    "collar_s": 0.2,
    "percentage_of_length": 0.5,
    "segment_s": 1.0,
    "event_extent": "window",
    "merge_gap_s": 0.0,
    "min_duration_s": 0.0,
    "median_filter_s": 0.0,  # thresholding alone: the post-processing has tests of its own
    "threshold_low_ratio": 1.0,
    "refine_boundaries": False,
    "max_duration_s": None,
    "hop_s": 1.0,
}


def random_cases(seed: int, n_cases: int = 300, most: int = 4, span_s: float = 6.0):
    """Small random matching problems: (reference, estimated) arrays of 0 to `most` (start,
    end) intervals in [0, span_s], for tests against brute force."""
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        n, m = rng.integers(0, most + 1, size=2)
        ref = np.sort(rng.uniform(0, span_s, size=(n, 2)), axis=1)
        est = np.sort(rng.uniform(0, span_s, size=(m, 2)), axis=1)
        yield rng, ref, est
