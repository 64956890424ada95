"""A look at the detector at work: a spectrogram excerpt with ground truth and detections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from sonoflow.common.plots import plt, save_figure
from sonoflow.corpus.audio import read_span


def choose_excerpt(
    scores: pd.DataFrame, truth: pd.DataFrame, excerpt_s: float
) -> tuple[str, float, float]:
    """(recording, start_s, end_s): the recording with most reference events, from just
    before its first one (or its start when it has none)."""
    recordings = list(dict.fromkeys(scores["recording"]))
    counts = truth["recording"].value_counts()
    ranked = sorted(recordings, key=lambda r: -counts.get(r, 0))
    recording = ranked[0]
    onsets = truth.loc[truth["recording"] == recording, "start_s"]
    start = max(0.0, float(onsets.min()) - 1.0) if len(onsets) else 0.0
    return recording, start, start + excerpt_s


def plot_excerpt(
    audio_path: str | Path,
    span: tuple[float, float],
    truth: pd.DataFrame,
    events: dict[str, np.ndarray],
    threshold: float,
    path: str | Path,
) -> None:
    """Spectrogram of `span` of the recording; reference events as white boxes over their
    band, detections (per class, at `threshold`) as coloured bars along the bottom."""
    start, end = span
    mono, rate = read_span(audio_path, start, end)
    if not mono.size:
        mono = np.zeros(1024, dtype=np.float32)
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.specgram(mono, NFFT=512, Fs=rate, noverlap=384, xextent=(start, start + len(mono) / rate))
    top = rate / 2
    for row in truth.itertuples():
        if row.end_s < start or row.start_s > end:
            continue
        low, high = (row.low_hz, row.high_hz) if row.high_hz > row.low_hz else (0, top)
        ax.add_patch(
            Rectangle(
                (row.start_s, low),
                max(row.end_s - row.start_s, 0.01),
                high - low,
                fill=False,
                edgecolor="white",
                linewidth=1.5,
            )
        )
        ax.text(row.start_s, high, row.label, color="white", fontsize=7, va="bottom")
    colours = plt.get_cmap("tab10")
    for i, (label, found) in enumerate(events.items()):
        bar = top * (0.02 + 0.05 * i)
        for s, e, _ in found:
            if e >= start and s <= end:
                ax.add_patch(
                    Rectangle((s, bar), e - s, top * 0.04, color=colours(i), alpha=0.9, linewidth=0)
                )
        ax.plot([], [], color=colours(i), linewidth=6, label=f"detected {label}")
    ax.plot([], [], color="white", label="ground truth")
    ax.set(
        xlim=(start, end),
        ylim=(0, top),
        xlabel="time (s)",
        ylabel="frequency (Hz)",
        title=f"{Path(audio_path).name}, detections at threshold {threshold:g}",
    )
    ax.legend(fontsize="x-small", loc="upper right", facecolor="0.7")
    save_figure(fig, path, dpi=110)
