"""Recordings in and out: the one place that calls soundfile (wav, flac, mp3, ogg) for header
information, whole or partial reads, and writing, and the one channel selector; librosa
resamples. Streaming reads of long recordings (audio_blocks.py) open files through here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from sonoflow.common.atomic import atomic_path
from sonoflow.corpus.suffixes import AUDIO_SUFFIXES

Channel = str | int  # "mix" (mean over channels) or a 0-based channel index
DECODE_ERRORS = (sf.LibsndfileError, RuntimeError)  # what soundfile raises on a bad file


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


def list_recordings(directory: str | Path, key: str = "corpus.recordings") -> list[Path]:
    """Audio files directly in `directory`, sorted by name (`key`: the config key naming it)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise AudioError(f"{directory}: recordings directory does not exist (config key {key})")
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)


def audio_info(path: str | Path) -> AudioInfo:
    """Sample rate, channels and length from the header alone."""
    try:
        info = sf.info(str(path))
    except DECODE_ERRORS as err:
        raise AudioError(f"{path}: cannot read audio header ({err})") from err
    return AudioInfo(int(info.samplerate), int(info.channels), int(info.frames))


def duration_s(path: str | Path) -> float:
    return audio_info(path).duration_s


@contextmanager
def open_audio(path: str | Path) -> Iterator[sf.SoundFile]:
    """The recording opened for reading, for block-wise reads; unreadable files raise AudioError."""
    try:
        handle = sf.SoundFile(str(path))
    except DECODE_ERRORS as err:
        raise AudioError(f"{path}: cannot read audio ({err})") from err
    with handle:
        yield handle


def check_channel(
    channel: Channel, channels: int, path: str | Path, key: str = "corpus.channel"
) -> None:
    """`channel` is `mix` or a 0-based channel index the file has; otherwise AudioError naming
    the file and the config key (`key`) that chose the channel."""
    if channel == "mix":
        return
    if not isinstance(channel, int) or not 0 <= channel < channels:
        raise AudioError(
            f"{path}: channel {channel!r} requested, but the file has {channels} channel(s) "
            f"(set {key} to `mix` or a 0-based channel number)"
        )


def select_channel(
    frames: np.ndarray, channel: Channel, path: str | Path, key: str = "corpus.channel"
) -> np.ndarray:
    """(frames, channels) float32 -> (frames,): `mix` averages the channels, an int picks one."""
    check_channel(channel, frames.shape[1], path, key)
    if channel == "mix":
        return frames.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(frames[:, channel])


def load_mono(path: str | Path, sample_rate: int, channel: Channel = "mix") -> np.ndarray:
    """The recording as float32 mono at `sample_rate`.

    `channel` is "mix" (the mean over channels) or a 0-based channel index. Any bit depth
    soundfile reads (8/16/24/32-bit integer, float) arrives as float32 in [-1, 1].
    Samples that are NaN or infinite raise, naming the first one.
    """
    try:
        audio, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except DECODE_ERRORS as err:
        raise AudioError(f"{path}: cannot read audio ({err})") from err
    mono = select_channel(audio, channel, path)
    bad = ~np.isfinite(mono)
    if bad.any():
        first = int(np.argmax(bad))
        raise AudioError(
            f"{path}: {int(bad.sum())} sample(s) are NaN or infinite, the first at sample "
            f"{first} ({first / file_rate:.3f} s)"
        )
    if file_rate != sample_rate and mono.size:
        import librosa  # here: the DAG imports this module (for corpus checks) and needs no librosa

        mono = librosa.resample(mono, orig_sr=file_rate, target_sr=sample_rate)
    return np.ascontiguousarray(mono, dtype=np.float32)


def read_span(
    path: str | Path, start_s: float, end_s: float, channel: Channel = "mix"
) -> tuple[np.ndarray, int]:
    """(float32 mono samples, file sample rate) of [start_s, end_s) at the file's own rate;
    only that part is decoded."""
    with open_audio(path) as handle:
        rate = handle.samplerate
        first = min(max(int(start_s * rate), 0), handle.frames)
        last = min(max(int(end_s * rate), first), handle.frames)
        handle.seek(first)
        frames = handle.read(last - first, dtype="float32", always_2d=True)
    return select_channel(frames, channel, path), rate


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """Mono samples as a 16-bit WAV file, written atomically."""
    with atomic_path(path) as tmp:
        sf.write(tmp, samples, sample_rate, subtype="PCM_16", format="WAV")
