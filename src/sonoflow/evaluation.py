"""Evaluation on CPU: thresholds -> events -> one-to-one matching -> precision, recall, F1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import find_annotation_table
from .events import detect_events, window_spans
from .matching import match_events
from .raven import read_selection_table, write_selection_table

ALL = "all"


def read_ground_truth(
    annotations_dir: str | Path, recordings: list[str], label_column: str
) -> pd.DataFrame:
    """Reference events of the given recordings; a recording without a table has none."""
    parts = []
    for name in recordings:
        table = find_annotation_table(Path(annotations_dir), name)
        if table is not None:
            parts.append(read_selection_table(table, label_column).assign(recording=name))
    columns = ["recording", "start_s", "end_s", "low_hz", "high_hz", "label"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def evaluate_scores(
    scores: pd.DataFrame,
    truth: pd.DataFrame,
    labels: list[str],
    settings: dict,
    events_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Metrics per threshold and class, plus micro-averaged `all`.

    Writes Raven tables of the events when `events_dir` is given.
    """
    rows = []
    recordings = list(dict.fromkeys(scores["recording"]))
    bands = {lab: _band(truth[truth["label"] == lab]) for lab in labels}
    for threshold in settings["thresholds"]:
        counts = {lab: np.zeros(3, dtype=int) for lab in labels}
        for recording in recordings:
            windows = scores[scores["recording"] == recording]
            spans = window_spans(
                windows["start_s"].to_numpy(),
                windows["end_s"].to_numpy(),
                settings["hop_s"],
                settings["event_extent"],
            )
            found = []
            for lab in labels:
                events = detect_events(
                    spans,
                    windows[lab].to_numpy(),
                    threshold,
                    settings["merge_gap_s"],
                    settings["min_duration_s"],
                )
                ref = truth[(truth["recording"] == recording) & (truth["label"] == lab)]
                ref_spans = ref[["start_s", "end_s"]].to_numpy(dtype=float)
                tp = len(match_events(ref_spans, events[:, :2], settings["min_iou"]))
                counts[lab] += (tp, len(events) - tp, len(ref) - tp)
                found.append(
                    pd.DataFrame(
                        {
                            "start_s": events[:, 0],
                            "end_s": events[:, 1],
                            "low_hz": bands[lab][0],
                            "high_hz": bands[lab][1],
                            "Annotation": lab,
                            "Score": events[:, 2].round(4),
                        }
                    )
                )
            if events_dir is not None:
                table = pd.concat(found).sort_values("start_s", kind="stable")
                path = (
                    Path(events_dir) / f"threshold_{threshold:.2f}" / f"{recording}.selections.txt"
                )
                write_selection_table(path, table, extra=["Annotation", "Score"])
        for lab, (tp, fp, fn) in counts.items():
            rows.append(_scores_row(threshold, lab, tp, fp, fn))
        rows.append(_scores_row(threshold, ALL, *np.sum(list(counts.values()), axis=0)))
    return pd.DataFrame(rows)


def _scores_row(threshold: float, label: str, tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": threshold,
        "class": label,
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def _band(reference: pd.DataFrame) -> tuple[float, float]:
    # Detections carry no frequency; draw them over the band their class has in the ground truth.
    if reference.empty:
        return 0.0, 0.0
    return float(reference["low_hz"].min()), float(reference["high_hz"].max())
