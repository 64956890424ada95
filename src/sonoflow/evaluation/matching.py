"""One-to-one matching of detected events to reference events: by IoU, or by onset/offset collars.

Both modes take a largest matching among the eligible pairs (maximum cardinality); among
matchings of that size, the one with the largest total IoU. Collar mode has the semantics of
sed_eval's event-based metrics, so its counts compare with published sound-event-detection
results.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

MODES = ("iou", "collar")


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
    """Which (reference, estimated) pairs may match under `settings["match"]` (iou or collar)."""
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


def _intervals(events: np.ndarray) -> np.ndarray:
    return np.asarray(events, dtype=float).reshape(-1, 2)
