"""Reading sonoflow's CSV tables with their name, label and id columns as text.

pandas turns a recording named `NA`, `NaN`, `null` or `None` into a missing value and one
named `1e5` or `007` into a number, so names would no longer match (or sort: cv_folds
crashed comparing a float with a string). Every table holding such columns is read here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# columns of recording names, paths, tapes, labels and classes: read as written, never parsed
TEXT_COLUMNS = frozenset(
    {"recording", "file", "path", "tape", "label", "class", "quality", "spectrogram", "reason"}
)
# what still counts as missing in the other (numeric) columns
NA_TEXT = ["", "NA", "N/A", "NaN", "nan", "-nan", "null", "NULL", "None", "<NA>", "#N/A"]


def read_table(path: str | Path, text_columns=TEXT_COLUMNS, **kwargs) -> pd.DataFrame:
    """The CSV at `path`, its `text_columns` as strings exactly as written (an empty cell is
    ""), the other columns parsed as pandas does (numbers; empty or `NA` is missing)."""
    header = pd.read_csv(path, nrows=0, **kwargs).columns
    text = [c for c in header if c in text_columns]
    return pd.read_csv(
        path,
        dtype=dict.fromkeys(text, str),
        keep_default_na=False,
        na_values={c: NA_TEXT for c in header if c not in text},
        **kwargs,
    )
