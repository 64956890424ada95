"""What a review sample is reviewed with: an audio snippet and a spectrogram per clip, a
Raven selection table per recording, and the versions of a sample that changed.

Snippets are the detection plus `padding_s` on each side (cut at the recording's ends), at
the recording's own rate, as 16-bit WAV; the spectrogram image shows the same span with the
detection between two lines. Raven tables (`tables/<recording>.selections.txt`) hold the
recording's clips with empty `Verdict` and `Corrected Class` columns a person fills in Raven
and saves into the verdict folder (sonoflow.review.verdicts reads them back).

A changed sample never replaces one silently: the sample in place is copied to
`results/review_history/NAME/v{k}.csv` (k counting up) before the new one is written, and
the log says how many clips were kept, dropped and added.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import spectrogram

from sonoflow.common.plots import new_figure, save_figure
from sonoflow.corpus.audio import read_span, write_wav
from sonoflow.corpus.raven import write_selection_table
from sonoflow.review.verdicts import RAVEN_SUFFIX

log = logging.getLogger(__name__)

RAVEN_VERDICT, RAVEN_CLIP, RAVEN_CORRECTION = "Verdict", "Clip", "Corrected Class"


def sample_csv(sample: pd.DataFrame) -> str:
    """The sample as the text of sample.csv (the form compared between versions)."""
    return sample.to_csv(index=False, float_format="%.4f", lineterminator="\n")


def keep_previous(path: str | Path, text: str, history: str | Path) -> Path | None:
    """Copy the sample at `path` to `history`/v{k}.csv when `text` (the new sample) differs
    from it; the copy's path, or None when there was none or nothing changed."""
    path = Path(path)
    if not path.exists() or path.read_text() == text:
        return None
    history = Path(history)
    history.mkdir(parents=True, exist_ok=True)
    numbers = [
        int(m.group(1))
        for p in history.glob("v*.csv")
        if (m := re.fullmatch(r"v(\d+)\.csv", p.name))
    ]
    kept = history / f"v{max(numbers, default=0) + 1}.csv"
    shutil.copy2(path, kept)
    old = set(pd.read_csv(path, dtype=str, keep_default_na=False)["id"])
    new = set(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)["id"])
    log.warning(
        "the sample changed: the previous one is kept as %s (%d clips kept, %d dropped, %d "
        "added); verdicts given on dropped clips stay in that version",
        kept,
        len(old & new),
        len(old - new),
        len(new - old),
    )
    return kept


def write_tables(
    sample: pd.DataFrame, root: str | Path, band: tuple[float, float], out: Path
) -> None:
    """One Raven selection table per recording of the sample, under `out`."""
    for recording, rows in sample.groupby("recording", sort=True):
        rows = rows.sort_values("start_s", kind="stable")
        table = rows.assign(
            low_hz=band[0],
            high_hz=band[1],
            **{
                "Class": rows["class"],
                "Score": rows["score"].round(4),
                RAVEN_CLIP: rows["id"],
                RAVEN_VERDICT: "",
                RAVEN_CORRECTION: "",
                "Begin Path": [str((Path(root) / p).resolve()) for p in rows["path"]],
                "File Offset (s)": rows["start_s"],
            },
        )
        extra = [
            "Class",
            "Score",
            RAVEN_CLIP,
            RAVEN_VERDICT,
            RAVEN_CORRECTION,
            "Begin Path",
            "File Offset (s)",
        ]
        write_selection_table(out / f"{recording}{RAVEN_SUFFIX}", table, extra=extra)


def write_clips(
    sample: pd.DataFrame,
    root: str | Path,
    out: Path,
    padding_s: float,
    channel: str | int = "mix",
) -> None:
    """clips/<id>.wav and clips/<id>.png of every clip of the sample."""
    out.mkdir(parents=True, exist_ok=True)
    for row in sample.to_dict("records"):
        span = (float(row["start_s"]), float(row["end_s"]))
        begin = max(span[0] - padding_s, 0.0)
        samples, rate = read_span(Path(root) / row["path"], begin, span[1] + padding_s, channel)
        write_wav(out / f"{row['id']}.wav", samples, rate)
        title = f"{row['recording']}  {row['class']} {float(row['score']):.2f}"
        plot_clip(samples, rate, begin, span, title, out / f"{row['id']}.png")


def plot_clip(
    samples: np.ndarray, rate: int, begin: float, span: tuple[float, float], title: str, path: Path
) -> None:
    """A small spectrogram of the snippet, the detection between dashed lines."""
    fig, ax = new_figure((4.8, 2.4))
    ax.grid(False)
    n_fft = int(2 ** np.ceil(np.log2(max(rate * 0.02, 64))))
    if len(samples) >= n_fft:
        freqs, times, power = spectrogram(samples, rate, nperseg=n_fft, noverlap=n_fft * 3 // 4)
        decibels = 10 * np.log10(power + 1e-12)
        low = np.percentile(decibels, 5)
        ax.pcolormesh(
            begin + times,
            freqs / 1000,
            decibels,
            shading="auto",
            cmap="magma",
            vmin=low,
            vmax=decibels.max(),
        )
    for edge in span:
        ax.axvline(edge, color="white", linestyle="--", linewidth=1)
    ax.set(xlabel="time in the recording (s)", ylabel="kHz")
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.label.set_size(7)
    ax.yaxis.label.set_size(7)
    save_figure(fig, path, dpi=80)
