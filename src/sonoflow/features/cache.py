"""Per-recording spectrogram cache: one float16 .npy per recording and feature setting.

Clips are frame offsets into these arrays, so every dataset variant shares them and a
random time shift during training costs nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sonoflow.common.atomic import atomic_path, write_csv
from sonoflow.common.tables import read_table
from sonoflow.corpus.audio import AudioError, Channel, audio_info, load_mono
from sonoflow.features.registry import named_frontend
from sonoflow.features.spectrogram import (
    FeatureFrontend,
    FeatureSettings,
    pad_frames,
    spectrogram_in_blocks,
)
from sonoflow.features.vectors import VectorSettings

log = logging.getLogger(__name__)


def recording_spectrogram(
    path: Path, frontend: FeatureFrontend, device: torch.device, channel: Channel = "mix"
) -> torch.Tensor:
    waveform = torch.from_numpy(load_mono(path, frontend.settings.sample_rate, channel))
    waveform = waveform.to(device)
    with torch.inference_mode():
        return spectrogram_in_blocks(frontend, waveform)


def build_cache(
    recordings: list[Path],
    settings: FeatureSettings | dict,
    out_dir: str | Path,
    channel: Channel = "mix",
    skip_bad: bool = False,
    key: str = "features.NAME",
    names: list[str] | None = None,
    prefix: str = "",
) -> pd.DataFrame:
    """Compute and store every recording's spectrogram (or vectors: `settings` may be any
    features config, see registry.build_frontend); write and return the index.

    `channel` is "mix" or a 0-based channel index. With `skip_bad`, recordings that cannot
    be used (corpus.bad_audio: skip) are logged and left out instead of failing. `key` is
    the features' config key, named in errors and warnings. `names`: each recording's file
    under spectrograms/ (without .npy; may hold `/`), by default its file stem; the index
    names it `prefix/name` (just `name` without a prefix), as the clips that read it do.
    """
    out_dir = Path(out_dir)
    stems = [p.stem for p in recordings] if names is None else list(names)
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise ValueError(f"recordings share a file stem (the cache key): {duplicates}")
    frontend = named_frontend(settings, key)
    rows, longest = [], (0.0, None)
    for path, stem in zip(recordings, stems):
        try:
            info = audio_info(path)
            if info.frames == 0:
                raise AudioError(f"{path}: no samples (header only)")
            spec = recording_spectrogram(path, frontend, torch.device("cpu"), channel)
        except AudioError as err:
            if not skip_bad:
                raise
            log.warning("skipped (corpus.bad_audio: skip): %s", err)
            continue
        spectrogram = f"{stem}.npy"
        with atomic_path(out_dir / "spectrograms" / spectrogram) as tmp, open(tmp, "wb") as out:
            np.save(out, spec.numpy().astype(np.float16))
        rows.append(
            {
                "recording": f"{prefix}/{stem}" if prefix else stem,
                "file": str(path),
                "spectrogram": spectrogram,
                "frames": spec.shape[-1],
                "bins": spec.shape[0],
            }
        )
        log.info("cached %s: %d frames", path.name, spec.shape[-1])
        if info.duration_s > longest[0]:
            longest = (info.duration_s, path.name)
    _warn_window_past_every_recording(frontend.settings.window_s, longest, key)
    index = pd.DataFrame(rows, columns=["recording", "file", "spectrogram", "frames", "bins"])
    write_csv(out_dir / "index.csv", index)
    return index


def _warn_window_past_every_recording(
    window_s: float, longest: tuple[float, str | None], key: str
) -> None:
    """A window longer than every recording is padded wherever it is cut: say so, naming the
    key (the DAG knows no durations, so the warning comes from the cache job's log)."""
    duration, name = longest
    if name is not None and duration < window_s:
        log.warning(
            "%s.window_s %g s is longer than every recording (the longest, %s, lasts %.3g s): "
            "every window is padded with silence; lower %s.window_s to at most %.3g",
            key,
            window_s,
            name,
            duration,
            key,
            duration,
        )


class CacheFileError(ValueError):
    """A spectrogram cache file that cannot be read, with the file named."""


class SpectrogramCache:
    """Read windows out of a cache directory written by `build_cache`, and out of any
    `extra` ones (the caches of reviewed recordings: results/cache/F/reviewed/REVIEW)."""

    def __init__(
        self,
        directory: str | Path,
        settings: FeatureSettings | VectorSettings,
        extra: list[str | Path] = (),
    ):
        self.directory = Path(directory)
        self.settings = settings
        self.frames: dict[str, int] = {}
        self._files: dict[str, Path] = {}
        self._folders: dict[str, Path] = {}
        for folder in [self.directory, *map(Path, extra)]:
            index = read_table(folder / "index.csv")
            for recording, file, frames in zip(
                index["recording"], index["spectrogram"], index["frames"]
            ):
                if recording in self.frames:
                    raise CacheFileError(
                        f"{folder}/index.csv: recording {recording!r} is also in "
                        f"{self._folders[recording]}/index.csv"
                    )
                self.frames[recording] = int(frames)
                self._files[recording] = folder / "spectrograms" / file
                self._folders[recording] = folder
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, recording: str) -> np.ndarray:
        if recording not in self._arrays:
            if recording not in self.frames:
                raise CacheFileError(
                    f"{recording}: not in the spectrogram cache {self.directory} (left out "
                    "there as bad audio, or the cache is older than the dataset); rerun with "
                    "--forcerun cache_spectrograms prepare_dataset"
                )
            self._arrays[recording] = self._load(self._files[recording], recording)
        return self._arrays[recording]

    def _load(self, path: Path, recording: str) -> np.ndarray:
        """The array, memory-mapped; a missing, truncated or corrupt file is named."""
        folder = self._folders[recording]
        try:
            array = np.load(path, mmap_mode="r")
        except (OSError, ValueError, EOFError) as err:
            raise CacheFileError(
                f"{path}: spectrogram cache file missing, truncated or corrupt ({err}); "
                f"delete {folder} and rerun to rebuild the cache"
            ) from err
        frames = self.frames[recording]
        if array.ndim != 2 or array.shape[-1] != frames:
            raise CacheFileError(
                f"{path}: holds an array of shape {array.shape}, but {folder}/index.csv "
                f"lists {frames} frames; delete {folder} and rerun to rebuild the cache"
            )
        return array

    def window(self, recording: str, start_frame: int) -> torch.Tensor:
        """(n_bins, frames_per_window) float32 window starting at `start_frame`, clamped inside."""
        frames = self.settings.frames_per_window
        array = self.array(recording)
        start = max(0, min(start_frame, array.shape[-1] - frames))
        window = torch.from_numpy(np.array(array[:, start : start + frames], dtype=np.float32))
        return pad_frames(window, frames) if window.shape[-1] < frames else window
