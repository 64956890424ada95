import numpy as np

from sonoflow.evaluation.events import detect_events, merge_spans, window_spans


def test_overlapping_and_touching_windows_merge():
    spans = np.array([[0, 1], [0.5, 1.5], [1.5, 2.5], [4, 5]], dtype=float)
    events = merge_spans(spans, np.array([0.6, 0.9, 0.7, 0.8]))
    assert events.tolist() == [[0, 2.5, 0.9], [4, 5, 0.8]]


def test_gap_merging_and_min_duration():
    spans = np.array([[0, 1], [1.2, 2], [5, 5.1]], dtype=float)
    scores = np.ones(3)
    assert len(detect_events(spans, scores, 0.5)) == 3
    assert detect_events(spans, scores, 0.5, gap_s=0.25)[:, :2].tolist() == [[0, 2], [5, 5.1]]
    assert detect_events(spans, scores, 0.5, min_duration_s=0.5)[:, :2].tolist() == [
        [0, 1],
        [1.2, 2],
    ]


def test_threshold_is_inclusive_and_unordered_input_is_fine():
    spans = np.array([[2, 3], [0, 1], [1, 2]], dtype=float)
    events = detect_events(spans, np.array([0.5, 0.5, 0.49]), 0.5)
    assert events[:, :2].tolist() == [[0, 1], [2, 3]]


def test_centre_spans_touch_and_cover_the_hop():
    starts = np.arange(0, 5, 0.25)
    spans = window_spans(starts, starts + 1.0, hop_s=0.25, extent="centre")
    assert np.allclose(spans[:, 1] - spans[:, 0], 0.25)
    assert np.allclose(spans[1:, 0], spans[:-1, 1])
    assert np.allclose(spans[0], [0.375, 0.625])
    assert np.allclose(window_spans(starts, starts + 1.0, 0.25, "window")[3], [0.75, 1.75])


def test_no_windows_no_events():
    assert detect_events(np.zeros((0, 2)), np.zeros(0), 0.5).shape == (0, 3)
