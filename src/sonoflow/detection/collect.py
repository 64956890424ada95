"""From a detection run's stored window scores to events, on the CPU: per-recording Raven
and CSV tables (mirroring the input's folders), all detections, a per-recording summary,
the skipped recordings, and a plot.

Events come from the benchmark evaluation's own post-processing
(`sonoflow.evaluation.benchmark.recording_events`) with the `evaluation` settings, so a
threshold chosen on a benchmark means the same here. Shards are read one recording at a
time.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sonoflow.common.atomic import atomic_path, write_csv
from sonoflow.common.tables import read_table
from sonoflow.corpus.raven import write_selection_table
from sonoflow.datasets.noise_mining import NOISE
from sonoflow.detection.shard import read_scores_meta
from sonoflow.evaluation.benchmark import recording_events

EVENT_COLUMNS = ["recording", "path", "label", "start_s", "end_s", "score", "low_hz", "high_hz"]
# AudioMoth, Song Meter and most recorders put the start in the name: 20240501_053000
TIMESTAMP = re.compile(r"(?<!\d)(\d{8})[_T-]?(\d{6})(?!\d)")


def labels_of(scores_path: str | Path) -> list[str]:
    """The detected classes of a run: the model's classes but noise."""
    return [c for c in read_scores_meta(scores_path)["classes"] if c != NOISE]


def recording_start(name: str) -> datetime | None:
    """The recording's start time from a YYYYMMDD_HHMMSS stamp in its file name, if any."""
    match = TIMESTAMP.search(Path(name).name)
    if not match:
        return None
    try:
        return datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S")
    except ValueError:
        return None


@dataclass
class CollectSettings:
    thresholds: dict[str, float]
    events: dict  # evaluation settings plus the run's hop_s (recording_events's `settings`)
    formats: list[str]
    label_column: str = "Annotation"


def collect_detections(
    shard_scores: list[str | Path],
    shard_status: list[str | Path],
    root: str | Path,
    settings: CollectSettings,
    out_dir: str | Path,
) -> pd.DataFrame:
    """Write tables/, detections.csv, summary.csv and skipped.csv under `out_dir`;
    return the summary."""
    out = Path(out_dir)
    labels = list(settings.thresholds)
    band = frequency_band(read_scores_meta(shard_scores[0])["features"])
    (out / "tables").mkdir(parents=True, exist_ok=True)
    summary = []
    with atomic_path(out / "detections.csv") as tmp, open(tmp, "w", newline="") as handle:
        pd.DataFrame(columns=[*EVENT_COLUMNS, "start_time"]).to_csv(handle, index=False)
        for status, windows in merged_recordings(shard_scores, shard_status):
            row = {**status, "start_time": _iso(recording_start(status["path"]))}
            if windows is not None:
                events = recording_detections(windows, status, labels, settings, band)
                write_tables(out / "tables", status, events, Path(root), settings)
                events.assign(start_time=_event_times(events, status["path"])).to_csv(
                    handle, header=False, index=False, float_format="%.4f"
                )
                row.update({f"events_{lab}": int((events["label"] == lab).sum()) for lab in labels})
            summary.append(row)
    summary = pd.DataFrame(summary)
    for label in labels:
        column = f"events_{label}"
        summary[column] = summary[column].astype("Int64") if column in summary else pd.NA
    write_csv(out / "summary.csv", summary, float_format="%.3f")
    skipped = summary[summary["status"] == "skipped"][["recording", "path", "reason"]]
    write_csv(out / "skipped.csv", skipped)
    return summary


def merged_recordings(
    shard_scores: list[str | Path], shard_status: list[str | Path]
) -> Iterator[tuple[dict, pd.DataFrame | None]]:
    """(status, windows or None when skipped) of every recording, in path order: each shard
    lists its recordings in path order, so a merge keeps one recording in memory at a time."""
    shards = [shard_results(s, t) for s, t in zip(shard_scores, shard_status)]
    return heapq.merge(*shards, key=lambda item: item[0]["path"])


def shard_results(scores_path, status_path) -> Iterator[tuple[dict, pd.DataFrame | None]]:
    windows = recording_windows(scores_path)
    for status in read_table(status_path).to_dict("records"):
        if status["status"] != "scored":
            yield status, None
            continue
        name, frame = next(windows)
        if name != status["recording"]:
            raise ValueError(
                f"{scores_path}: windows of {name} where {status_path} has {status['recording']}"
            )
        yield status, frame


def recording_windows(scores_path: str | Path) -> Iterator[tuple[str, pd.DataFrame]]:
    """(recording, its windows) in file order, reading one row group at a time."""
    file = pq.ParquetFile(scores_path)
    current, pending = None, []
    for index in range(file.num_row_groups):
        frame = file.read_row_group(index).to_pandas()
        for name, part in frame.groupby("recording", sort=False):
            if name != current and pending:
                yield current, pd.concat(pending, ignore_index=True)
                pending = []
            current = name
            pending.append(part)
    if pending:
        yield current, pd.concat(pending, ignore_index=True)


def recording_detections(
    windows: pd.DataFrame, status: dict, labels: list[str], settings: CollectSettings, band
) -> pd.DataFrame:
    windows = windows.astype({lab: np.float32 for lab in labels})
    parts = []
    for label in labels:
        found = recording_events(windows, [label], settings.events, settings.thresholds[label])
        found = found[label]
        parts.append(
            pd.DataFrame(
                {
                    "recording": status["recording"],
                    "path": status["path"],
                    "label": label,
                    "start_s": found[:, 0],
                    "end_s": found[:, 1],
                    "score": found[:, 2],
                    "low_hz": band[0],
                    "high_hz": band[1],
                }
            )
        )
    events = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    events = events.reindex(columns=EVENT_COLUMNS)
    return events.sort_values(["start_s", "label"], kind="stable").reset_index(drop=True)


def write_tables(
    tables: Path, status: dict, events: pd.DataFrame, root: Path, settings: CollectSettings
) -> None:
    """The recording's Raven table and/or CSV, under the recording's relative folder."""
    base = tables / status["recording"]
    if "raven" in settings.formats:
        raven = events.assign(
            **{
                settings.label_column: events["label"],
                "Score": events["score"].round(4),
                "Begin Path": str((root / status["path"]).resolve()),
                "File Offset (s)": events["start_s"],
            }
        )
        extra = [settings.label_column, "Score", "Begin Path", "File Offset (s)"]
        write_selection_table(f"{base}.selections.txt", raven, extra=extra)
    if "csv" in settings.formats:
        write_csv(f"{base}.csv", events, float_format="%.4f")


def frequency_band(features: dict) -> tuple[float, float]:
    """Detections carry no frequency; tables draw them over the model's input band."""
    return float(features["fmin"]), float(min(features["fmax"], features["sample_rate"] / 2))


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="milliseconds") if moment else ""


def _event_times(events: pd.DataFrame, path: str) -> list[str]:
    start = recording_start(path)
    if start is None:
        return [""] * len(events)
    return [_iso(start + timedelta(seconds=float(s))) for s in events["start_s"]]
