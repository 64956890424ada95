"""Dataset variants: target clips, mined noise and tape-disjoint splits from a corpus."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import write_csv, write_json
from .audio import duration_s, list_recordings
from .noise_mining import mine_noise
from .raven import read_selection_table
from .splits import SPLITS, assign_tape_splits

log = logging.getLogger(__name__)

NOISE = "noise"
CLIP_COLUMNS = ["uid", "recording", "tape", "start_s", "end_s", "label", "source", "split"]


class DatasetCheckError(ValueError):
    """A built dataset breaks an invariant; the message holds the offending rows."""


def find_annotation_table(annotations_dir: Path, stem: str) -> Path | None:
    """The Raven table of a recording: `{stem}.txt` or `{stem}.<anything>.txt` (Raven's naming)."""
    candidates = sorted(annotations_dir.glob(f"{stem}.*txt"))
    candidates = [p for p in candidates if p.name == f"{stem}.txt" or p.name.startswith(f"{stem}.")]
    if len(candidates) > 1:
        raise ValueError(f"{annotations_dir}: several tables match recording {stem}: {candidates}")
    return candidates[0] if candidates else None


def load_corpus(
    recordings_dir: str | Path,
    annotations_dir: str | Path,
    label_column: str,
    metadata: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(recordings, annotations) tables of a corpus. Recordings: recording, file, tape, duration_s.

    A recording without a table has no annotations: all of it may be mined for noise.
    """
    annotations_dir = Path(annotations_dir)
    recordings, annotations = [], []
    tapes = {}
    if metadata is not None and "tape" in metadata.columns:
        tapes = dict(zip(metadata["recording"].astype(str), metadata["tape"].astype(str)))
    for path in list_recordings(recordings_dir):
        table_path = find_annotation_table(annotations_dir, path.stem)
        if table_path is None:
            log.warning(
                "%s: no annotation table in %s; treated as without calls", path, annotations_dir
            )
        else:
            table = read_selection_table(table_path, label_column)
            annotations.append(table.assign(recording=path.stem))
        recordings.append(
            {
                "recording": path.stem,
                "file": str(path),
                "tape": tapes.get(path.stem, path.stem),
                "duration_s": duration_s(path),
            }
        )
    columns = ["recording", "start_s", "end_s", "low_hz", "high_hz", "label"]
    annotations = (
        pd.concat(annotations, ignore_index=True)[columns]
        if annotations
        else pd.DataFrame(columns=columns)
    )
    return pd.DataFrame(recordings), annotations


def build_clips(
    recordings: pd.DataFrame, annotations: pd.DataFrame, labels: list[str], variant: dict, seed: int
) -> tuple[pd.DataFrame, dict]:
    """Target clips for `labels`, noise clips mined per target, splits by tape."""
    rng = np.random.default_rng(seed)
    rows, counts = [], {"fallback": 0, "shortfall": 0}
    for rec in recordings.itertuples():
        on_tape = annotations[annotations["recording"] == rec.recording]
        targets = on_tape[on_tape["label"].isin(labels)].sort_values("start_s")
        outside = targets[(targets["start_s"] < 0) | (targets["end_s"] > rec.duration_s)]
        if len(outside):
            log.warning(
                "%s: %d annotation(s) outside the recording dropped", rec.file, len(outside)
            )
            targets = targets.drop(outside.index)
        spans = list(zip(targets["start_s"], targets["end_s"]))
        for (start, end), label in zip(spans, targets["label"]):
            rows.append((rec.recording, rec.tape, start, end, label, "target"))
        noise, mined = mine_noise(
            rec.duration_s,
            list(zip(on_tape["start_s"], on_tape["end_s"])),
            spans,
            per_target=variant["noise_per_target"],
            margin_s=variant["margin_s"],
            neighbourhood_s=variant["neighbourhood_s"],
            rng=rng,
        )
        for _, start, end in noise:
            rows.append((rec.recording, rec.tape, start, end, NOISE, "noise"))
        for key in counts:
            counts[key] += mined[key]
    clips = pd.DataFrame(rows, columns=CLIP_COLUMNS[1:-1])
    if clips.empty:
        raise ValueError(f"no annotations with labels {labels} in the corpus")
    clips = clips.sort_values(["recording", "start_s", "source"], kind="stable").reset_index(
        drop=True
    )
    clips.insert(0, "uid", [f"{r}_{i:05d}" for i, r in enumerate(clips["recording"])])
    split_of = assign_tape_splits(clips["tape"], variant["split"], seed)
    clips["split"] = clips["tape"].map(split_of)
    return clips, counts


def check_clips(
    clips: pd.DataFrame, annotations: pd.DataFrame, recordings: pd.DataFrame, margin_s: float
) -> None:
    """Raise with a table of offenders if a tape spans splits, noise meets an annotation,
    clips repeat, or a clip leaves its recording."""
    problems = []
    spread = clips.groupby("tape")["split"].nunique()
    if (spread > 1).any():
        problems.append(
            ("tape in several splits", clips[clips["tape"].isin(spread[spread > 1].index)])
        )
    noise = clips[clips["source"] == "noise"].merge(
        annotations, on="recording", suffixes=("", "_a")
    )
    hits = noise[
        (noise["start_s"] < noise["end_s_a"] + margin_s - 1e-9)
        & (noise["end_s"] > noise["start_s_a"] - margin_s + 1e-9)
    ]
    if len(hits):
        problems.append(("noise within margin_s of an annotation", hits))
    repeated = clips[clips.duplicated(["recording", "start_s", "end_s", "label"], keep=False)]
    if len(repeated):
        problems.append(("duplicate clips", repeated))
    lengths = clips["recording"].map(dict(zip(recordings["recording"], recordings["duration_s"])))
    outside = clips[(clips["start_s"] < 0) | (clips["end_s"] > lengths + 1e-9)]
    if len(outside):
        problems.append(("clip outside its recording", outside))
    if problems:
        text = "\n\n".join(f"{what}:\n{rows.to_string(max_rows=20)}" for what, rows in problems)
        raise DatasetCheckError(f"dataset checks failed:\n{text}")


def prepare_dataset(
    recordings_dir: str | Path,
    annotations_dir: str | Path,
    corpus: dict,
    variant: dict,
    out_dir: str | Path,
) -> pd.DataFrame:
    """Build one dataset variant into `out_dir` (clips.csv, variant_index.json)."""
    metadata = pd.read_csv(corpus["metadata"]) if corpus.get("metadata") else None
    recordings, annotations = load_corpus(
        recordings_dir, annotations_dir, corpus["label_column"], metadata
    )
    clips, mined = build_clips(recordings, annotations, corpus["labels"], variant, variant["seed"])
    check_clips(clips, annotations, recordings, variant["margin_s"])
    out_dir = Path(out_dir)
    write_csv(out_dir / "clips.csv", clips, float_format="%.6f")
    targets = clips[clips["source"] == "target"]
    counts = clips.groupby(["split", "label"]).size()
    meta = {
        "seed": variant["seed"],
        "labels": list(corpus["labels"]),
        "clips": len(clips),
        "counts": {
            s: {lab: int(counts.get((s, lab), 0)) for lab in [*corpus["labels"], NOISE]}
            for s in SPLITS
        },
        "noise_per_target_achieved": round((len(clips) - len(targets)) / max(len(targets), 1), 4),
        "noise_fallback": mined["fallback"],
        "noise_shortfall": mined["shortfall"],
        "tapes": {
            s: sorted(clips.loc[clips["split"] == s, "tape"].unique().tolist()) for s in SPLITS
        },
    }
    write_json(out_dir / "variant_index.json", {"meta": meta, "entries": clips["uid"].tolist()})
    if mined["shortfall"]:
        log.warning(
            "%d noise clip(s) could not be placed (no free slot on the tape)", mined["shortfall"]
        )
    return clips
