"""Tape-disjoint train/val/test splits and grouped cross-validation folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

SPLITS = ("train", "val", "test")


def assign_tape_splits(
    clip_tapes: pd.Series, ratios: dict[str, float], seed: int
) -> dict[str, str]:
    """Whole tapes to splits, so that each split's share of clips approaches its ratio.

    Tapes go, largest first (ties in seeded random order), to the split furthest below
    its target share. A split with a positive ratio gets at least one tape when there are
    enough tapes.
    """
    sizes = clip_tapes.value_counts()
    rng = np.random.default_rng(seed)
    order = sizes.index.to_numpy()[rng.permutation(len(sizes))]
    order = sorted(order, key=lambda tape: -sizes[tape])  # stable: random among equal sizes
    total = float(sizes.sum())
    wanted = {s: ratios.get(s, 0.0) / sum(ratios.values()) * total for s in SPLITS}
    have = dict.fromkeys(SPLITS, 0.0)
    empty = [s for s in SPLITS if wanted[s] > 0]
    assignment = {}
    for i, tape in enumerate(order):
        remaining = len(order) - i
        if empty and remaining <= len(empty):
            split = empty[0]  # the last tapes go to splits that would otherwise stay empty
        else:
            split = max(SPLITS, key=lambda s: wanted[s] - have[s])
        assignment[tape] = split
        have[split] += sizes[tape]
        if split in empty:
            empty.remove(split)
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
