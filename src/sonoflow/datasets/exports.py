"""Optional exports of a dataset variant: clip WAV files for ANIMAL-SPOT, a PNG per clip.

ANIMAL-SPOT reads clips named `LABEL-INFO_ID_YEAR_TAPE_STARTMS_ENDMS.wav` and a
`train.csv`, `val.csv` and `test.csv` listing one file name per line (no header). Its
filename fields are split at `_` and the class at `-`, so both are removed from labels
and tapes here. YEAR is written as 2000: sonoflow's splits are already tape-disjoint,
and ANIMAL-SPOT only needs a year in 1950-2199 to accept a file.
"""

from __future__ import annotations

import re
from pathlib import Path

import librosa
import numpy as np
import pandas as pd

from sonoflow.common.atomic import atomic_path, write_text
from sonoflow.common.plots import plt
from sonoflow.corpus.audio import Channel, load_mono, write_wav
from sonoflow.datasets.splits import SPLITS

YEAR = 2000


def _field(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", value) or "x"


def animal_spot_name(clip, number: int) -> str:
    start_ms, end_ms = round(clip.start_s * 1000), round(clip.end_s * 1000)
    return (
        f"{_field(clip.label)}-{_field(clip.source)}_{number}_{YEAR}_{_field(clip.tape)}_"
        f"{start_ms}_{end_ms}.wav"
    )


def _clip_audio(clips: pd.DataFrame, recordings: pd.DataFrame, sample_rate: int, channel: Channel):
    """(clip, samples) for every clip, each recording decoded once."""
    file_of = dict(zip(recordings["recording"], recordings["file"]))
    for recording, rows in clips.groupby("recording", sort=True):
        audio = load_mono(file_of[recording], sample_rate, channel)
        for clip in rows.itertuples(index=False):
            a, b = int(clip.start_s * sample_rate), int(clip.end_s * sample_rate)
            yield clip, audio[a : max(b, a + 1)]


def export_animal_spot(
    clips: pd.DataFrame,
    recordings: pd.DataFrame,
    out_dir: str | Path,
    sample_rate: int,
    channel: Channel,
) -> None:
    """Clip WAV files (16-bit) and train.csv, val.csv, test.csv in `out_dir`."""
    out_dir = Path(out_dir)
    number = {uid: i for i, uid in enumerate(clips["uid"])}
    names: dict[str, list[tuple[int, str]]] = {s: [] for s in SPLITS}
    for clip, samples in _clip_audio(clips, recordings, sample_rate, channel):
        name = animal_spot_name(clip, number[clip.uid])
        write_wav(out_dir / name, samples, sample_rate)
        names[clip.split].append((number[clip.uid], name))
    for split, entries in names.items():
        write_text(out_dir / f"{split}.csv", "".join(f"{n}\n" for _, n in sorted(entries)))


def export_spectrogram_pngs(
    clips: pd.DataFrame,
    recordings: pd.DataFrame,
    out_dir: str | Path,
    sample_rate: int,
    channel: Channel,
) -> None:
    """A dB spectrogram image per clip, `{uid}.png`, low frequencies at the bottom."""
    out_dir = Path(out_dir)
    for clip, samples in _clip_audio(clips, recordings, sample_rate, channel):
        n_fft = min(512, max(16, 2 ** int(np.log2(max(len(samples), 16)))))
        power = np.abs(librosa.stft(samples, n_fft=n_fft, hop_length=n_fft // 4, center=True))
        image = librosa.amplitude_to_db(power, ref=np.max, top_db=80.0)
        with atomic_path(out_dir / f"{clip.uid}.png") as tmp:
            plt.imsave(tmp, image, origin="lower", cmap="magma", format="png", vmin=-80, vmax=0)
