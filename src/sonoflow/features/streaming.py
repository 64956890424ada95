"""Spectrogram frames and model windows from a stream of audio blocks.

Frames are computed without centre padding, so frame i needs exactly the samples
[i * hop, i * hop + n_fft): keeping the samples from the next frame's start onwards between
blocks gives the frames of the whole recording, block by block. Windows are strided views
into the buffered frames; only the frames the next window needs are kept. Memory is bounded
by the block length, not the recording's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch

from sonoflow.features.spectrogram import FeatureFrontend, frame_windows, pad_frames


class SpectrogramStream:
    """Push waveform blocks, get the spectrogram frames they complete."""

    def __init__(self, frontend: FeatureFrontend, device: torch.device):
        self.frontend, self.device = frontend, device
        self.samples = torch.zeros(0, device=device)
        self.frames_out = 0

    def push(self, block: np.ndarray | torch.Tensor) -> torch.Tensor:
        """`block`: samples on the host, or already on the device (copied there ahead)."""
        s = self.frontend.settings
        if isinstance(block, np.ndarray):
            block = torch.from_numpy(np.ascontiguousarray(block, dtype=np.float32))
        self.samples = torch.cat([self.samples, block.to(self.device)])
        if len(self.samples) < s.n_fft:
            return self._empty()
        count = 1 + (len(self.samples) - s.n_fft) // s.hop_length
        frames = self.frontend(self.samples[: (count - 1) * s.hop_length + s.n_fft])
        self.samples = self.samples[count * s.hop_length :]
        self.frames_out += count
        return frames

    def finish(self) -> torch.Tensor:
        """A recording shorter than one FFT gives one frame, zero-padded, as the frontend does."""
        if self.frames_out == 0:
            self.frames_out = 1
            return self.frontend(self.samples)
        return self._empty()

    def _empty(self) -> torch.Tensor:
        return torch.zeros(self.frontend.settings.n_bins, 0, device=self.device)


class WindowStream:
    """Push spectrogram frames, get the windows (strided views) they complete."""

    def __init__(self, frames_per_window: int, step: int):
        self.size, self.step = frames_per_window, step
        self.frames: torch.Tensor | None = None
        self.windows_out = 0

    def push(self, frames: torch.Tensor) -> torch.Tensor:
        self.frames = frames if self.frames is None else torch.cat([self.frames, frames], dim=-1)
        if self.frames.shape[-1] < self.size:
            return self.frames.new_zeros(0, self.frames.shape[0], self.size)
        windows = frame_windows(self.frames, self.size, self.step)
        # Keep from the next window's first frame on; `windows` keeps the old storage alive.
        self.frames = self.frames[:, len(windows) * self.step :]
        self.windows_out += len(windows)
        return windows

    def finish(self) -> torch.Tensor:
        """A recording shorter than one window gives one window padded with its minimum."""
        if self.windows_out == 0 and self.frames is not None:
            self.windows_out = 1
            return pad_frames(self.frames, self.size).unsqueeze(0)
        return torch.zeros(0)


def stream_windows(
    blocks: Iterable[np.ndarray | torch.Tensor],
    frontend: FeatureFrontend,
    step: int,
    device: torch.device,
) -> Iterator[torch.Tensor]:
    """(n, n_bins, frames_per_window) window chunks of one recording, in time order; the blocks
    may be host arrays or tensors already on `device`."""
    spectrogram = SpectrogramStream(frontend, device)
    windows = WindowStream(frontend.settings.frames_per_window, step)
    with torch.inference_mode():
        for block in blocks:
            found = windows.push(spectrogram.push(block))
            if len(found):
                yield found
        found = windows.push(spectrogram.finish())
        if len(found):
            yield found
        last = windows.finish()
        if len(last):
            yield last
