"""The plot of a detection run: detections per hour of day and per recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.common.plots import new_figure, save_figure

MOST_RECORDINGS = 40  # recordings shown, those with most detections


def plot_detections(detections: pd.DataFrame, labels: list[str], path: str | Path) -> None:
    fig, (by_hour, by_recording) = new_figure((13, 5), ncols=2)
    timed = detections[detections["start_time"].fillna("").astype(str) != ""]
    hours = np.arange(24)
    bottom = np.zeros(24)
    for label in labels:
        of_label = timed[timed["label"] == label]
        counts = pd.to_datetime(of_label["start_time"], format="ISO8601").dt.hour.value_counts()
        heights = counts.reindex(hours, fill_value=0).to_numpy()
        by_hour.bar(hours, heights, bottom=bottom, label=label)
        bottom += heights
    by_hour.set(xlabel="hour of day", ylabel="detections", xticks=range(0, 24, 3))
    by_hour.set_title("per hour of day (start time from the file name)")
    if timed.empty:
        by_hour.text(
            0.5,
            0.5,
            "no YYYYMMDD_HHMMSS start times\nin the file names",
            ha="center",
            va="center",
            transform=by_hour.transAxes,
        )
    counts = detections.groupby(["recording", "label"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=labels, fill_value=0)
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index[:MOST_RECORDINGS]]
    left = np.zeros(len(counts))
    for label in labels:
        by_recording.barh(counts.index, counts[label], left=left, label=label)
        left += counts[label].to_numpy()
    by_recording.invert_yaxis()
    by_recording.tick_params(axis="y", labelsize=7)
    by_recording.set(xlabel="detections")
    by_recording.set_title(f"per recording (the {MOST_RECORDINGS} with most)")
    if labels:
        by_hour.legend()
    save_figure(fig, path)
