"""The cached frames of the recordings a training run reads, placed for batched window cutting.

Placements (a model's `input` key):

- `device`: every frame in one tensor in the compute device's memory (on CPU: host memory);
  windows are cut there by index arithmetic, so a batch never leaves the device.
- `pinned`: the same tensor in pinned host memory (CUDA only); windows are cut on the host
  and copied to the device without blocking.
- `mmap`: frames stay in the memory-mapped cache files; windows are read one by one (the
  fallback for corpora larger than memory).
- `auto`: `device` when the frames fit in DEVICE_SHARE of the free device memory (on CPU:
  of the available host memory), else `pinned` on CUDA, else `mmap`.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import torch

from sonoflow.features.cache import SpectrogramCache
from sonoflow.features.spectrogram import pad_frames

log = logging.getLogger(__name__)

INPUTS = ("auto", "device", "pinned", "mmap")
# Share of free memory the frames may take with `input: auto`; the rest is left to the
# model's weights, activations and optimiser state.
DEVICE_SHARE = 0.5


def free_bytes(device: torch.device) -> int | None:
    """Free memory of the device (of the host for CPU); None where it cannot be told."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def resolve_input(mode: str, device: torch.device, nbytes: int) -> str:
    """The placement that `mode` means for frames of `nbytes` on `device`."""
    if mode not in INPUTS:
        raise ValueError(f"model key input: {mode!r} is not one of {INPUTS}")
    cuda = device.type == "cuda"
    if mode == "pinned" and not cuda:
        log.info("input: pinned needs CUDA; on %s the frames are held in host memory", device)
        return "device"
    if mode != "auto":
        return mode
    free = free_bytes(device)
    if free is None or nbytes <= DEVICE_SHARE * free:
        return "device"
    return "pinned" if cuda else "mmap"


class FrameStore:
    """Frames of `recordings`, each padded to at least a window (with its minimum, as the
    cache pads), cut into windows by `windows(recording_index, start_frame)`."""

    def __init__(
        self, cache: SpectrogramCache, recordings: list[str], mode: str, device: torch.device
    ):
        self.cache, self.recordings = cache, list(recordings)
        self.frames_per_window = cache.settings.frames_per_window
        arrays = [cache.array(r) for r in self.recordings]
        lengths = np.array([max(a.shape[-1], self.frames_per_window) for a in arrays], np.int64)
        n_bins = cache.settings.n_bins
        self.placement = resolve_input(mode, device, int(lengths.sum()) * n_bins * 2)
        # where windows are cut: the device, else the host
        self.device = device if self.placement == "device" else torch.device("cpu")
        self.lengths = torch.from_numpy(lengths).to(self.device)
        self.offsets = torch.from_numpy(np.cumsum(lengths) - lengths).to(self.device)
        self.frames = None if self.placement == "mmap" else self._load(arrays, int(lengths.sum()))
        log.info(
            "training input %s (%s): %d recordings, %.1f MB of frames",
            self.placement,
            mode,
            len(arrays),
            lengths.sum() * n_bins * 2 / 1e6,
        )

    def _load(self, arrays: list[np.ndarray], total: int) -> torch.Tensor:
        """(total frames, n_bins) float16: frame rows, so that a window is contiguous rows."""
        n_bins = self.cache.settings.n_bins
        pinned = self.placement == "pinned"
        frames = torch.empty(
            (total, n_bins), dtype=torch.float16, device=self.device, pin_memory=pinned
        )
        for array, offset in zip(arrays, self.offsets.tolist()):
            part = torch.from_numpy(np.array(array))  # one recording read at a time
            if part.shape[-1] < self.frames_per_window:
                part = pad_frames(part.float(), self.frames_per_window).half()
            frames[offset : offset + part.shape[-1]].copy_(part.T)
        return frames

    def windows(self, recording: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        """(B, n_bins, frames_per_window) float32 windows; `start` within each recording,
        already clamped so that the window fits."""
        if self.frames is None:
            names = [self.recordings[r] for r in recording.tolist()]
            return torch.stack([self.cache.window(n, s) for n, s in zip(names, start.tolist())])
        frame = torch.arange(self.frames_per_window, device=self.device)
        rows = (self.offsets[recording] + start)[:, None] + frame
        # contiguous like the mmap path's windows: reductions then sum in the same order
        windows = self.frames[rows].transpose(1, 2)
        return windows.to(torch.float32, memory_format=torch.contiguous_format)
