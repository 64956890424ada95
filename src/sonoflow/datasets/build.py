"""Dataset variants: target clips, mined noise and group-disjoint splits from a corpus."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.common.schema import section_with_defaults
from sonoflow.corpus.load import Corpus, load_corpus
from sonoflow.datasets.noise_mining import NOISE, mine_tape_noise
from sonoflow.datasets.outputs import write_variant
from sonoflow.datasets.reviewed import (
    ReviewedInput,
    refuse_benchmark_recordings,
    reviewed_recordings,
    reviewed_splits,
)
from sonoflow.datasets.selection import select_targets
from sonoflow.datasets.splits import assign_group_splits

log = logging.getLogger(__name__)

CLIP_COLUMNS = [
    "uid",
    "recording",
    "tape",
    "start_s",
    "end_s",
    "label",
    "quality",
    "source",
    "split",
    "target",
]
GROUP_COLUMN = {"tape": "tape", "recording": "recording", "none": "target"}


class DatasetCheckError(ValueError):
    """A built dataset breaks an invariant; the message holds the offending rows."""


def build_clips(corpus: Corpus, labels: list[str], variant: dict) -> tuple[pd.DataFrame, dict]:
    """Target clips, noise mined per target, and splits; with counts of the noise mining."""
    rng = np.random.default_rng(variant["seed"])
    tape_of = dict(zip(corpus.recordings["recording"], corpus.recordings["tape"]))
    annotations = corpus.annotations.assign(tape=corpus.annotations["recording"].map(tape_of))
    targets = select_targets(annotations, labels, variant, rng)
    if targets.empty:
        raise ValueError(
            f"no annotations with labels {labels} are left for this dataset (after min_quality "
            "and balancing); check corpus.labels, corpus.label_column and the variant's filters"
        )
    targets = targets.sort_values(["recording", "start_s", "end_s", "label"], kind="stable")
    columns = ["recording", "tape", "start_s", "end_s", "label", "quality"]
    target_rows = list(targets[columns].itertuples(index=False))
    noise_rows, counts = _mine_noise(corpus, annotations, targets, variant, rng)
    clips = _clip_table(target_rows, noise_rows)
    clips["split"] = _splits(clips, variant)
    return clips[CLIP_COLUMNS], counts


def _mine_noise(
    corpus: Corpus,
    annotations: pd.DataFrame,
    targets: pd.DataFrame,
    variant: dict,
    rng: np.random.Generator,
) -> tuple[list[tuple], dict[str, int]]:
    """Noise rows per tape, each naming its target by position in `targets`, and the counts.

    The fallback reaches the tape's other recordings only when `group_by` is `tape` or
    `none`: with `recording`, noise on another recording would put that recording's clips
    in its target's split, so noise stays on its target's recording.
    """
    busy_of = {r: rows for r, rows in annotations.groupby("recording", sort=False)}
    no_calls = annotations.iloc[:0]
    counts = {"wanted": 0, "fallback": 0, "fallback_other_recording": 0, "shortfall": 0}
    rows = []
    positioned = targets.assign(position=np.arange(len(targets)))
    tape_recordings = corpus.recordings.groupby("tape", sort=False)
    for tape, tape_targets in positioned.groupby("tape", sort=True):
        recordings = tape_recordings.get_group(tape).sort_values("recording")
        timelines = {}
        for recording, duration in zip(recordings["recording"], recordings["duration_s"]):
            busy = busy_of.get(recording, no_calls)
            timelines[recording] = (duration, list(zip(busy["start_s"], busy["end_s"])))
        mined, tally = mine_tape_noise(
            timelines,
            list(zip(tape_targets["recording"], tape_targets["start_s"], tape_targets["end_s"])),
            per_target=variant["noise_per_target"],
            margin_s=variant["margin_s"],
            neighbourhood_s=variant["neighbourhood_s"],
            rng=rng,
            length_s=variant["noise_duration_s"],
            fallback=variant["fallback"],
            across_recordings=variant["group_by"] != "recording",
        )
        position = tape_targets["position"].to_numpy()
        for index, recording, start, end in mined:
            rows.append((recording, tape, start, end, NOISE, pd.NA, "noise", int(position[index])))
        for key in counts:
            counts[key] += tally[key]
    return rows, counts


def _clip_table(target_rows: list, noise_rows: list) -> pd.DataFrame:
    """Targets and noise, sorted by recording and time, with uids; noise names its target."""
    columns = ["recording", "tape", "start_s", "end_s", "label", "quality", "source", "of"]
    targets = pd.DataFrame(
        [(*row, "target", i) for i, row in enumerate(target_rows)], columns=columns
    )
    noise = pd.DataFrame(noise_rows, columns=columns)
    clips = pd.concat([targets, noise], ignore_index=True) if len(noise) else targets
    clips = clips.sort_values(
        ["recording", "start_s", "source", "end_s"], kind="stable"
    ).reset_index(drop=True)
    clips.insert(0, "uid", [f"{r}_{i:05d}" for i, r in enumerate(clips["recording"])])
    is_target = clips["source"] == "target"
    uid_of_target = dict(zip(clips.loc[is_target, "of"], clips.loc[is_target, "uid"]))
    clips["target"] = clips["of"].map(uid_of_target)
    clips["quality"] = clips["quality"].astype("Int64")
    return clips.drop(columns="of")


def _splits(clips: pd.DataFrame, variant: dict) -> pd.Series:
    """Split per clip: whole groups assigned by their targets; noise follows its target."""
    group = clips[GROUP_COLUMN[variant["group_by"]]]
    targets = clips["source"] == "target"
    strata = clips["label"] + "|" + clips["quality"].astype("string").fillna("-")
    if variant["strategy"] == "proportional_by_tape":
        strata = pd.Series("all", index=clips.index)  # shares of clips, not of each stratum
    split_of = assign_group_splits(
        group[targets], strata[targets], variant["split"], variant["seed"]
    )
    return group.map(split_of)


def check_splits_filled(clips: pd.DataFrame, variant: dict, key: str) -> None:
    """Every split with a positive share holds targets; else name the key and the fix."""
    targets = clips[clips["source"] == "target"]
    groups = targets[GROUP_COLUMN[variant["group_by"]]].nunique()
    for split, share in variant["split"].items():
        if share > 0 and not (targets["split"] == split).any():
            raise ValueError(
                f"{key}.split.{split}: {share} of the targets asked for, but the corpus has "
                f"only {groups} {variant['group_by']} group(s) with targets for "
                f"{len([s for s in variant['split'].values() if s > 0])} splits; set "
                f"{key}.split.{split} to 0, add tapes, or use {key}.group_by: recording or none"
            )


def with_reviewed(
    clips: pd.DataFrame,
    corpus: Corpus,
    reviewed: ReviewedInput,
    labels: list[str],
    variant: dict,
    key: str,
) -> tuple[pd.DataFrame, Corpus]:
    """The variant's clips and corpus with the reviewed clips and recordings added: each
    reviewed recording its own tape, split whole (stratified by label); a reviewed target
    is its own target, a rejected clip (noise) names none."""
    extra = reviewed.clips
    if extra.empty:
        return clips, corpus
    unknown = sorted(set(extra.loc[extra["label"] != NOISE, "label"]) - set(labels))
    if unknown:
        raise ValueError(
            f"{key}.reviewed: reviewed clips are labelled {unknown}, which are not labels of "
            f"this variant {labels} (set {key}.labels, or correct those verdicts)"
        )
    refuse_benchmark_recordings(extra, reviewed.roots, reviewed.benchmarks, key)
    added = reviewed_recordings(extra, reviewed.roots)
    # a detection's last window may reach past its recording's end (scored padded)
    duration = extra["recording"].map(dict(zip(added["recording"], added["duration_s"])))
    extra = extra.assign(end_s=np.minimum(extra["end_s"], duration))
    extra = extra[extra["end_s"] > extra["start_s"]]
    extra = extra.sort_values(["recording", "start_s", "end_s", "label"], kind="stable")
    extra = extra.reset_index(drop=True)
    extra["split"] = reviewed_splits(extra, variant["split"], variant["seed"])
    extra.insert(0, "uid", [f"{r}_{i:05d}" for i, r in enumerate(extra["recording"])])
    extra["target"] = extra["uid"].where(extra["label"] != NOISE)
    added = added[added["recording"].isin(extra["recording"])]
    recordings = pd.concat([corpus.recordings, added], ignore_index=True)
    combined = pd.concat([clips, extra[CLIP_COLUMNS]], ignore_index=True)
    combined["quality"] = combined["quality"].astype("Int64")
    return combined, dataclasses.replace(corpus, recordings=recordings)


def check_clips(clips: pd.DataFrame, corpus: Corpus, margin_s: float, group_by: str) -> None:
    """Raise with a table of offenders if a group spans splits, noise comes within `margin_s`
    of an annotation or overlaps other noise, clips repeat, or a clip leaves its recording."""
    problems = []
    if group_by != "none":
        spread = clips.groupby(group_by)["split"].nunique()
        if (spread > 1).any():
            rows = clips[clips[group_by].isin(spread[spread > 1].index)]
            problems.append((f"{group_by} in several splits", rows))
    noise = clips[clips["source"] == "noise"]
    timeline = _Timeline(corpus.recordings)
    near = timeline.overlapping(noise, corpus.annotations, margin_s)
    if near.any():
        problems.append(("noise within margin_s of an annotation", noise[near]))
    crowded = timeline.self_overlapping(noise)
    if crowded.any():
        problems.append(("noise overlapping other noise", noise[crowded]))
    repeated = clips[clips.duplicated(["recording", "start_s", "end_s", "label"], keep=False)]
    if len(repeated):
        problems.append(("duplicate clips", repeated))
    lengths = clips["recording"].map(timeline.length)
    outside = clips[(clips["start_s"] < 0) | ~(clips["end_s"] <= lengths + 1e-9)]
    if len(outside):
        problems.append(("clip outside its recording", outside))
    if problems:
        text = "\n\n".join(f"{what}:\n{rows.to_string(max_rows=20)}" for what, rows in problems)
        raise DatasetCheckError(f"dataset checks failed:\n{text}")


class _Timeline:
    """All recordings laid end to end with gaps, so that interval overlaps across the
    corpus are one sorted search instead of a join per recording."""

    def __init__(self, recordings: pd.DataFrame):
        self.length = dict(zip(recordings["recording"], recordings["duration_s"]))
        gaps = recordings["duration_s"].to_numpy() + 1e6
        self.offset = dict(
            zip(recordings["recording"], np.concatenate([[0], np.cumsum(gaps)[:-1]]))
        )

    def _global(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        shift = frame["recording"].map(self.offset).to_numpy(dtype=float)
        return frame["start_s"].to_numpy() + shift, frame["end_s"].to_numpy() + shift

    def overlapping(self, clips: pd.DataFrame, busy: pd.DataFrame, margin_s: float) -> np.ndarray:
        """Mask of `clips` that come closer than `margin_s` to an interval of `busy`."""
        if clips.empty or busy.empty:
            return np.zeros(len(clips), dtype=bool)
        b_start, b_end = self._global(busy)
        order = np.argsort(b_start, kind="stable")
        b_start, b_end = b_start[order] - margin_s + 1e-9, b_end[order] + margin_s - 1e-9
        reach = np.maximum.accumulate(b_end)  # the furthest end of the intervals up to here
        c_start, c_end = self._global(clips)
        before = np.searchsorted(b_start, c_end, side="left")  # intervals starting before c_end
        return (before > 0) & (reach[np.maximum(before - 1, 0)] > c_start)

    def self_overlapping(self, clips: pd.DataFrame) -> np.ndarray:
        """Mask of `clips` that overlap an earlier one of `clips`."""
        start, end = self._global(clips)
        order = np.argsort(start, kind="stable")
        reach = np.maximum.accumulate(end[order])
        hit = np.zeros(len(clips), dtype=bool)
        hit[order[1:]] = start[order][1:] < reach[:-1] - 1e-9
        return hit


def prepare_dataset(
    recordings_dir: str | Path,
    annotations: str | Path,
    corpus_config: dict,
    variant: dict,
    out_dir: str | Path,
    key: str = "datasets.NAME",
    reviewed: ReviewedInput | None = None,
) -> pd.DataFrame:
    """Build one dataset variant into `out_dir`; fail with every corpus problem at once.

    `corpus_config` and `variant` are config sections; missing keys take their defaults;
    `key` is the variant's config key, named in errors. `reviewed`: clips of reviewed
    detections (datasets.reviewed) to add, on their own tapes.
    With `corpus.bad_audio: skip` every recording is decoded, so that one with NaN or
    infinite samples is left out here exactly as the spectrogram cache leaves it out.
    """
    corpus_config = section_with_defaults("corpus", corpus_config)
    variant = section_with_defaults("dataset", variant)
    decode = corpus_config["bad_audio"] == "skip"
    corpus = load_corpus(recordings_dir, annotations, corpus_config, decode=decode)
    corpus.problems.raise_errors()
    labels = variant["labels"] or list(corpus_config["labels"])
    clips, counts = build_clips(corpus, labels, variant)
    check_splits_filled(clips, variant, key)
    if reviewed is not None:
        clips, corpus = with_reviewed(clips, corpus, reviewed, labels, variant, key)
    check_clips(clips, corpus, variant["margin_s"], variant["group_by"])
    write_variant(Path(out_dir), clips, corpus, labels, variant, counts)
    if counts["shortfall"]:
        log.warning("%d noise clip(s) could not be placed (no free slot)", counts["shortfall"])
    if counts["fallback"]:
        log.info(
            "%d noise clip(s) placed outside their target's neighbourhood, %d of them on "
            "another recording of the tape",
            counts["fallback"],
            counts["fallback_other_recording"],
        )
    return clips
