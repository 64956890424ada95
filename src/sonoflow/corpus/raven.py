"""Raven Pro selection tables: reading (tolerant of what Raven writes) and writing."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pandas as pd

from sonoflow.common.atomic import atomic_path
from sonoflow.corpus.text import read_text

log = logging.getLogger(__name__)

BEGIN, END = "begin time (s)", "end time (s)"
LOW, HIGH = "low freq (hz)", "high freq (hz)"
RAVEN_COLUMNS = [
    "Selection",
    "View",
    "Channel",
    "Begin Time (s)",
    "End Time (s)",
    "Low Freq (Hz)",
    "High Freq (Hz)",
]


class AnnotationError(ValueError):
    """An annotation file that cannot be used, with the file and row named."""


def read_selection_table(
    path: str | Path, label_column: str, keep: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Annotations of one Raven table as (selection, start_s, end_s, low_hz, high_hz, label).

    Columns named in `keep` (matched case-insensitively) come along as text, under their
    lower-cased names; a table without one gets it empty.

    Column names are matched case-insensitively. Raven writes one row per view
    (Waveform 1, Spectrogram 1, ...) for the same selection; those duplicates (same
    selection number, times and label) are dropped.
    Rows with an empty label are dropped and logged.
    """
    path = Path(path)
    raw, columns = read_raven_raw(path)
    wanted = [BEGIN, END, label_column.lower()]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise AnnotationError(
            f"{path}: missing column(s) {missing}; found {[c for c in raw.columns if c.strip()]}"
        )
    table = pd.DataFrame(
        {
            "selection": _column(raw, columns, "selection", default=""),
            "view": _column(raw, columns, "view", default=""),
            "start_s": _numbers(raw[columns[BEGIN]], path, "Begin Time (s)"),
            "end_s": _numbers(raw[columns[END]], path, "End Time (s)"),
            "low_hz": _numbers(_column(raw, columns, LOW, default="0"), path, "Low Freq (Hz)"),
            "high_hz": _numbers(_column(raw, columns, HIGH, default="0"), path, "High Freq (Hz)"),
            "label": raw[columns[label_column.lower()]].str.strip(),
        }
    )
    for name in keep:
        table[name.lower()] = _column(raw, columns, name.lower(), default="").str.strip()
    table["row"] = table.index + 2  # 1-based file line, after the header
    bad = table[table["end_s"] < table["start_s"]]
    if len(bad):
        row = bad.iloc[0]
        raise AnnotationError(
            f"{path}, line {row['row']}: End Time (s) {row['end_s']} is before "
            f"Begin Time (s) {row['start_s']}"
        )
    table = drop_view_duplicates(table)
    empty = table["label"] == ""
    if empty.any():
        log.warning("%s: dropped %d row(s) with an empty %r", path, empty.sum(), label_column)
    table = table[~empty]
    return table.drop(columns=["view"]).reset_index(drop=True)


def read_raven_raw(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """A Raven table as strings, and its columns by stripped lower-case name.

    Raven tables are plain tab-separated text: quotes are characters of a cell, never
    quoting (a label with a `"` must not swallow the rows after it). UTF-8 and UTF-16 are
    read; other encodings raise TextEncodingError naming the line.
    """
    raw = pd.read_csv(
        io.StringIO(read_text(path)),
        sep="\t",
        dtype=str,
        keep_default_na=False,
        index_col=False,
        quoting=csv.QUOTE_NONE,
    )
    return raw, {c.strip().lower(): c for c in raw.columns}


def _column(raw: pd.DataFrame, columns: dict[str, str], name: str, default: str) -> pd.Series:
    if name in columns:
        return raw[columns[name]]
    return pd.Series([default] * len(raw), index=raw.index, dtype=str)


def _numbers(values: pd.Series, path: Path, column: str) -> pd.Series:
    numbers = pd.to_numeric(values.str.strip().replace("", "0"), errors="coerce")
    if numbers.isna().any():
        line = int(numbers.index[numbers.isna()][0]) + 2
        raise AnnotationError(
            f"{path}, line {line}: {column} is not a number: {values[line - 2]!r}"
        )
    return numbers.astype(float)


def drop_view_duplicates(table: pd.DataFrame, within: list[str] | None = None) -> pd.DataFrame:
    """One row per selection view set (per `within` columns too, such as the file of the row).

    A selection appears once per view with the same times and label; the spectrogram row
    is kept where there is one. Rows that share a selection number but differ in times or
    label (hand-edited or merged tables) are distinct calls and are all kept. Times and
    label are compared in the columns the table has: `start_s`/`end_s` (numbers) or
    `start`/`end` (text as written), and `label`. Tables without selection numbers are
    returned as they are.
    """
    numbered = table["selection"].fillna("").astype(str).str.len() > 0
    if not numbered.any():
        return table
    same = [c for c in ("start_s", "end_s", "start", "end", "label") if c in table]
    keys = [*(within or []), "selection", *same]
    table = table.assign(_spec=~table["view"].fillna("").str.lower().str.startswith("spectrogram"))
    order = [*(within or []), "_spec", "row"]
    kept = table[numbered].sort_values(order, kind="stable").drop_duplicates(subset=keys)
    table = pd.concat([kept, table[~numbered]]).sort_values([*(within or []), "row"], kind="stable")
    return table.drop(columns="_spec")


def write_selection_table(path: str | Path, events: pd.DataFrame, extra: list[str]) -> None:
    """Write events (start_s, end_s, low_hz, high_hz and `extra` columns) as a Raven table."""
    out = pd.DataFrame(
        {
            "Selection": range(1, len(events) + 1),
            "View": "Spectrogram 1",
            "Channel": 1,
            "Begin Time (s)": events["start_s"].to_numpy(),
            "End Time (s)": events["end_s"].to_numpy(),
            "Low Freq (Hz)": events["low_hz"].to_numpy(),
            "High Freq (Hz)": events["high_hz"].to_numpy(),
        }
    )
    for name in extra:
        out[name] = events[name].to_numpy()
    with atomic_path(path) as tmp:
        out.to_csv(tmp, sep="\t", index=False, float_format="%.6f")
