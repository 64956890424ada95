"""Group-disjoint train/val/test splits and grouped cross-validation folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

SPLITS = ("train", "val", "test")


def assign_group_splits(
    groups: pd.Series,
    strata: pd.Series,
    ratios: dict[str, float],
    seed: int,
) -> dict[object, str]:
    """Whole groups to splits, so that each split's share of every stratum approaches its ratio.

    `groups` and `strata` have one entry per clip (for example tape, and label x quality;
    one stratum for all clips gives plain proportional assignment). Groups are taken
    largest first, ties in seeded random order, and each goes to the split whose
    shortfall, weighted by the group's own strata, is largest; small groups come last and
    fill what is missing, so the ratios hold overall. A split with a positive ratio gets
    at least one group when there are enough groups.
    No library does this: scikit-learn's group splitters give either folds of equal size
    or a single random cut, not three shares stratified as far as groups allow.
    """
    table = pd.crosstab(groups.to_numpy(), strata.to_numpy(), dropna=False)
    if table.to_numpy().sum() != len(groups):
        raise ValueError("split assignment: groups and strata must not be missing")
    counts = table.to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(table))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]
    total = counts.sum(axis=0)
    share = np.array([ratios.get(s, 0.0) for s in SPLITS]) / sum(ratios.values())
    have = np.zeros((len(SPLITS), counts.shape[1]))
    open_splits = [i for i in range(len(SPLITS)) if share[i] > 0]
    still_empty = list(open_splits)
    assignment = {}
    for n, g in enumerate(order):
        remaining = len(order) - n
        if still_empty and remaining <= len(still_empty):
            split = still_empty[0]  # the last groups go to splits that would otherwise stay empty
        else:
            shortfall = share[:, None] - have / total  # per split and stratum, as shares
            score = shortfall @ counts[g]
            split = max(open_splits, key=lambda s: (score[s], share[s]))
        assignment[table.index[g]] = SPLITS[split]
        have[split] += counts[g]
        if split in still_empty:
            still_empty.remove(split)
    return assignment


def cv_folds(clips: pd.DataFrame, n_folds: int, seed: int) -> np.ndarray:
    """Fold number per clip of train+val (others get -1), grouped by tape, stratified by label."""
    pool = clips.index[clips["split"].isin(["train", "val"])]
    tapes = clips.loc[pool, "tape"]
    if tapes.nunique() < n_folds:
        raise ValueError(
            f"cv.folds is {n_folds} but train+val hold only {tapes.nunique()} tape(s); "
            "lower cv.folds or add tapes"
        )
    folds = np.full(len(clips), -1)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    positions = clips.index.get_indexer(pool)
    for k, (_, held_out) in enumerate(splitter.split(pool, clips.loc[pool, "label"], tapes)):
        folds[positions[held_out]] = k
    return folds
