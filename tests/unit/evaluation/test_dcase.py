"""The DCASE few-shot bioacoustic protocol against hand-computed counts."""

import itertools

import numpy as np
import pandas as pd
import pytest
from evaluation_helpers import SETTINGS, random_cases
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from sonoflow.evaluation.benchmark import compare, evaluate_scores
from sonoflow.evaluation.dcase import FLOOR, OVERALL, dcase_scores, dcase_table
from sonoflow.evaluation.matching import dcase_counts, iou_matrix

# Two references, A = [0, 2] and B = [1.5, 3], and two detections, x = [0.5, 2.5], y = [0, 0.8]:
#   IoU(A, x) = 1.5 / 2.5 = 0.6   IoU(B, x) = 1.0 / 2.5 = 0.4
#   IoU(A, y) = 0.8 / 2.0 = 0.4   IoU(B, y) = 0
# All three pairs exceed 0.3. Greedy matching by IoU takes (A, x) first; then B's only
# candidate x is gone and y's only candidate A is gone: TP 1, FP 1 (y), FN 1 (B).
# The maximum bipartite matching pairs A with y and B with x: TP 2, FP 0, FN 0.
GREEDY_TRAP_REF = np.array([[0.0, 2.0], [1.5, 3.0]])
GREEDY_TRAP_EST = np.array([[0.5, 2.5], [0.0, 0.8]])


def greedy_tp(reference, estimated, min_iou):
    """Greedy matching by descending IoU, the pitfall the protocol avoids."""
    iou = iou_matrix(reference, estimated)
    used_r, used_c = set(), set()
    for flat in np.argsort(-iou, axis=None, kind="stable"):
        r, c = np.unravel_index(flat, iou.shape)
        if iou[r, c] > min_iou and r not in used_r and c not in used_c:
            used_r.add(r)
            used_c.add(c)
    return len(used_r)


def test_maximum_bipartite_matching_beats_greedy():
    np.testing.assert_allclose(iou_matrix(GREEDY_TRAP_REF, GREEDY_TRAP_EST), [[0.6, 0.4], [0.4, 0]])
    assert greedy_tp(GREEDY_TRAP_REF, GREEDY_TRAP_EST, 0.3) == 1
    pairs, tp, fp, fn = dcase_counts(GREEDY_TRAP_REF, GREEDY_TRAP_EST, np.zeros(2, bool))
    assert (tp, fp, fn) == (2, 0, 0)
    assert sorted((r, c) for r, c, _ in pairs) == [(0, 1), (1, 0)]


def test_iou_must_exceed_three_tenths():
    # [0, 3] inside [0, 10]: IoU 3 / 10 = 0.3 exactly, which the official code (IoU > 0.3)
    # does not match; [0, 3.1] has IoU 0.31 and does.
    assert dcase_counts([[0, 10]], [[0, 3]], [False])[1:] == (0, 1, 1)
    assert dcase_counts([[0, 10]], [[0, 3.1]], [False])[1:] == (1, 0, 0)


def test_unknown_references_are_neither_found_nor_missed():
    # References: P1 = [0, 1] (POS), U1 = [3, 4] (UNK), U2 = [8, 9] (UNK), P2 = [3.2, 4.2] (POS).
    # Detections: d0 = [0.1, 1.0] (IoU 0.9 with P1), d1 = [3, 4] (IoU 1 with U1, 0.8 / 1.2
    # = 0.67 with P2), d2 = [6, 7] (nothing).
    # First pass (POS only): d0-P1, d1-P2 -> TP 2. Second pass (UNK, detections left: d2):
    # no pair. FP = 3 - 2 - 0 = 1 (d2); FN = 2 POS - 2 = 0; the unmatched UNKs cost nothing.
    ref = np.array([[0, 1], [3, 4], [8, 9], [3.2, 4.2]])
    unknown = np.array([False, True, True, False])
    est = np.array([[0.1, 1.0], [3, 4], [6, 7]])
    pairs, tp, fp, fn = dcase_counts(ref, est, unknown)
    assert (tp, fp, fn) == (2, 1, 0)
    assert sorted((r, c) for r, c, _ in pairs) == [(0, 0), (3, 1)]
    # Without P2, d1 is left for the second pass and matches U1: TP 1, FP 1 (d2), FN 0.
    assert dcase_counts(ref[:3], est, unknown[:3])[1:] == (1, 1, 0)


def test_compare_reports_dcase_counts_and_uses_them_under_match_dcase():
    # The case above as a benchmark recording: P1 and P2 are `call` events, U1 and U2 are
    # events of the label UNK (outside the targets), handed to compare as `unknown`.
    # iou (>= 0.4) sees only the calls: d0-P1, d1-P2 -> TP 2, FP 1 (d2), FN 0.
    # dcase: TP 2 and FN 0 the same; U1, U2 absorb nothing left over: FP 1. Without P2,
    # iou counts d1 as a FP (2 FP) while dcase lets U1 absorb it (1 FP).
    def events(spans, label):
        return pd.DataFrame(
            {"start_s": [a for a, _ in spans], "end_s": [b for _, b in spans], "label": label}
        )

    calls = events([(0, 1), (3.2, 4.2)], "call")
    unknown = events([(3, 4), (8, 9)], "UNK")
    est = np.array([[0.1, 1.0], [3, 4], [6, 7]])
    counts = compare(calls, est, SETTINGS, duration=10, unknown=unknown)
    assert (counts["tp"], counts["fp"], counts["fn"]) == (2, 1, 0)
    assert (counts["dcase_tp"], counts["dcase_fp"], counts["dcase_fn"]) == (2, 1, 0)
    alone = compare(calls.iloc[:1], est, SETTINGS, duration=10, unknown=unknown)
    assert (alone["iou_tp"], alone["iou_fp"], alone["iou_fn"]) == (1, 2, 0)
    assert (alone["dcase_tp"], alone["dcase_fp"], alone["dcase_fn"]) == (1, 1, 0)
    as_dcase = compare(calls.iloc[:1], est, {**SETTINGS, "match": "dcase"}, 10, unknown)
    assert (as_dcase["tp"], as_dcase["fp"], as_dcase["fn"]) == (1, 1, 0)


def test_evaluation_treats_unknown_labels_as_dcase_unknowns_for_every_class():
    # One recording, one-second windows; `call` scores 0.9 in windows 2 and 6: two detected
    # events [2, 3] and [6, 7]. Ground truth: a call at [2, 3] and an UNK event at [6, 7].
    # iou: TP 1, FP 1 ([6, 7] matches no call); dcase: TP 1, FP 0 (the UNK absorbs it), FN 0.
    starts = np.arange(10, dtype=float)
    scores = pd.DataFrame(
        {
            "recording": "r",
            "start_s": starts,
            "end_s": starts + 1,
            "call": np.where(np.isin(starts, [2, 6]), 0.9, 0.1),
        }
    )
    truth = pd.DataFrame(
        {
            "recording": "r",
            "start_s": [2.0, 6.0],
            "end_s": [3.0, 7.0],
            "low_hz": 1000.0,
            "high_hz": 2000.0,
            "label": ["call", "UNK"],
        }
    )
    rows = evaluate_scores(scores, truth, ["call"], SETTINGS).metrics
    row = rows[(rows["threshold"] == 0.5) & (rows["class"] == "all")].iloc[0]
    assert (row["iou_tp"], row["iou_fp"], row["iou_fn"]) == (1, 1, 0)
    assert (row["dcase_tp"], row["dcase_fp"], row["dcase_fn"]) == (1, 0, 0)
    assert row["dcase_f1"] == pytest.approx(1.0)
    plain = evaluate_scores(scores, truth, ["call"], {**SETTINGS, "unknown_labels": []}).metrics
    row = plain[(plain["threshold"] == 0.5) & (plain["class"] == "all")].iloc[0]
    assert (row["dcase_tp"], row["dcase_fp"], row["dcase_fn"]) == (1, 1, 0)


def test_scores_floor_undefined_and_zero_figures():
    precision, recall, f = dcase_scores([8, 0, 0], [2, 0, 3], [2, 4, 0])
    np.testing.assert_allclose(precision, [0.8, FLOOR, FLOOR])
    np.testing.assert_allclose(recall, [0.8, FLOOR, FLOOR])
    np.testing.assert_allclose(f, [0.8, FLOOR, FLOOR])


def metrics_rows(experiment, benchmark, threshold, tp, fp, fn):
    return {
        "experiment": experiment,
        "benchmark": benchmark,
        "threshold": threshold,
        "class": "all",
        "dcase_tp": tp,
        "dcase_fp": fp,
        "dcase_fn": fn,
        # the configured match's counts, which the DCASE table must not read
        "tp": 1000,
        "fp": 1000,
        "fn": 1000,
    }


def test_overall_figure_is_the_harmonic_mean_over_benchmarks_at_one_threshold():
    # Threshold 0.5: b1 TP 8 FP 2 FN 2 -> P 0.8, R 0.8, F 8 / (8 + 2) = 0.8;
    #                b2 TP 2 FP 2 FN 6 -> P 0.5, R 0.25, F 2 / (2 + 4) = 1/3.
    #   overall F = 2 / (1/0.8 + 3) = 2 / 4.25; P = 2 / (1.25 + 2); R = 2 / (1.25 + 4).
    # Threshold 0.7: b1 TP 5 FP 0 FN 5 -> F 5 / 7.5 = 2/3; b2 TP 0 -> F floored to 1e-5,
    #   overall F = 2 / (1.5 + 1e5), about 2e-5: one subset scoring nothing sinks it, so
    #   0.5 is chosen even though b1 alone is better at 0.7.
    rows = [
        metrics_rows("E", "b1", 0.5, 8, 2, 2),
        metrics_rows("E", "b2", 0.5, 2, 2, 6),
        metrics_rows("E", "b1", 0.7, 5, 0, 5),
        metrics_rows("E", "b2", 0.7, 0, 0, 8),
        {**metrics_rows("E", "b1", 0.5, 99, 99, 99), "class": "song"},  # not the `all` row
    ]
    table = dcase_table(pd.DataFrame(rows)).set_index("benchmark")
    assert list(table.index) == ["b1", "b2", OVERALL]
    assert (table["threshold"] == 0.5).all()
    assert table.loc["b1", "f_measure"] == pytest.approx(0.8)
    assert table.loc["b2", "f_measure"] == pytest.approx(1 / 3)
    overall = table.loc[OVERALL]
    assert overall["f_measure"] == pytest.approx(2 / 4.25)
    assert overall["precision"] == pytest.approx(2 / 3.25)
    assert overall["recall"] == pytest.approx(2 / 5.25)
    assert (overall["tp"], overall["fp"], overall["fn"], overall["n_benchmarks"]) == (10, 4, 8, 2)
    at_07 = dcase_table(pd.DataFrame(rows[2:4])).set_index("benchmark")
    assert at_07.loc[OVERALL, "f_measure"] == pytest.approx(2 / (1.5 + 1 / FLOOR))


def test_table_names_missing_columns():
    with pytest.raises(ValueError, match="dcase_fn"):
        dcase_table(pd.DataFrame([metrics_rows("E", "b", 0.5, 1, 1, 1)]).drop(columns="dcase_fn"))


def hopcroft_karp_counts(reference, estimated, unknown):
    """The official two-pass procedure with scipy's Hopcroft-Karp matching, written
    independently of `dcase_counts`: (TP, FP, FN)."""
    iou = iou_matrix(reference, estimated)

    def matched(rows, cols):
        graph = csr_matrix((iou[np.ix_(rows, cols)] > 0.3).astype(int))
        if graph.shape[0] == 0 or graph.shape[1] == 0:
            return np.array([], dtype=int)
        pairs = maximum_bipartite_matching(graph, perm_type="column")  # column per row
        return np.asarray(cols)[pairs[pairs >= 0]]

    known, unknown_rows = np.flatnonzero(~unknown), np.flatnonzero(unknown)
    taken = matched(known, np.arange(len(estimated)))
    left = np.setdiff1d(np.arange(len(estimated)), taken)
    second = matched(unknown_rows, left)
    return len(taken), len(estimated) - len(taken) - len(second), len(known) - len(taken)


def brute_force_counts(reference, estimated, unknown):
    """(TP, FP, FN) of the official procedure at its best: the most known pairs, then the
    most unknown pairs among the leftover detections, by trying every set of pairs."""
    iou = iou_matrix(reference, estimated)
    pairs = [(r, c) for r in range(len(reference)) for c in range(len(estimated))]
    pairs = [(r, c) for r, c in pairs if iou[r, c] > 0.3]
    best = (0, 0)
    for size in range(len(pairs) + 1):
        for chosen in itertools.combinations(pairs, size):
            rows, cols = [r for r, _ in chosen], [c for _, c in chosen]
            if len(set(rows)) == len(rows) and len(set(cols)) == len(cols):
                known = sum(not unknown[r] for r in rows)
                best = max(best, (known, len(rows) - known))
    tp, absorbed = best
    return tp, len(estimated) - tp - absorbed, int((~unknown).sum()) - tp


def test_counts_agree_with_hopcroft_karp_and_brute_force_on_random_cases():
    for rng, ref, est in random_cases(seed=1, span_s=5.0):
        unknown = rng.random(len(ref)) < 0.4
        counts = dcase_counts(ref, est, unknown)[1:]
        assert counts == brute_force_counts(ref, est, unknown)
        official = hopcroft_karp_counts(ref, est, unknown)
        assert counts[0] == official[0] and counts[2] == official[2]  # TP, FN
        assert counts[1] <= official[1]  # FP: never more than an arbitrary first matching
