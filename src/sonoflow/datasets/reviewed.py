"""Reviewed detections as training clips: a confirmed detection is a target clip of its
(corrected) class, a rejected one a noise clip (a hard negative: a place where the model
fired and was wrong). Unsure and unreviewed clips are left out.

Each reviewed recording is a tape of its own (named `reviewed/REVIEW/RECORDING`), so the
tape-disjoint split keeps all of its clips in one split; a recording reviewed in two
reviews is one tape. A reviewed recording that is a benchmark recording (the same file,
or a copy with the same bytes) is refused: training on it would leak the benchmark.

This module reads plain tables (a review's verdict table, as
`sonoflow.review.verdicts.read_verdicts` returns it), so that datasets, a lower stage,
imports nothing of the review stage.
"""

from __future__ import annotations

import filecmp
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from sonoflow.datasets.noise_mining import NOISE
from sonoflow.datasets.splits import assign_group_splits

TARGET_SOURCE, NOISE_SOURCE = "reviewed", "rejected"
PREFIX = "reviewed"


class ReviewedClipError(ValueError):
    """Reviewed clips that cannot go into a dataset; the message names them."""


def reviewed_name(review: str, recording: str) -> str:
    """The tape and recording name of a reviewed recording in a dataset."""
    return str(PurePosixPath(PREFIX) / review / recording)


def reviewed_clips(table: pd.DataFrame, review: str) -> pd.DataFrame:
    """Clip rows (recording, tape, start_s, end_s, label, quality, source, file) of one
    review's verdicts: yes -> target of its class; no with a corrected class -> target of
    that class; no (or corrected to noise) -> noise. `table` needs columns recording,
    path, class, start_s, end_s, verdict and corrected_class."""
    rows = table[table["verdict"].isin(["yes", "no"])]
    corrected = rows["corrected_class"].fillna("").astype(str)
    label = np.where(
        rows["verdict"] == "yes",
        rows["class"],
        np.where((corrected != "") & (corrected != NOISE), corrected, NOISE),
    )
    names = [reviewed_name(review, r) for r in rows["recording"].astype(str)]
    return pd.DataFrame(
        {
            "recording": names,
            "tape": names,
            "start_s": rows["start_s"].to_numpy(dtype=float),
            "end_s": rows["end_s"].to_numpy(dtype=float),
            "label": label,
            "quality": pd.array([pd.NA] * len(rows), dtype="Int64"),
            "source": np.where(label == NOISE, NOISE_SOURCE, TARGET_SOURCE),
            "file": rows["path"].astype(str).to_numpy(),
        }
    )


def merge_reviews(parts: list[pd.DataFrame], key: str) -> pd.DataFrame:
    """Several reviews' clips as one table; a clip reviewed twice keeps one row, and two
    reviews giving the same clip different labels are refused, naming both."""
    clips = pd.concat(parts, ignore_index=True) if parts else reviewed_clips(_EMPTY, "-")
    place = clips["file"] + "|" + clips["start_s"].round(3).astype(str)
    place = place + "|" + clips["end_s"].round(3).astype(str)
    labels = clips.groupby(place)["label"].nunique()
    clashing = labels[labels > 1]
    if len(clashing):
        rows = clips[place.isin(clashing.index)]
        raise ReviewedClipError(
            f"{key}: reviews disagree on the label of the same clip:\n"
            f"{rows[['recording', 'start_s', 'end_s', 'label']].to_string(max_rows=20)}"
        )
    return clips[~place.duplicated()].reset_index(drop=True)


_EMPTY = pd.DataFrame(
    columns=["recording", "path", "class", "start_s", "end_s", "verdict", "corrected_class"]
)


def refuse_benchmark_recordings(
    clips: pd.DataFrame, root_of: dict[str, str | Path], benchmarks: dict[str, list[Path]], key
) -> None:
    """Raise when a reviewed recording is a benchmark recording: the same file or one
    with the same bytes. `root_of`: each review's recordings folder (its detect run's);
    `benchmarks`: each benchmark's recording files."""
    bench = [(name, Path(f)) for name, files in benchmarks.items() for f in files]
    by_size: dict[int, list[tuple[str, Path]]] = {}
    for name, path in bench:
        by_size.setdefault(path.stat().st_size, []).append((name, path))
    for recording, file in clips[["recording", "file"]].drop_duplicates().itertuples(index=False):
        review = PurePosixPath(recording).parts[1]
        path = Path(root_of[review]) / file
        for name, other in by_size.get(path.stat().st_size, []):
            same = path.resolve() == other.resolve() or filecmp.cmp(path, other, shallow=False)
            if same:
                raise ReviewedClipError(
                    f"{key}.reviewed: review {review!r} recording {path} is benchmark "
                    f"{name!r} recording {other}; a benchmark recording never goes into "
                    "training (leave it out of the detect run or of the review)"
                )


def reviewed_splits(clips: pd.DataFrame, ratios: dict[str, float], seed: int) -> pd.Series:
    """Split per reviewed clip: whole reviewed recordings (their own tapes) to splits,
    stratified by label as far as the recordings allow."""
    if clips.empty:
        return pd.Series([], dtype=object)
    split_of = assign_group_splits(clips["tape"], clips["label"], ratios, seed)
    return clips["tape"].map(split_of)
