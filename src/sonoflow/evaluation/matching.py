"""One-to-one matching of detected events to reference events: by IoU, by onset/offset
collars, or by the DCASE few-shot bioacoustic protocol.

Every mode takes a largest matching among the eligible pairs (maximum cardinality); among
matchings of that size, the one with the largest total IoU. Collar mode has the semantics of
sed_eval's event-based metrics, so its counts compare with published sound-event-detection
results; dcase mode has those of the DCASE 2021-2024 Task 5 evaluation (`dcase_counts`).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

MODES = ("iou", "collar", "dcase")

# DCASE Task 5 (few-shot bioacoustic event detection, 2021-2024) evaluation, as its official
# code (c4dm/dcase-few-shot-bioacoustic, evaluation_metrics/evaluation.py and metrics.py)
# does it: a prediction and a reference are candidates when their IoU exceeds 0.3 (`S >
# min_iou`, strictly; the task page says "IoU >= 30%"), and the matching is a maximum
# bipartite matching of the candidate graph (Hopcroft-Karp: counts only, no IoU weighting).
DCASE_MIN_IOU = 0.3


def iou_matrix(reference: np.ndarray, estimated: np.ndarray) -> np.ndarray:
    """IoU of every (reference, estimated) pair of (start, end) intervals."""
    ref, est = _intervals(reference), _intervals(estimated)
    inter = np.clip(
        np.minimum(ref[:, None, 1], est[None, :, 1]) - np.maximum(ref[:, None, 0], est[None, :, 0]),
        0,
        None,
    )
    union = (ref[:, None, 1] - ref[:, None, 0]) + (est[None, :, 1] - est[None, :, 0]) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def collar_hits(
    reference: np.ndarray,
    estimated: np.ndarray,
    collar_s: float,
    percentage_of_length: float = 0.5,
) -> np.ndarray:
    """Pairs whose onsets differ by at most `collar_s` and offsets by at most the larger of
    `collar_s` and `percentage_of_length` times the reference length (sed_eval's rule)."""
    ref, est = _intervals(reference), _intervals(estimated)
    onset = np.abs(ref[:, None, 0] - est[None, :, 0]) <= collar_s
    offset_collar = np.maximum(collar_s, percentage_of_length * (ref[:, 1] - ref[:, 0]))
    offset = np.abs(ref[:, None, 1] - est[None, :, 1]) <= offset_collar[:, None]
    return onset & offset


def eligible_pairs(reference: np.ndarray, estimated: np.ndarray, settings: dict) -> np.ndarray:
    """Which (reference, estimated) pairs may match under `settings["match"]`."""
    if settings["match"] == "dcase":
        return iou_matrix(reference, estimated) > DCASE_MIN_IOU
    if settings["match"] == "iou":
        return iou_matrix(reference, estimated) >= settings["min_iou"]
    if settings["match"] == "collar":
        return collar_hits(
            reference, estimated, settings["collar_s"], settings["percentage_of_length"]
        )
    raise ValueError(f"evaluation.match: unknown matching mode {settings['match']!r}")


def largest_matching(eligible: np.ndarray, iou: np.ndarray) -> list[tuple[int, int, float]]:
    """Maximum-cardinality one-to-one matching among `eligible` pairs, ties broken by total IoU.

    Each eligible pair weighs (1 + n + m) + IoU and the assignment maximises the total weight;
    since one extra pair outweighs every IoU sum, size comes first.
    """
    if eligible.size == 0:
        return []
    weight = np.where(eligible, (1 + eligible.shape[0] + eligible.shape[1]) + iou, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [(int(r), int(c), float(iou[r, c])) for r, c in zip(rows, cols) if eligible[r, c]]


def match(
    reference: np.ndarray, estimated: np.ndarray, settings: dict
) -> list[tuple[int, int, float]]:
    """Matching in the mode `settings` names: (reference, estimated, IoU) triples."""
    return largest_matching(
        eligible_pairs(reference, estimated, settings), iou_matrix(reference, estimated)
    )


def mode_counts(
    reference: np.ndarray, estimated: np.ndarray, settings: dict, unknown: np.ndarray
) -> tuple[list[tuple[int, int, float]], int, int, int]:
    """(pairs, TP, FP, FN) under `settings["match"]`; `unknown` marks the reference events
    that dcase mode treats as UNK (the other modes count every reference)."""
    if settings["match"] == "dcase":
        return dcase_counts(reference, estimated, unknown)
    pairs = match(reference, estimated, settings)
    n_ref, n_est = len(_intervals(reference)), len(_intervals(estimated))
    return pairs, len(pairs), n_est - len(pairs), n_ref - len(pairs)


def dcase_counts(
    reference: np.ndarray, estimated: np.ndarray, unknown: np.ndarray
) -> tuple[list[tuple[int, int, float]], int, int, int]:
    """(pairs, TP, FP, FN) under the DCASE Task 5 protocol.

    As the official `compute_tp_fp_fn`: a first maximum matching pairs the detections with
    the known (POS) reference events, giving TP; a second one pairs the detections left over
    with the `unknown` (UNK) reference events, and those pairs count neither as TP nor as FP,
    so a detector is not penalised for finding what the annotator was unsure of. FP is the
    detections left after both; FN the known references left unmatched (unknown ones never
    count). `pairs` are (reference, estimated, IoU) of the first matching, indices into the
    full `reference`. The official code also drops each file's first five positive events
    (the shots); sonoflow's benchmarks hold no shots, so nothing is dropped here.
    """
    ref = _intervals(reference)
    est = _intervals(estimated)
    unknown = np.asarray(unknown, dtype=bool).reshape(-1)
    known_idx, unknown_idx = np.flatnonzero(~unknown), np.flatnonzero(unknown)
    settings = {"match": "dcase"}
    first = match(ref[known_idx], est, settings)
    pairs = [(int(known_idx[r]), c, v) for r, c, v in first]
    left = np.setdiff1d(np.arange(len(est)), [c for _, c, _ in first])
    second = match(ref[unknown_idx], est[left], settings)
    tp = len(pairs)
    return pairs, tp, len(est) - tp - len(second), len(known_idx) - tp


def _intervals(events: np.ndarray) -> np.ndarray:
    return np.asarray(events, dtype=float).reshape(-1, 2)
