"""Reading recordings: soundfile for I/O (wav, flac, mp3, ogg), librosa for resampling."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
Channel = str | int  # "mix" (mean over channels) or a 0-based channel index


class AudioError(ValueError):
    """A recording that cannot be used, with the file named."""


@dataclass(frozen=True)
class AudioInfo:
    """What the header says; nothing is decoded."""

    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def list_recordings(directory: str | Path) -> list[Path]:
    """Audio files directly in `directory`, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise AudioError(f"{directory}: recordings directory does not exist")
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)


def audio_info(path: str | Path) -> AudioInfo:
    """Sample rate, channels and length from the header alone."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioError(f"{path}: cannot read audio header ({err})") from err
    return AudioInfo(int(info.samplerate), int(info.channels), int(info.frames))


def duration_s(path: str | Path) -> float:
    return audio_info(path).duration_s


def check_channel(channel: Channel, channels: int, path: str | Path) -> None:
    if channel == "mix":
        return
    if not isinstance(channel, int) or not 0 <= channel < channels:
        raise AudioError(
            f"{path}: corpus.channel is {channel!r} but the file has {channels} channel(s) "
            f"(0-based index or 'mix')"
        )


def load_mono(path: str | Path, sample_rate: int, channel: Channel = "mix") -> np.ndarray:
    """The recording as float32 mono at `sample_rate`.

    `channel` is "mix" (the mean over channels) or a 0-based channel index. Any bit depth
    soundfile reads (8/16/24/32-bit integer, float) arrives as float32 in [-1, 1].
    Samples that are NaN or infinite raise, naming the first one.
    """
    try:
        audio, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioError(f"{path}: cannot read audio ({err})") from err
    check_channel(channel, audio.shape[1], path)
    mono = audio.mean(axis=1) if channel == "mix" else audio[:, channel]
    bad = ~np.isfinite(mono)
    if bad.any():
        first = int(np.argmax(bad))
        raise AudioError(
            f"{path}: {int(bad.sum())} sample(s) are NaN or infinite, the first at sample "
            f"{first} ({first / file_rate:.3f} s)"
        )
    if file_rate != sample_rate and mono.size:
        mono = librosa.resample(mono, orig_sr=file_rate, target_sr=sample_rate)
    return np.ascontiguousarray(mono, dtype=np.float32)
