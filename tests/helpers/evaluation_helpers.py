"""Evaluation settings for tests: one-second windows, IoU matching, no post-processing."""

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
    "hop_s": 1.0,
}
