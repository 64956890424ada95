"""Raven Pro selection tables: reading (tolerant of what Raven writes) and writing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from sonoflow.common.atomic import atomic_path
from sonoflow.corpus.text import read_text


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


def drop_view_duplicates(table: pd.DataFrame, same: list[str]) -> pd.DataFrame:
    """One row per selection: rows that share their selection number and every column in
    `same` (such as the file, the times and the label) are one selection shown in several
    views, and the spectrogram row is kept where there is one. Rows that share a number but
    differ in any of `same` are distinct calls (hand-edited or merged tables) and all stay.
    Tables without selection numbers are returned as they are.
    """
    numbered = table["selection"].fillna("").astype(str).str.len() > 0
    if not numbered.any():
        return table
    keys = ["selection", *same]
    table = table.assign(_spec=~table["view"].fillna("").str.lower().str.startswith("spectrogram"))
    table = table.assign(**{f"_key_{c}": table[c].fillna("").astype(str).str.strip() for c in keys})
    kept = (
        table[numbered]
        .sort_values(["_spec", "row"], kind="stable")
        .drop_duplicates(subset=[f"_key_{c}" for c in keys])
    )
    table = pd.concat([kept, table[~numbered]]).sort_index(kind="stable")
    return table.drop(columns=["_spec", *(f"_key_{c}" for c in keys)])


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
