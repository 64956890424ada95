"""Vector front-ends: one vector per frame, frame i describing the samples
[i * hop, i * hop + window) of the recording and nothing else.

`VectorSettings` answers what the spectrogram code asks of `FeatureSettings` (n_fft is the
window, hop_length the hop, n_bins the width, one frame per model window), so the cache,
`spectrogram_in_blocks`, the prediction stream and clip windows work on vectors unchanged,
and a vector computed from a block of a recording is the one computed from all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class VectorSettings:
    type: str
    sample_rate: int
    window_s: float
    hop_s: float
    dims: int
    norm: str = "none"  # vectors are standardised by the mlp's batch normalisation

    @property
    def n_fft(self) -> int:
        """Samples one vector describes (the spectrogram's name, for the shared code)."""
        return int(round(self.window_s * self.sample_rate))

    @property
    def hop_length(self) -> int:
        return int(round(self.hop_s * self.sample_rate))

    @property
    def n_bins(self) -> int:
        return self.dims

    @property
    def frames_per_window(self) -> int:
        return 1

    @property
    def frame_s(self) -> float:
        return self.hop_length / self.sample_rate

    def frame_of(self, time_s: float) -> int:
        return int(round(time_s / self.frame_s))


class VectorFrontend(nn.Module):
    """(samples,) waveform -> (dims, frames); subclasses say how one batch of windows of
    samples (n, window samples) becomes (n, dims) in `embed`."""

    # Frames embedded in one batch: bounds the memory of models applied to windows of audio.
    batch_frames = 64

    def __init__(self, settings: VectorSettings):
        super().__init__()
        self.settings = settings

    def embed(self, windows: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        s = self.settings
        if waveform.shape[-1] < s.n_fft:  # a short recording: one frame, zero-padded
            waveform = nn.functional.pad(waveform, (0, s.n_fft - waveform.shape[-1]))
        windows = waveform.float().unfold(-1, s.n_fft, s.hop_length)
        parts = [
            self.embed(windows[first : first + self.batch_frames])
            for first in range(0, len(windows), self.batch_frames)
        ]
        return torch.cat(parts).T.contiguous()

    def normalize(self, windows: torch.Tensor) -> torch.Tensor:
        return windows
