"""Annotations of a corpus in any supported format, as one table that remembers file and row.

Formats (`corpus.annotation_format`):
  raven     Raven Pro selection tables (.txt): one per recording, matched by file stem
            (`{stem}.txt` or `{stem}.<anything>.txt`), or multi-file tables with `Begin File`
            and `File Offset (s)` columns. Column names are case-insensitive; the duplicate
            rows Raven writes per view (same selection number, times and label) are dropped,
            the spectrogram row kept.
  csv       CSV files (.csv, or `corpus.annotations` naming one file) with columns recording,
            start_s, end_s and the label column; low_hz, high_hz and a quality column optional.
  audacity  Audacity label files (.txt), one per recording matched like Raven tables:
            `start<TAB>end<TAB>label` lines, with optional `\\<TAB>low<TAB>high` lines after.

One rule (`owner_of`) decides which recording a per-recording file belongs to, for the
corpus and the benchmarks alike: exact string comparisons of dot-separated prefixes of the
file name with recording stems, never glob patterns, so names with `[`, `]`, `*` or `?` work,
and the case of the extension (`.TXT`, `.WAV`) does not matter.

The config keys named in messages come from the `Problems` collector (`corpus.*` unless a
benchmark's reader settings say otherwise).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.corpus.problems import Problems
from sonoflow.corpus.raven import drop_view_duplicates, read_raven_raw
from sonoflow.corpus.suffixes import AUDIO_SUFFIXES
from sonoflow.corpus.text import TextEncodingError, read_text

ANNOTATION_COLUMNS = [
    "recording",
    "start_s",
    "end_s",
    "low_hz",
    "high_hz",
    "label",
    "quality",
    "file",
    "row",
]
FORMAT_SUFFIXES = {"raven": (".txt",), "audacity": (".txt",), "csv": (".csv",)}
BAD_ROWS = "bad_annotations"  # the reader setting that decides about bad rows and files


def recording_name(value: str) -> str:
    """The recording a file name or path stands for: its base name without audio suffix.

    Raven writes Windows paths in `Begin File`, so both separators are understood.
    """
    name = re.split(r"[\\/]", value.strip())[-1]
    stem, dot, suffix = name.rpartition(".")
    return stem if dot and f".{suffix.lower()}" in AUDIO_SUFFIXES else name


def annotation_files(
    source: str | Path, annotation_format: str, key: str = "corpus.annotations"
) -> list[Path]:
    """The annotation files of a folder (sorted), or the one file `source` names."""
    source = Path(source)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"{key}: {source} is neither a folder nor a file")
    suffixes = FORMAT_SUFFIXES[annotation_format]
    return sorted(p for p in source.iterdir() if p.suffix.lower() in suffixes and p.is_file())


def read_annotations(
    source: str | Path, recordings: list[str], corpus: dict, problems: Problems
) -> tuple[pd.DataFrame, set[str]]:
    """Every usable annotation (ANNOTATION_COLUMNS), and the recordings that a file or a row
    annotates (a per-recording file without rows says: no calls); problems are collected.

    Rows with bad times, unknown recordings or bad quality follow `corpus.bad_annotations`;
    rows with an empty label are dropped. Times are checked against recording lengths later.
    """
    fmt, policy = corpus["annotation_format"], corpus["bad_annotations"]
    per_file = {"raven": _raven_rows, "csv": _csv_rows, "audacity": _audacity_rows}[fmt]
    known = set(recordings)
    matcher = _StemMatcher(recordings)
    frames = []
    for path in annotation_files(source, fmt, problems.key("annotations")):
        rows = per_file(path, corpus, problems)
        if rows is None:
            continue
        if "recording" not in rows:
            stem = matcher.match(path)
            if stem is None:
                problems.by_policy(
                    path,
                    0,
                    "annotation file without recording",
                    f"no recording in {problems.key('recordings')} matches this file name",
                    policy,
                    BAD_ROWS,
                )
                continue
            rows["recording"] = stem
        frames.append(rows.assign(file=str(path)))
    for stem, paths in matcher.claimed_twice():
        problems.by_policy(
            paths[1],
            0,
            "several annotation files",
            f"recording {stem} is matched by {[Path(p).name for p in paths]}; only the first "
            "is used",
            policy,
            BAD_ROWS,
        )
    with_file = set(matcher.claims)
    if not frames:
        empty = pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in ANNOTATION_COLUMNS})
        return empty, with_file
    # validated in one go: per-file pandas calls would dominate on corpora of many files
    table = pd.concat(frames, ignore_index=True)
    if "selection" in table:
        same = [c for c in ("file", "recording", "offset", "start", "end", "label") if c in table]
        table = drop_view_duplicates(table, same=same).reset_index(drop=True)
    table = _validated(table, known, corpus, problems)
    table = table[ANNOTATION_COLUMNS]
    table = table[~table["file"].isin(matcher.second_claims())]
    return table.reset_index(drop=True), with_file


REPEAT_KEY = ["recording", "start_s", "end_s", "label"]  # what makes two rows one clip


def without_repeats(table: pd.DataFrame, policy: str, problems: Problems) -> pd.DataFrame:
    """Rows that repeat an earlier row's recording, times and label (the same call twice,
    which would be one clip twice) are reported with the line they repeat, by
    `bad_annotations`; with `skip` the first of them is kept."""
    repeated = table.duplicated(REPEAT_KEY, keep="first")
    if not repeated.any():
        return table
    first = table[~repeated].reset_index().set_index(REPEAT_KEY)["index"]
    for i in table.index[repeated]:
        j = first[tuple(table.loc[i, REPEAT_KEY])]
        where = f"line {table.at[j, 'row']}"
        if table.at[j, "file"] != table.at[i, "file"]:
            where += f" of {table.at[j, 'file']}"
        problems.by_policy(
            table.at[i, "file"],
            table.at[i, "row"],
            "repeated annotation",
            f"{table.at[i, 'label']!r} at {table.at[i, 'start_s']}-{table.at[i, 'end_s']} s "
            f"of {table.at[i, 'recording']} again, as on {where}; delete one of the rows, or "
            f"set {problems.key(BAD_ROWS)}: skip to keep only the first",
            policy,
            BAD_ROWS,
        )
    return table[~repeated]


def _dtype(column: str) -> str:
    return {"quality": "Int64", "row": "int64"}.get(
        column, "float64" if column.endswith(("_s", "_hz")) else "object"
    )


def owner_of(file_name: str, stems: set[str]) -> str | None:
    """The recording a per-recording annotation file belongs to: the longest dot-separated
    prefix of its name, without the extension, that is a recording stem (`{stem}.txt`,
    `{stem}.Table.1.selections.txt`). Exact comparisons: no character is special."""
    pieces = file_name.split(".")
    for end in range(len(pieces) - 1, 0, -1):
        stem = ".".join(pieces[:end])
        if stem in stems:
            return stem
    return None


class _StemMatcher:
    """Per-recording files to recordings (`owner_of`), remembering which stem got which files."""

    def __init__(self, stems: list[str]):
        self.stems = set(stems)
        self.claims: dict[str, list[str]] = {}

    def match(self, path: Path) -> str | None:
        stem = owner_of(path.name, self.stems)
        if stem is not None:
            self.claims.setdefault(stem, []).append(str(path))
        return stem

    def claimed_twice(self) -> list[tuple[str, list[str]]]:
        return [(s, names) for s, names in sorted(self.claims.items()) if len(names) > 1]

    def second_claims(self) -> set[str]:
        return {n for _, names in self.claimed_twice() for n in names[1:]}


def _validated(
    rows: pd.DataFrame, known: set[str], corpus: dict, problems: Problems
) -> pd.DataFrame:
    """Numbers parsed, labels stripped, quality read; bad rows reported and removed."""
    policy = corpus["bad_annotations"]
    rows = rows.reset_index(drop=True)
    bad = pd.Series(False, index=rows.index)

    def report(mask: pd.Series, check: str, detail) -> None:
        nonlocal bad
        for i in rows.index[mask & ~bad]:
            file, row = rows.at[i, "file"], rows.at[i, "row"]
            problems.by_policy(file, row, check, detail(i), policy, BAD_ROWS)
        bad |= mask

    numbers = {}
    for column, name in (("start", "start time"), ("end", "end time")):
        numbers[column] = pd.to_numeric(rows[column].str.strip(), errors="coerce")
        report(
            numbers[column].isna(),
            "not a number",
            lambda i, c=column, n=name: f"{n} is not a number: {rows.at[i, c]!r}",
        )
    start, end = numbers["start"].astype(float), numbers["end"].astype(float)
    if "offset" in rows:  # rows of multi-file Raven tables: times are file offsets
        multi = rows["offset"].notna()
        offset = pd.to_numeric(rows["offset"].str.strip(), errors="coerce")
        report(
            multi & offset.isna(),
            "not a number",
            lambda i: f"File Offset (s) is not a number: {rows.at[i, 'offset']!r}",
        )
        start, end = start.where(~multi, offset), end.where(~multi, offset + (end - start))
    report(start < 0, "negative time", lambda i: f"starts at {start[i]} s, before the recording")
    report(
        end < start,
        "end before start",
        lambda i: f"ends at {end[i]} s, before its start {start[i]} s",
    )
    report(
        ~rows["recording"].isin(known),
        "unknown recording",
        lambda i: f"recording {rows.at[i, 'recording']!r} is not in {problems.key('recordings')}",
    )
    labels, quality, quality_bad = _labels_and_quality(rows, corpus)
    report(
        quality_bad, "bad quality", lambda i: f"quality {rows.at[i, 'quality']!r} is not an integer"
    )
    empty = (labels == "") & ~bad
    for i in rows.index[empty]:
        problems.add(rows.at[i, "file"], rows.at[i, "row"], "empty label", "no label", "dropped")
    keep = ~bad & ~empty
    return pd.DataFrame(
        {
            "recording": rows["recording"],
            "start_s": start.astype(float),
            "end_s": end.astype(float),
            "low_hz": _frequency(rows, "low"),
            "high_hz": _frequency(rows, "high"),
            "label": labels,
            "quality": quality,
            "file": rows["file"],
            "row": rows["row"].astype("int64"),
        }
    )[keep]


def _frequency(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows:
        return pd.Series(0.0, index=rows.index)
    return pd.to_numeric(rows[column].str.strip(), errors="coerce").fillna(0.0).astype(float)


def _labels_and_quality(rows: pd.DataFrame, corpus: dict) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Labels, quality grades (nullable integers) and a mask of unreadable grades.

    The grade comes from the quality column (an integer, optionally after a letter such as
    `Q2`), or from `corpus.quality_regex` matched against the label: its group `quality` is
    the grade and its group `label`, when present, the label (`Q1`..`Q4` suffixes).
    """
    labels = rows["label"].fillna("").str.strip()
    raw = rows["quality"].fillna("").str.strip() if "quality" in rows else None
    if raw is None and corpus.get("quality_regex"):
        found = labels.str.extract(corpus["quality_regex"])
        raw = found["quality"].fillna("")
        if "label" in found:
            labels = found["label"].fillna(labels).str.strip()
    if raw is None:
        return (
            labels,
            pd.Series(pd.NA, index=rows.index, dtype="Int64"),
            pd.Series(False, index=rows.index),
        )
    digits = raw.str.replace(r"^[A-Za-z]\s*", "", regex=True)
    quality = pd.to_numeric(digits, errors="coerce")
    bad = (raw != "") & (quality.isna() | (quality != np.floor(quality)))
    return labels, quality.where(~bad).astype("Int64"), bad


def _raven_rows(path: Path, corpus: dict, problems: Problems) -> pd.DataFrame | None:
    try:
        raw, columns = read_raven_raw(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, TextEncodingError) as err:
        _unreadable(path, err, corpus, problems)
        return None
    wanted = {"start": "begin time (s)", "end": "end time (s)", "label": corpus["label_column"]}
    multi = "begin file" in columns
    if multi:
        wanted |= {"recording": "begin file", "offset": "file offset (s)"}
    rows = _pick(raw, columns, wanted, corpus, path, problems)
    if rows is None:
        return None
    for column, name in (("low", "low freq (hz)"), ("high", "high freq (hz)")):
        if name in columns:
            rows[column] = raw[columns[name]]
    if multi:
        rows["recording"] = rows["recording"].map(recording_name)
    if "selection" in columns:  # view duplicates are dropped once all files are read
        rows["selection"] = raw[columns["selection"]].str.strip()
        rows["view"] = raw[columns["view"]] if "view" in columns else ""
    return rows


def _csv_rows(path: Path, corpus: dict, problems: Problems) -> pd.DataFrame | None:
    try:
        text = io.StringIO(read_text(path))
        raw = pd.read_csv(text, dtype=str, keep_default_na=False, index_col=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, TextEncodingError) as err:
        _unreadable(path, err, corpus, problems)
        return None
    columns = {c.strip().lower(): c for c in raw.columns}
    wanted = {
        "recording": "recording",
        "start": "start_s",
        "end": "end_s",
        "label": corpus["label_column"],
    }
    rows = _pick(raw, columns, wanted, corpus, path, problems)
    if rows is None:
        return None
    rows["recording"] = rows["recording"].map(recording_name)
    for column in ("low", "high"):
        if f"{column}_hz" in columns:
            rows[column] = raw[columns[f"{column}_hz"]]
    return rows


def _audacity_rows(path: Path, corpus: dict, problems: Problems) -> pd.DataFrame | None:
    # Audacity's format has an optional frequency line after each label, which no CSV
    # reader expresses, so it is parsed line by line here.
    try:
        lines = read_text(path).splitlines()
    except TextEncodingError as err:
        _unreadable(path, err, corpus, problems)
        return None
    rows: list[dict] = []
    for number, line in enumerate(lines, start=1):
        fields = line.split("\t")
        if fields[0].strip() == "\\":
            if rows and len(fields) >= 3:
                rows[-1]["low"], rows[-1]["high"] = fields[1], fields[2]
            continue
        if not line.strip():
            continue
        rows.append(
            {
                "start": fields[0],
                "end": fields[1] if len(fields) > 1 else "",
                "label": fields[2] if len(fields) > 2 else "",
                "low": "0",
                "high": "0",
                "row": number,
            }
        )
    frame = pd.DataFrame(rows, columns=["start", "end", "label", "low", "high", "row"]).astype(
        {"start": str, "end": str, "label": str}
    )
    if corpus.get("quality_column"):
        problems.by_policy(
            path,
            0,
            "missing column",
            f"Audacity label files have no quality column; use {problems.key('quality_regex')}",
            corpus["bad_annotations"],
            BAD_ROWS,
        )
        return None
    return frame


def _pick(
    raw: pd.DataFrame,
    columns: dict[str, str],
    wanted: dict[str, str],
    corpus: dict,
    path: Path,
    problems: Problems,
) -> pd.DataFrame | None:
    """The wanted columns (by case-insensitive name) as strings, with file line numbers."""
    if corpus.get("quality_column"):
        wanted = {**wanted, "quality": corpus["quality_column"]}
    missing = [name for name in wanted.values() if name.lower() not in columns]
    if missing:
        found = [c for c in raw.columns if c.strip() and not c.startswith("Unnamed:")]
        problems.by_policy(
            path,
            0,
            "missing column",
            f"missing column(s) {missing}; found {found}",
            corpus["bad_annotations"],
            BAD_ROWS,
        )
        return None
    rows = pd.DataFrame({key: raw[columns[name.lower()]] for key, name in wanted.items()})
    rows["row"] = np.arange(len(raw)) + 2  # 1-based file line, after the header
    return rows


def _unreadable(path: Path, err: Exception, corpus: dict, problems: Problems) -> None:
    if isinstance(err, pd.errors.EmptyDataError):
        problems.by_policy(path, 0, "empty file", "no header", corpus["bad_annotations"], BAD_ROWS)
    elif isinstance(err, TextEncodingError):
        problems.by_policy(
            path, err.line, "encoding", err.detail, corpus["bad_annotations"], BAD_ROWS
        )
    else:
        problems.by_policy(
            path, 0, "unreadable", str(err).splitlines()[0], corpus["bad_annotations"], BAD_ROWS
        )
