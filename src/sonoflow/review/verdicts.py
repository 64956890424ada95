"""Verdicts on a review sample, read from the folder a person filled (never from results/).

A verdict file is either an exported `sample.csv` (any `*.csv` with columns `id` and
`verdict`) or a Raven selection table (`*.txt`) with columns `Clip` and `Verdict`, as the
review sample writes one per recording. An optional correction column (`corrected_class`
in a CSV, `Corrected Class` in a Raven table) names the class a wrongly labelled detection
really is. Every file in the folder is read; a clip may appear in several of them (the page's
export and the Raven tables) as long as its verdicts agree.

Accepted words, in any case: yes, y, true, 1 (the detection is right); no, n, false, 0 (it
is wrong); unsure, u (counted, left out). An empty cell is unreviewed (counted, left out,
never taken as wrong).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from sonoflow.corpus.raven import read_raven_raw

YES, NO, UNSURE = "yes", "no", "unsure"
WORDS = {
    **dict.fromkeys(["yes", "y", "true", "1"], YES),
    **dict.fromkeys(["no", "n", "false", "0"], NO),
    **dict.fromkeys(["unsure", "u"], UNSURE),
}
ACCEPTED = "yes/no/unsure, y/n/u, true/false, 1/0 (any case), or empty for unreviewed"
CSV_CORRECTION = ("corrected_class", "correction")
RAVEN_CORRECTION = ("corrected class", "correction")
RAVEN_SUFFIX = ".selections.txt"
NOISE_WORDS = {"noise", "none"}  # a correction saying the detection is no call at all


class VerdictError(ValueError):
    """A bad verdict file; the message names the file and the row."""


@dataclass
class Verdicts:
    """The sample with each clip's verdict.

    `table` is the sample (its rows and columns) plus `verdict` (yes, no, unsure or ""),
    `correct` (1.0, 0.0 or NaN for unsure and unreviewed), `corrected_class` ("" when the
    detected class stands or nobody said) and `source` (file:row of the verdict)."""

    table: pd.DataFrame
    files: list[str]

    def counts(self) -> pd.DataFrame:
        """Per class: clips sampled, yes, no, unsure, unreviewed."""
        verdict = self.table["verdict"].replace("", "unreviewed")
        counts = pd.crosstab(self.table["class"], verdict)
        counts = counts.reindex(columns=[YES, NO, UNSURE, "unreviewed"], fill_value=0)
        counts.insert(0, "sampled", counts.sum(axis=1))
        return counts.rename_axis(index="class", columns=None)


def verdict_files(folder: str | Path) -> list[Path]:
    """The verdict files of a folder, at any depth, sorted; hidden files left out."""
    folder = Path(folder)
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in (".csv", ".txt")
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def read_verdicts(
    folder: str | Path, sample: pd.DataFrame, classes: list[str] | None = None
) -> Verdicts:
    """The verdicts of every file in `folder` on the clips of `sample` (its `id`,
    `recording` and `class` columns). `classes`: the classes a correction may name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VerdictError(f"{folder}: the verdict folder does not exist")
    ids = sample["id"].astype(str)
    if ids.duplicated().any():
        raise VerdictError(f"the sample repeats clip ids {sorted(set(ids[ids.duplicated()]))}")
    by_id = dict(zip(ids, sample.to_dict("records")))
    files = verdict_files(folder)
    found: dict[str, dict] = {}  # clip id -> verdict, correction, source
    for path in files:
        rows = _read_file(path)
        for where, clip, word, correction in rows:
            if clip not in by_id:
                raise VerdictError(f"{where}: clip id {clip!r} is not in the review sample")
            clip_row = by_id[clip]
            verdict = _word(word, where)
            correction = _correction(correction, clip_row, classes, where)
            if correction and verdict == YES:
                verdict = NO  # another class than the detected one: wrong for its class
            if path.name.endswith(RAVEN_SUFFIX):
                _check_recording(path, folder, clip_row, where)
            if not verdict and not correction:
                continue
            if correction and not verdict:
                verdict = NO
            seen = found.get(clip)
            if seen and (seen["verdict"], seen["corrected_class"]) != (verdict, correction):
                raise VerdictError(
                    f"{where}: clip {clip} is {_said(verdict, correction)} here but "
                    f"{_said(seen['verdict'], seen['corrected_class'])} in {seen['source']}"
                )
            found.setdefault(clip, {"verdict": verdict, "corrected_class": correction})
            found[clip].setdefault("source", where)
    table = sample.copy()
    got = [found.get(c, {}) for c in ids]
    table["verdict"] = [g.get("verdict", "") for g in got]
    table["corrected_class"] = [g.get("corrected_class", "") for g in got]
    table["source"] = [g.get("source", "") for g in got]
    table["correct"] = table["verdict"].map({YES: 1.0, NO: 0.0}).astype(float)
    return Verdicts(table, [str(p) for p in files])


def _read_file(path: Path) -> list[tuple[str, str, str, str]]:
    """(file:row, clip id, verdict word, correction) of each row of one verdict file."""
    if path.suffix.lower() == ".csv":
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        names = {c.strip().lower(): c for c in table.columns}
        clip, verdict, corrections, first_row = "id", "verdict", CSV_CORRECTION, 2
    else:
        table, names = read_raven_raw(path)
        clip, verdict, corrections, first_row = "clip", "verdict", RAVEN_CORRECTION, 2
    missing = [c for c in (clip, verdict) if c not in names]
    if missing:
        wanted = "`id` and `verdict`" if path.suffix.lower() == ".csv" else "`Clip` and `Verdict`"
        raise VerdictError(
            f"{path}: no column {', '.join(missing)}; a verdict file has columns {wanted} "
            f"(columns found: {list(table.columns)})"
        )
    correction = next((names[c] for c in corrections if c in names), None)
    rows = []
    for number, row in enumerate(table.to_dict("records"), start=first_row):
        clip_id = str(row[names[clip]]).strip()
        if not clip_id:
            continue
        fixed = str(row[correction]).strip() if correction else ""
        rows.append((f"{path} row {number}", clip_id, str(row[names[verdict]]), fixed))
    return rows


def _word(word: str, where: str) -> str:
    text = word.strip().lower()
    if not text:
        return ""
    if text not in WORDS:
        raise VerdictError(f"{where}: unknown verdict {word!r}; accepted: {ACCEPTED}")
    return WORDS[text]


def _correction(text: str, clip_row: dict, classes: list[str] | None, where: str) -> str:
    """The corrected class, or "" when none is given or it is the detected class."""
    if not text or text == clip_row["class"]:
        return ""
    if text.lower() in NOISE_WORDS:
        return "noise"
    if classes is not None and text not in classes:
        raise VerdictError(
            f"{where}: corrected class {text!r} is not one of the classes {classes} or `noise`"
        )
    return text


def _check_recording(path: Path, folder: Path, clip_row: dict, where: str) -> None:
    """A Raven table is named after its recording; a clip of another recording in it means
    the table was saved over another recording's (or copied under the wrong name)."""
    named = path.relative_to(folder).as_posix()[: -len(RAVEN_SUFFIX)]
    recording = str(clip_row["recording"])
    if recording == named or PurePosixPath(recording).name == PurePosixPath(named).name:
        return
    raise VerdictError(
        f"{where}: clip {clip_row['id']} is of recording {recording!r}, but this table is "
        f"of recording {named!r} (by its name)"
    )


def _said(verdict: str, correction: str) -> str:
    return f"{verdict!r}" + (f" (corrected to {correction!r})" if correction else "")


def reviewed(table: pd.DataFrame) -> pd.DataFrame:
    """The rows with a yes or no verdict."""
    return table[np.isfinite(table["correct"].to_numpy(dtype=float))]
