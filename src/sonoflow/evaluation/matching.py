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
# min_iou` in metrics.match_events: strictly, which differs from "IoU >= 0.3" only at exactly
# 0.3), and the matching is a maximum bipartite matching of the candidate graph
# (Hopcroft-Karp); the assignment here finds matchings of the same size (`largest_matching`).
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


def eligible_pairs(
    reference: np.ndarray, estimated: np.ndarray, settings: dict, iou: np.ndarray | None = None
) -> np.ndarray:
    """Which (reference, estimated) pairs may match under `settings["match"]`; `iou` is
    their `iou_matrix` where the caller has it."""
    mode = settings["match"]
    if mode == "collar":
        return collar_hits(
            reference, estimated, settings["collar_s"], settings["percentage_of_length"]
        )
    if mode not in MODES:
        raise ValueError(f"evaluation.match: unknown matching mode {mode!r}")
    iou = iou_matrix(reference, estimated) if iou is None else iou
    return iou > DCASE_MIN_IOU if mode == "dcase" else iou >= settings["min_iou"]


def largest_matching(
    eligible: np.ndarray, iou: np.ndarray, preferred: np.ndarray | None = None
) -> list[tuple[int, int, float]]:
    """Maximum-cardinality one-to-one matching among `eligible` pairs, ties broken by total IoU.

    Each eligible pair weighs L = (1 + n + m) plus its IoU and the assignment maximises the
    total weight; since one extra pair outweighs every IoU sum, size comes first. With
    `preferred` (a mask of reference rows) a preferred row's pairs weigh L * L + IoU: first
    the most pairs with preferred rows, then the most with the others, then IoU.
    """
    if eligible.size == 0:
        return []
    size = 1 + eligible.shape[0] + eligible.shape[1]
    base = np.full(eligible.shape[0], float(size))
    if preferred is not None:
        base[np.asarray(preferred, dtype=bool)] = float(size * size)
    weight = np.where(eligible, base[:, None] + iou, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [(int(r), int(c), float(iou[r, c])) for r, c in zip(rows, cols) if eligible[r, c]]


def match(
    reference: np.ndarray, estimated: np.ndarray, settings: dict, iou: np.ndarray | None = None
) -> list[tuple[int, int, float]]:
    """Matching in the mode `settings` names: (reference, estimated, IoU) triples; `iou` is
    the pairs' `iou_matrix` where the caller has it."""
    iou = iou_matrix(reference, estimated) if iou is None else iou
    return largest_matching(eligible_pairs(reference, estimated, settings, iou), iou)


def mode_counts(
    reference: np.ndarray,
    estimated: np.ndarray,
    settings: dict,
    unknown: np.ndarray | None = None,
    iou: np.ndarray | None = None,
) -> tuple[list[tuple[int, int, float]], int, int, int]:
    """(pairs, TP, FP, FN) under `settings["match"]`. `unknown` holds (start, end) events
    that only the dcase mode reads (its UNK: `dcase_counts`); `iou` is the `iou_matrix` of
    `reference` and `estimated` where the caller has it."""
    ref, est = _intervals(reference), _intervals(estimated)
    iou = iou_matrix(ref, est) if iou is None else iou
    if settings["match"] == "dcase":
        extra = _intervals(np.zeros((0, 2)) if unknown is None else unknown)
        mask = np.r_[np.zeros(len(ref), bool), np.ones(len(extra), bool)]
        both = np.vstack([iou.reshape(len(ref), len(est)), iou_matrix(extra, est)])
        return dcase_counts(np.vstack([ref, extra]), est, mask, both)
    pairs = match(ref, est, settings, iou)
    return pairs, len(pairs), len(est) - len(pairs), len(ref) - len(pairs)


def dcase_counts(
    reference: np.ndarray,
    estimated: np.ndarray,
    unknown: np.ndarray,
    iou: np.ndarray | None = None,
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

    Where several first matchings are maximum, the official code keeps whichever its
    Hopcroft-Karp search meets first, and that decides which detections are left for the
    unknown events. Here both passes are one assignment that takes the most known pairs
    and, among those, the most unknown ones: TP and FN are the official ones, FP is the
    least the official procedure can give (equal, unless unknown events sit among
    contested detections).
    """
    ref, est = _intervals(reference), _intervals(estimated)
    iou = iou_matrix(ref, est) if iou is None else iou
    unknown = np.asarray(unknown, dtype=bool).reshape(-1)
    eligible = eligible_pairs(ref, est, {"match": "dcase"}, iou)
    found = largest_matching(eligible, iou, preferred=~unknown)
    pairs = [pair for pair in found if not unknown[pair[0]]]
    tp = len(pairs)
    return pairs, tp, len(est) - len(found), int((~unknown).sum()) - tp


def _intervals(events: np.ndarray) -> np.ndarray:
    return np.asarray(events, dtype=float).reshape(-1, 2)
