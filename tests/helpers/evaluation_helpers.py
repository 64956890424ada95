"""Evaluation settings for tests: one-second windows, IoU matching, thresholding alone."""

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
