"""Reviews' verdicts as a dataset variant's clips (prepare_dataset with
`datasets.NAME.reviewed`): this stage reads the verdicts, datasets.reviewed turns them into
clips, so that datasets, a lower stage, imports nothing of the review stage."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sonoflow.datasets.reviewed import merge_reviews, reviewed_clips
from sonoflow.review.calibrate_run import read_sample, verdict_table

log = logging.getLogger(__name__)


def reviewed_training_clips(
    reviews: dict[str, dict[str, str | Path]], labels: list[str], key: str
) -> pd.DataFrame:
    """The clips of every review's yes and no verdicts, one row per reviewed clip.

    `reviews`: review name -> {"sample": its sample.csv, "verdicts": its verdict folder,
    "recordings": its detect run's recordings folder}; `labels`: the classes a correction
    may name (the variant's); `key`: the variant's config key. A review without verdicts
    yet adds nothing (the log says so); a bad verdict file raises VerdictError naming the
    file and row."""
    parts = []
    for name in sorted(reviews):
        sample = read_sample(reviews[name]["sample"])
        table = verdict_table(sample, reviews[name]["verdicts"], labels)
        clips = reviewed_clips(table, name)
        log.info(
            "%s.reviewed: review %s gives %d clip(s) from %d recording(s): %s",
            key,
            name,
            len(clips),
            clips["recording"].nunique(),
            clips["label"].value_counts().sort_index().to_dict(),
        )
        parts.append(clips)
    roots = {name: reviews[name]["recordings"] for name in reviews}
    merged = merge_reviews(parts, key, roots)
    left_out = sum(map(len, parts)) - len(merged)
    if left_out:
        log.info(
            "%s.reviewed: %d clip(s) left out: reviewed twice, or rejected where another "
            "class's detection was confirmed",
            key,
            left_out,
        )
    return merged
