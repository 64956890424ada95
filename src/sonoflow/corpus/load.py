"""A corpus: its recordings (headers only), tapes from the metadata, and its annotations.

Loading never stops at the first problem: every problem is collected (see problems.py),
so that `check_corpus` can report all of them and `prepare_dataset` can fail with all of
them at once. What is skipped instead of failing is set by the config's policy keys:
`corpus.bad_audio`, `corpus.bad_annotations` and `corpus.unannotated`; `corpus.label_match`
says whether a label differing from `corpus.labels` only by case is that label.

Benchmark ground truth is loaded by the same function (evaluation/ground_truth.py), with
reader settings taken from the benchmark's keys and, where it has none, the corpus's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sonoflow.corpus.annotations import (
    BAD_ROWS,
    read_annotations,
    recording_name,
    without_repeats,
)
from sonoflow.corpus.audio import AudioError, audio_info, check_channel, list_recordings, load_mono
from sonoflow.corpus.problems import Problems

RECORDING_COLUMNS = ["recording", "file", "tape", "duration_s", "sample_rate", "channels"]
# Raven rounds times; an annotation this little past the end is clipped, not rejected.
END_TOLERANCE_S = 1e-3


@dataclass
class Corpus:
    recordings: pd.DataFrame  # RECORDING_COLUMNS, one row per usable recording
    annotations: pd.DataFrame  # annotations.ANNOTATION_COLUMNS, every usable annotation
    problems: Problems


def corpus_paths(corpus: dict, demo_dir: str | Path) -> dict[str, str]:
    """Recordings and annotations folders (or file) of the corpus config; `demo` resolved to
    the demo corpus in `demo_dir` (the workflow's make_demo_corpus output)."""
    if corpus["recordings"] == "demo":
        return {
            "recordings": f"{demo_dir}/train/audio",
            "annotations": f"{demo_dir}/train/annotations",
        }
    if not corpus["annotations"]:
        raise ValueError(
            "config key corpus.annotations: required unless corpus.recordings is 'demo'"
        )
    return {"recordings": corpus["recordings"], "annotations": corpus["annotations"]}


def load_corpus(
    recordings_dir: str | Path,
    annotations: str | Path,
    corpus: dict,
    decode: bool = False,
    problems: Problems | None = None,
) -> Corpus:
    """Recordings and annotations with every problem collected, none raised.

    With `decode`, every recording is read in full to find NaN samples (check_corpus);
    otherwise only headers are read. `problems` collects into a given collector (one that
    names a benchmark's config keys); by default a new one for the corpus.
    """
    problems = Problems() if problems is None else problems
    recordings, rejected = _recordings(recordings_dir, corpus, problems, decode)
    recordings = _with_tapes(recordings, corpus.get("metadata"), problems)
    # Recordings rejected as bad audio still claim their annotation files, whose rows are
    # then left out with them (one problem per recording, not a second one per table).
    names = recordings["recording"].tolist() + rejected
    table, with_file = read_annotations(annotations, names, corpus, problems)
    table = _within_recordings(table, recordings, corpus, problems)
    recordings = _unannotated(recordings, {*table["recording"], *with_file}, corpus, problems)
    table = table[table["recording"].isin(recordings["recording"])]
    table = _matched_labels(table, corpus["labels"], corpus["label_match"], problems)
    table = without_repeats(table.reset_index(drop=True), corpus["bad_annotations"], problems)
    return Corpus(recordings.reset_index(drop=True), table.reset_index(drop=True), problems)


def _recordings(
    directory, corpus: dict, problems: Problems, decode: bool
) -> tuple[pd.DataFrame, list[str]]:
    """Usable recordings, and the stems of those rejected as bad audio."""
    policy, rows, rejected = corpus["bad_audio"], [], []
    key = problems.key("recordings")
    paths = list_recordings(directory, key)
    if not paths:
        problems.add(
            directory, 0, "no recordings", f"{key} holds no wav, flac, mp3 or ogg file", "error"
        )
    stems = pd.Series([p.stem for p in paths], dtype=object)
    for path, shared in zip(paths, stems.duplicated(keep=False)):
        if shared:
            problems.add(
                path,
                0,
                "shared file stem",
                "another recording has the same stem (the recording's name); rename one",
                "error",
            )
            continue
        try:
            info = audio_info(path)
            check_channel(corpus["channel"], info.channels, path, problems.key("channel"))
            if info.frames == 0:
                raise AudioError(f"{path}: no samples (header only)")
            if decode:
                load_mono(path, info.sample_rate, corpus["channel"])
        except AudioError as err:
            check = "bad audio"
            detail = str(err).removeprefix(f"{path}: ")  # the file is its own column
            problems.by_policy(path, 0, check, detail, policy, "bad_audio")
            rejected.append(path.stem)
            continue
        rows.append(
            (path.stem, str(path), path.stem, info.duration_s, info.sample_rate, info.channels)
        )
    return pd.DataFrame(rows, columns=RECORDING_COLUMNS), rejected


def _with_tapes(recordings: pd.DataFrame, metadata: str | None, problems: Problems) -> pd.DataFrame:
    """Tape of each recording from the metadata's `tape` column (default: the recording)."""
    if not metadata:
        return recordings
    try:
        table = pd.read_csv(metadata, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError) as err:
        problems.add(metadata, 0, "unreadable metadata", str(err).splitlines()[0], "error")
        return recordings
    columns = {c.strip().lower(): c for c in table.columns}
    if "recording" not in columns:
        found = list(table.columns)
        problems.add(
            metadata,
            0,
            "missing column",
            f"corpus.metadata needs a 'recording' column; found {found}",
            "error",
        )
        return recordings
    names = table[columns["recording"]].map(recording_name)
    known = set(recordings["recording"])
    for i in table.index[~names.isin(known)]:
        problems.add(
            metadata,
            i + 2,
            "unknown recording",
            f"recording {names[i]!r} is not in {problems.key('recordings')} (or was skipped)",
            "error",
        )
    for i in table.index[names.duplicated()]:
        problems.add(
            metadata, i + 2, "duplicate recording", f"second row for {names[i]!r}", "error"
        )
    if "tape" not in columns:
        return recordings
    tapes = dict(zip(names, table[columns["tape"]].str.strip()))
    missing = [r for r in recordings["recording"] if not tapes.get(r)]
    for name in missing:
        problems.add(metadata, 0, "missing tape", f"no tape given for recording {name!r}", "error")
    return recordings.assign(
        tape=recordings["recording"].map(tapes).fillna(recordings["recording"])
    )


def _within_recordings(
    table: pd.DataFrame, recordings: pd.DataFrame, corpus: dict, problems: Problems
) -> pd.DataFrame:
    """Rows past the end of their recording are reported; a rounding overshoot is clipped."""
    durations = dict(zip(recordings["recording"], recordings["duration_s"]))
    length = table["recording"].map(durations).astype(float)  # float even when empty
    past = table["end_s"] > length + END_TOLERANCE_S
    for i in table.index[past]:
        problems.by_policy(
            table.at[i, "file"],
            table.at[i, "row"],
            "past the end",
            f"ends at {table.at[i, 'end_s']} s; the recording is {length[i]:.3f} s long",
            corpus["bad_annotations"],
            BAD_ROWS,
        )
    unmatched = length.isna()  # a recording skipped as bad audio
    table = table[~past & ~unmatched].copy()
    table["end_s"] = table["end_s"].clip(upper=length[table.index])
    return table


def _unannotated(
    recordings: pd.DataFrame, annotated: set[str], corpus: dict, problems: Problems
) -> pd.DataFrame:
    """Recordings that no annotation file or row names, by `unannotated` (for benchmarks,
    `call_free` is what `negative` is for the corpus)."""
    policy = corpus["unannotated"]
    bare = recordings[~recordings["recording"].isin(annotated)]
    what = {
        "negative": ("note", "used as a recording without calls"),
        "call_free": ("note", "scored as a recording without calls"),
        "skip": ("skipped", "left out"),
        "error": ("error", "not allowed"),
    }[policy]
    for file in bare["file"]:
        detail = f"no annotation file or row: {what[1]} [{problems.key('unannotated')}: {policy}]"
        problems.add(file, 0, "unannotated recording", detail, what[0])
    if policy == "skip":
        return recordings.drop(bare.index)
    return recordings


def _matched_labels(
    table: pd.DataFrame, labels: list[str], policy: str, problems: Problems
) -> pd.DataFrame:
    """Labels that differ from one of `labels` only by case (surrounding spaces are already
    stripped) are that label with `case_insensitive`; with `exact` they are counted per file
    and label as `dropped` (never a target or reference). Other labels are a note."""
    spelling = {label.casefold(): label for label in labels}
    other = ~table["label"].isin(labels)
    meant = table["label"].str.casefold().map(spelling).where(other)
    near = meant.notna()
    key = problems.key("label_match")
    for (file, label), rows in table[near].groupby(["file", "label"], sort=True):
        counted = f"{len(rows)} row(s) labelled {label!r} ({_lines(rows['row'])})"
        target = spelling[label.casefold()]
        detail, action = f"{counted} read as {target!r}", "note"
        if policy == "exact":
            action = "dropped"
            detail = (
                f"{counted} differ from {target!r} in {problems.key('labels')} only by case, "
                f"so they are not {target!r}; correct the label, or set {key}: case_insensitive"
            )
        problems.add(
            file, int(rows["row"].iloc[0]), "label case", f"{detail} [{key}: {policy}]", action
        )
    if policy == "case_insensitive":
        table = table.assign(label=table["label"].where(~near, meant))
    for (file, label), rows in table[other & ~near].groupby(["file", "label"], sort=True):
        problems.add(
            file,
            int(rows["row"].iloc[0]),
            f"label not in {problems.key('labels')}",
            f"{len(rows)} row(s) labelled {label!r}: never a target, but noise keeps clear of them",
            "note",
        )
    return table


def _lines(rows: pd.Series, most: int = 10) -> str:
    """`line 3` or `lines 3, 5, 9` (the first `most`, then how many more)."""
    numbers = [str(r) for r in rows.iloc[:most]]
    more = f" and {len(rows) - most} more" if len(rows) > most else ""
    return f"line{'s' if len(rows) > 1 else ''} {', '.join(numbers)}{more}"
