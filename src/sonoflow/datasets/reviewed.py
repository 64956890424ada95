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
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from sonoflow.corpus.audio import audio_info
from sonoflow.corpus.load import RECORDING_COLUMNS
from sonoflow.datasets.noise_mining import NOISE
from sonoflow.datasets.splits import assign_group_splits

TARGET_SOURCE, NOISE_SOURCE = "reviewed", "rejected"
PREFIX = "reviewed"


class ReviewedClipError(ValueError):
    """Reviewed clips that cannot go into a dataset; the message names them."""


@dataclass(frozen=True)
class ReviewedInput:
    """What prepare_dataset needs to add reviewed clips to a variant."""

    clips: pd.DataFrame  # merge_reviews of each review's reviewed_clips
    roots: dict[str, str | Path]  # review -> its detect run's recordings folder
    benchmarks: dict[str, list[Path]]  # benchmark -> its recording files


def review_prefix(review: str) -> str:
    """What the names of a review's recordings start with in a dataset (and its cache)."""
    return str(PurePosixPath(PREFIX) / review)


def reviewed_name(review: str, recording: str) -> str:
    """The tape and recording name of a reviewed recording in a dataset."""
    return str(PurePosixPath(review_prefix(review)) / recording)


def review_of(name: str) -> str:
    """The review a reviewed recording's dataset name (reviewed_name) comes from."""
    return PurePosixPath(name).parts[1]


def sampled_recordings(sample: pd.DataFrame) -> pd.DataFrame:
    """The recordings (name and path in the detect folder) of a review sample, once each,
    sorted: those whose spectrograms the reviewed clips are cut from."""
    columns = ["recording", "path"]
    return sample[columns].astype(str).drop_duplicates().sort_values(columns).reset_index(drop=True)


def reviewed_recordings(clips: pd.DataFrame, root_of: dict[str, str | Path]) -> pd.DataFrame:
    """A recordings row (the corpus's columns) per reviewed recording of `clips`, its file
    in its review's recordings folder; the header gives duration and sample rate."""
    rows = []
    for recording, file in clips[["recording", "file"]].drop_duplicates().itertuples(index=False):
        path = Path(root_of[review_of(recording)]) / file
        info = audio_info(path)
        rows.append(
            (recording, str(path), recording, info.duration_s, info.sample_rate, info.channels)
        )
    return pd.DataFrame(rows, columns=RECORDING_COLUMNS).sort_values("recording", kind="stable")


def reviewed_clips(table: pd.DataFrame, review: str) -> pd.DataFrame:
    """Clip rows (recording, tape, start_s, end_s, label, quality, source, file, detected)
    of one review's verdicts: yes -> target of its class; no with a corrected class ->
    target of that class; no (or corrected to noise) -> noise. `detected` is the class
    the detection had. `table` needs columns recording, path, class, start_s, end_s,
    verdict and corrected_class."""
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
            "detected": rows["class"].astype(str).to_numpy(),
        }
    )


def merge_reviews(
    parts: list[pd.DataFrame], key: str, roots: dict[str, str | Path] | None = None
) -> pd.DataFrame:
    """Several reviews' clips as one table.

    A recording reviewed in several reviews (the same file, found through `roots`, each
    review's recordings folder; without them by its path in the folder) is one tape, named
    as in the first review of `parts` that has clips on it. A detection reviewed twice
    keeps one row; two reviews giving it different labels are refused, naming both. A
    rejected detection overlapping a confirmed one (another class's call, often the same
    window detected for two classes) is left out: it says "not that class", not "no
    call", so it is no noise clip."""
    clips = pd.concat(parts, ignore_index=True) if parts else reviewed_clips(_EMPTY, "-")
    review = clips["recording"].map(review_of)
    if roots is None:
        same_file = clips["file"]
    else:
        files = zip(review, clips["file"])
        same_file = pd.Series([str((Path(roots[r]) / f).resolve()) for r, f in files])
    first = ~same_file.duplicated()
    for column in ("recording", "file"):
        clips[column] = same_file.map(dict(zip(same_file[first], clips.loc[first, column])))
    clips["tape"] = clips["recording"]
    times = clips["start_s"].round(3).astype(str) + "|" + clips["end_s"].round(3).astype(str)
    detection = same_file + "|" + times + "|" + clips["detected"]
    labels = clips.groupby(detection)["label"].nunique()
    clashing = labels[labels > 1]
    if len(clashing):
        rows = clips[detection.isin(clashing.index)]
        raise ReviewedClipError(
            f"{key}: reviews disagree on the label of the same detection:\n"
            f"{rows[['recording', 'start_s', 'end_s', 'detected', 'label']].to_string(max_rows=20)}"
        )
    keep = ~detection.duplicated() & ~_rejected_over_confirmed(clips, same_file)
    keep &= ~(same_file + "|" + times + "|" + clips["label"]).duplicated()
    return clips[keep].reset_index(drop=True)


def _rejected_over_confirmed(clips: pd.DataFrame, same_file: pd.Series) -> np.ndarray:
    """Mask of noise clips that overlap a target clip of the same recording."""
    hit = np.zeros(len(clips), dtype=bool)
    is_noise = (clips["label"] == NOISE).to_numpy()
    for _, rows in clips.groupby(same_file.to_numpy(), sort=False):
        targets = rows[rows["label"] != NOISE]
        if targets.empty:
            continue
        noise = rows[rows["label"] == NOISE]
        a, b = noise["start_s"].to_numpy()[:, None], noise["end_s"].to_numpy()[:, None]
        overlaps = (a < targets["end_s"].to_numpy()) & (b > targets["start_s"].to_numpy())
        hit[clips.index.get_indexer(noise.index[overlaps.any(axis=1)])] = True
    return hit & is_noise


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
        review = review_of(recording)
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
