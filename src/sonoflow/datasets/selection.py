"""Which annotations become target clips of a dataset variant.

Strategies (`datasets.NAME.strategy`), after the label, `min_quality` and per-tape cap
filters:
  random, proportional_by_tape   every selected annotation is a target
  quality_balanced               per label, every quality grade keeps as many targets as
                                 its rarest grade has
  tape_balanced                  per label, every tape keeps as many targets as its
                                 poorest tape has (an equal share per tape)
  quality_and_tape_balanced      per label, every (tape, grade) cell keeps as many as
                                 the poorest cell has
Downsampling picks at random with the variant's seed. Splits are stratified by label and
quality (splits.assign_group_splits), except with `proportional_by_tape`, which balances
only the clip counts: whole groups, largest first, to the split with the largest shortfall.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

BALANCED_OVER = {
    "random": None,
    "proportional_by_tape": None,
    "quality_balanced": ["quality"],
    "tape_balanced": ["tape"],
    "quality_and_tape_balanced": ["tape", "quality"],
}


def select_targets(
    annotations: pd.DataFrame, labels: list[str], variant: dict, rng: np.random.Generator
) -> pd.DataFrame:
    """Target annotations (with a `tape` column) for `labels`, filtered and balanced."""
    targets = annotations[annotations["label"].isin(labels)]
    if variant["min_quality"] is not None:
        # grade 1 is the best; min_quality is the worst grade still taken
        good = targets["quality"].le(variant["min_quality"]).fillna(False).astype(bool)
        log.info("min_quality %s keeps %d of %d", variant["min_quality"], good.sum(), len(good))
        targets = targets[good]
    if variant["max_targets_per_tape"] is not None:
        targets = _downsample(targets, ["tape"], rng, cap=variant["max_targets_per_tape"])
    over = BALANCED_OVER[variant["strategy"]]
    if over:
        targets = _downsample(targets, ["label", *over], rng)
    return targets


def _downsample(
    frame: pd.DataFrame, by: list[str], rng: np.random.Generator, cap: int | None = None
) -> pd.DataFrame:
    """Rows of each cell of `by` picked at random: at most `cap`, or, without a cap, as
    many as the smallest cell of the same label has."""
    keys = frame[by].astype(str)  # missing quality is a cell of its own
    cell = keys.groupby(by, sort=True).ngroup().to_numpy()
    sizes = np.bincount(cell, minlength=1)
    if cap is not None:
        allowed = np.minimum(sizes, cap)
    else:
        label = keys["label"].groupby(cell).first()
        allowed = pd.Series(sizes[label.index]).groupby(label.to_numpy()).transform("min")
        allowed = allowed.to_numpy()
    order = np.argsort(cell, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    keep = []
    for g in range(len(sizes)):
        rows = order[bounds[g] : bounds[g + 1]]
        if len(rows) > allowed[g]:
            rows = np.sort(rng.choice(rows, size=int(allowed[g]), replace=False))
        keep.append(rows)
    kept = np.sort(np.concatenate(keep)) if len(frame) else np.array([], dtype=int)
    if len(kept) < len(frame):
        log.info(
            "%s over %s keeps %d of %d targets",
            "cap" if cap else "balance",
            by,
            len(kept),
            len(frame),
        )
    return frame.iloc[kept]
