"""Reading recordings: soundfile for I/O, librosa for resampling."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")


class AudioError(ValueError):
    """A recording that cannot be used, with the file named."""


def list_recordings(directory: str | Path) -> list[Path]:
    """Audio files directly in `directory`, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise AudioError(f"{directory}: recordings directory does not exist")
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)


def duration_s(path: str | Path) -> float:
    info = sf.info(str(path))
    return info.frames / info.samplerate


def load_mono(path: str | Path, sample_rate: int) -> np.ndarray:
    """The recording as float32 mono at `sample_rate` (channels averaged, resampled if needed)."""
    try:
        audio, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioError(f"{path}: cannot read audio ({err})") from err
    mono = audio.mean(axis=1)
    if file_rate != sample_rate and mono.size:
        mono = librosa.resample(mono, orig_sr=file_rate, target_sr=sample_rate)
    return np.ascontiguousarray(mono, dtype=np.float32)
