"""The spectrogram front-end over a batch of audio windows, in operations every ONNX runtime
has: the STFT as a strided 1-D convolution with a fixed windowed DFT kernel (real and
imaginary parts as two real filter banks), then `FeatureFrontend`'s own filterbank, dB and
per-window normalisation.

ONNX's STFT operator yields complex values, which torch's exporters do not write; the
convolution computes the same sums (float64 kernel, float32 arithmetic), so a window's dB
values equal `FeatureFrontend`'s within float32 rounding (about 1e-5 dB).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sonoflow.features.spectrogram import FeatureFrontend, FeatureSettings


def window_samples(settings: FeatureSettings) -> int:
    """Samples of one model window: its frames, without centre padding."""
    return (settings.frames_per_window - 1) * settings.hop_length + settings.n_fft


def dft_kernel(n_fft: int) -> torch.Tensor:
    """(2 * (n_fft // 2 + 1), 1, n_fft) Hann-windowed DFT: cosines, then minus sines."""
    bins = torch.arange(n_fft // 2 + 1, dtype=torch.float64)
    angles = 2 * math.pi * torch.outer(bins, torch.arange(n_fft, dtype=torch.float64)) / n_fft
    window = torch.hann_window(n_fft, dtype=torch.float64)
    return torch.cat([torch.cos(angles) * window, -torch.sin(angles) * window]).float()[:, None]


class WindowFrontend(nn.Module):
    """forward(audio): (batch, window_samples) float32 -> (batch, n_bins, frames) normalised
    windows, as `frontend.normalize(frontend(audio))`."""

    def __init__(self, frontend: FeatureFrontend):
        super().__init__()
        self.frontend = frontend
        self.hop_length = frontend.settings.hop_length
        self.register_buffer("kernel", dft_kernel(frontend.settings.n_fft), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        parts = nn.functional.conv1d(audio.unsqueeze(1), self.kernel, stride=self.hop_length)
        real, imag = parts.chunk(2, dim=1)
        return self.frontend.normalize(self.frontend.decibels(real**2 + imag**2))
