"""One-to-one matching of detected events to reference events by IoU."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def iou_matrix(reference: np.ndarray, estimated: np.ndarray) -> np.ndarray:
    """IoU of every (reference, estimated) pair of (start, end) intervals."""
    ref = np.asarray(reference, dtype=float).reshape(-1, 2)
    est = np.asarray(estimated, dtype=float).reshape(-1, 2)
    inter = np.clip(
        np.minimum(ref[:, None, 1], est[None, :, 1]) - np.maximum(ref[:, None, 0], est[None, :, 0]),
        0,
        None,
    )
    union = (ref[:, None, 1] - ref[:, None, 0]) + (est[None, :, 1] - est[None, :, 0]) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_events(
    reference: np.ndarray, estimated: np.ndarray, min_iou: float
) -> list[tuple[int, int, float]]:
    """Maximum-cardinality one-to-one matching among pairs with IoU >= min_iou.

    Among matchings of maximum size, the one with the largest total IoU is returned:
    each eligible pair weighs 1 + IoU, and the assignment maximises the total weight.
    Since any one extra pair outweighs all IoU sums, size comes first.
    """
    iou = iou_matrix(reference, estimated)
    if iou.size == 0:
        return []
    eligible = iou >= min_iou
    weight = np.where(eligible, (1 + len(iou) + iou.shape[1]) + iou, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [(int(r), int(c), float(iou[r, c])) for r, c in zip(rows, cols) if eligible[r, c]]
