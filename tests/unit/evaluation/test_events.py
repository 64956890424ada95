import numpy as np
import pandas as pd
import pytest

from sonoflow.common.schema import section_schema
from sonoflow.evaluation.benchmark import recording_events
from sonoflow.evaluation.events import (
    EVENT_KEYS,
    PostProcessing,
    event_settings,
    median_size,
    merge_spans,
    score_track,
    track_events,
    window_spans,
)

HOP = 0.1


def detect_events(spans, scores, threshold, post=None):
    """One class's events, (start, end, score) rows, as evaluation builds them: the windows'
    score track (median filter over HOP-spaced windows), then events at `threshold`."""
    post = post or PostProcessing()
    return track_events(score_track(spans, scores, HOP, post.median_filter_s), threshold, post)


def test_overlapping_and_touching_windows_merge():
    spans = np.array([[0, 1], [0.5, 1.5], [1.5, 2.5], [4, 5]], dtype=float)
    events = merge_spans(spans, np.array([0.6, 0.9, 0.7, 0.8]))
    assert events.tolist() == [[0, 2.5, 0.9], [4, 5, 0.8]]


def test_gap_merging_and_min_duration():
    spans = np.array([[0, 1], [1.2, 2], [5, 5.1]], dtype=float)
    scores = np.ones(3)
    assert len(detect_events(spans, scores, 0.5)) == 3
    merged = detect_events(spans, scores, 0.5, PostProcessing(merge_gap_s=0.25))
    assert merged[:, :2].tolist() == [[0, 2], [5, 5.1]]
    long = detect_events(spans, scores, 0.5, PostProcessing(min_duration_s=0.5))
    assert long[:, :2].tolist() == [[0, 1], [1.2, 2]]


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


def centre_spans(n: int) -> np.ndarray:
    """Centre spans of `n` one-second windows every HOP seconds (centres at 0.5 + i * HOP)."""
    starts = np.arange(n) * HOP
    return window_spans(starts, starts + 1.0, HOP, "centre")


def planted_call(onset: float, offset: float, n: int = 100, dip=(1.2, 1.5)) -> np.ndarray:
    """Scores of windows centred in [onset, offset]: ramps of one hop at the edges, a plateau
    of 0.9 that dips to 0.55 in `dip`, noise of 0.05 elsewhere."""
    centres = 0.5 + np.arange(n) * HOP
    rise = np.clip((centres - onset) / HOP + 0.5, 0, 1)
    fall = np.clip((offset - centres) / HOP + 0.5, 0, 1)
    scores = 0.05 + 0.85 * np.minimum(rise, fall)
    scores[(centres >= dip[0]) & (centres <= dip[1])] = 0.55
    return scores


def test_planted_call_with_a_dip_is_one_event_with_hysteresis_and_two_without():
    onset, offset = 0.83, 2.27
    spans, scores = centre_spans(100), planted_call(onset, offset)
    plain = detect_events(spans, scores, 0.8, PostProcessing())
    assert len(plain) == 2  # the dip (0.55) falls under the threshold
    post = PostProcessing(threshold_low_ratio=0.5, refine_boundaries=True)
    events = detect_events(spans, scores, 0.8, post)
    assert len(events) == 1
    assert abs(events[0, 0] - onset) <= HOP and abs(events[0, 1] - offset) <= HOP
    assert events[0, 2] == pytest.approx(0.9)


def test_refined_boundaries_lie_where_the_score_crosses_the_lower_threshold():
    spans = centre_spans(20)  # centres 0.5, 0.6, ...
    scores = np.zeros(20)
    scores[5:10] = 1.0  # centres 1.0 to 1.4
    scores[4], scores[10] = 0.25, 0.75
    post = PostProcessing(threshold_low=0.5, refine_boundaries=True)
    (event,) = detect_events(spans, scores, 0.9, post)
    # 0.5 lies 1/3 of the way from 0.25 (centre 0.9) to 1.0 (centre 1.0), and 1/3 of the way
    # from 0.75 (centre 1.5) to 0.0 (centre 1.6)
    assert event[:2] == pytest.approx([0.9 + HOP / 3, 1.5 + HOP / 3])
    unrefined = detect_events(spans, scores, 0.9, PostProcessing(threshold_low=0.5))
    assert unrefined[0, :2] == pytest.approx([0.95, 1.55])  # edges of the centre spans


def test_refinement_keeps_a_recording_edge():
    spans = centre_spans(10)
    scores = np.r_[np.ones(3), np.zeros(7)]
    (event,) = detect_events(spans, scores, 0.5, PostProcessing(refine_boundaries=True))
    assert event[0] == pytest.approx(spans[0, 0]) and event[1] == pytest.approx(0.7 + HOP / 2)


@pytest.mark.parametrize(("span_s", "size"), [(0.0, 1), (0.1, 1), (0.2, 3), (0.3, 3), (0.5, 5)])
def test_median_span_in_windows_is_odd(span_s, size):
    assert median_size(span_s, HOP) == size


def test_median_filter_span_removes_short_blips_and_fills_short_gaps():
    spans = centre_spans(40)
    scores = np.zeros(40)
    scores[5] = 1.0  # a one-window blip
    scores[20:30] = 1.0
    scores[24:26] = 0.0  # a two-window gap inside a call
    scores[35:37] = 1.0  # a two-window call
    assert len(detect_events(spans, scores, 0.5)) == 4
    three = detect_events(spans, scores, 0.5, PostProcessing(median_filter_s=0.3))
    assert three[:, :2] == pytest.approx(
        np.array(
            [
                [spans[20, 0], spans[23, 1]],
                [spans[26, 0], spans[29, 1]],
                [spans[35, 0], spans[36, 1]],
            ]
        )
    )  # the blip is gone; the gap and the two-window call stay
    five = detect_events(spans, scores, 0.5, PostProcessing(median_filter_s=0.5))
    assert five[:, :2] == pytest.approx(np.array([[spans[20, 0], spans[29, 1]]]))
    # the filter works on time order, whatever the row order
    order = np.random.default_rng(0).permutation(40)
    shuffled = detect_events(spans[order], scores[order], 0.5, PostProcessing(median_filter_s=0.5))
    assert shuffled == pytest.approx(five)


def test_score_track_sorts_and_keeps_raw_scores_without_filter():
    spans = centre_spans(5)[::-1]
    track = score_track(spans, np.arange(5.0), HOP)
    assert track.smoothed.tolist() == [4, 3, 2, 1, 0]
    assert np.all(np.diff(track.centres) > 0)


def test_max_duration_splits_at_the_deepest_dip():
    spans = centre_spans(60)  # centres 0.5 ... 6.4
    scores = np.zeros(60)
    scores[5:45] = 0.9
    scores[20] = 0.6  # centre 2.5: the deepest dip
    scores[33] = 0.7  # centre 3.8
    post = PostProcessing(threshold_low=0.5)
    assert len(detect_events(spans, scores, 0.8, post)) == 1  # 0.95 to 4.95: 4 s
    split = detect_events(spans, scores, 0.8, PostProcessing(threshold_low=0.5, max_duration_s=3))
    assert split[:, :2] == pytest.approx(np.array([[0.95, 2.5], [2.5, 4.95]]))
    finer = detect_events(spans, scores, 0.8, PostProcessing(threshold_low=0.5, max_duration_s=2))
    assert finer[:, :2] == pytest.approx(np.array([[0.95, 2.5], [2.5, 3.8], [3.8, 4.95]]))
    assert finer[:, 2] == pytest.approx([0.9, 0.9, 0.9])


def test_max_duration_keeps_an_event_without_inner_windows():
    spans = centre_spans(10)
    scores = np.r_[0, 1, 1, 0, np.zeros(6)]
    events = detect_events(spans, scores, 0.5, PostProcessing(max_duration_s=0.05))
    assert len(events) == 1


def test_lower_threshold_follows_the_threshold_or_is_fixed():
    assert PostProcessing(threshold_low_ratio=0.5).low(0.8) == pytest.approx(0.4)
    assert PostProcessing(threshold_low=0.3, threshold_low_ratio=0.5).low(0.8) == 0.3
    assert PostProcessing(threshold_low=0.3).low(0.2) == 0.2  # never above the threshold
    settings = {"median_filter_s": 0.3, "threshold_low_ratio": 0.6, "hop_s": 0.1, "match": "iou"}
    assert PostProcessing.from_settings(settings) == PostProcessing(
        median_filter_s=0.3, threshold_low_ratio=0.6
    )


# A changed value for every `evaluation` key of the schema: event keys must change the events
# of SCORES below, every other key must leave them as they are.
CHANGED_EVENT_KEYS = {
    "event_extent": "window",
    "median_filter_s": 0.5,
    "threshold_low": 0.1,
    "threshold_low_ratio": 0.2,
    "refine_boundaries": False,
    "merge_gap_s": 1.0,
    "min_duration_s": 0.5,
    "max_duration_s": 0.3,
}
CHANGED_OTHER_KEYS = {
    "thresholds": [0.2],
    "sweep_steps": 5,
    "match": "collar",
    "min_iou": 0.9,
    "collar_s": 1.0,
    "percentage_of_length": 0.1,
    "segment_s": 5.0,
    "excerpt_s": 3.0,
    "bootstrap": {"resamples": 50, "seed": 1, "min_recordings": 2},
    "held_out": {"folds": 3, "seed": 1, "min_recordings": 2},
    "unknown_labels": ["UNK", "unsure"],
}
SCORES = [
    0.1,
    0.3,
    0.6,
    0.9,
    0.7,
    0.4,
    0.2,
    0.55,
    0.1,
    0.6,
    0.8,
    0.6,
    0.3,
    0.1,
    0.1,
    0.1,
    0.7,
    0.2,
    0.1,
    0.1,
    0.3,
    0.45,
    0.6,
    0.7,
    0.8,
    0.9,
    0.8,
    0.7,
    0.6,
    0.2,
    0.1,
    0.1,
]


def _events(changes: dict) -> list:
    start = np.arange(len(SCORES)) * HOP
    windows = pd.DataFrame({"start_s": start, "end_s": start + 4 * HOP, "a": SCORES})
    settings = {"hop_s": HOP, **changes}
    return recording_events(windows, ["a"], settings, threshold=0.5)["a"].round(6).tolist()


def test_event_keys_are_the_schema_keys_that_shape_events():
    keys = set(section_schema("evaluation")["properties"])
    assert set(EVENT_KEYS) == set(CHANGED_EVENT_KEYS)
    assert keys == set(CHANGED_EVENT_KEYS) | set(CHANGED_OTHER_KEYS)
    assert event_settings({**CHANGED_EVENT_KEYS, **CHANGED_OTHER_KEYS}) == CHANGED_EVENT_KEYS


@pytest.mark.parametrize("key", sorted(CHANGED_EVENT_KEYS))
def test_each_event_key_changes_events(key):
    # refined boundaries lie where scores cross, whichever span a window stands for
    base = {"refine_boundaries": False} if key == "event_extent" else {}
    assert _events({**base, key: CHANGED_EVENT_KEYS[key]}) != _events(base)


@pytest.mark.parametrize("key", sorted(CHANGED_OTHER_KEYS))
def test_other_evaluation_keys_leave_events_alone(key):
    assert _events({key: CHANGED_OTHER_KEYS[key]}) == _events({})
