"""The one feature function: waveform -> dB spectrogram -> normalised windows.

The cache, training and prediction all go through `FeatureFrontend`, so a window scored
in prediction is the same tensor a clip had in training.

Frames are computed without centre padding: frame i covers samples
[i * hop_length, i * hop_length + n_fft), so its start time is i * hop_length / sample_rate
whatever part of the recording it was computed from.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from sonoflow.common.schema import section_with_defaults
from sonoflow.features.filterbanks import fft_frequencies, mel_filterbank

_DEFAULTS = section_with_defaults("features", {})  # the schema is the one home of defaults


@dataclass(frozen=True)
class FeatureSettings:
    sample_rate: int = _DEFAULTS["sample_rate"]
    window_s: float = _DEFAULTS["window_s"]
    n_fft: int = _DEFAULTS["n_fft"]
    hop_length: int = _DEFAULTS["hop_length"]
    scale: str = _DEFAULTS["scale"]
    n_bins: int = _DEFAULTS["n_bins"]
    fmin: float = _DEFAULTS["fmin"]
    fmax: float = _DEFAULTS["fmax"]
    norm: str = _DEFAULTS["norm"]

    @classmethod
    def from_config(cls, config: dict) -> FeatureSettings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in config.items() if k in names})

    @property
    def frames_per_window(self) -> int:
        return int(round(self.window_s * self.sample_rate / self.hop_length))

    @property
    def frame_s(self) -> float:
        return self.hop_length / self.sample_rate

    def frame_of(self, time_s: float) -> int:
        return int(round(time_s / self.frame_s))


class FeatureFrontend(nn.Module):
    """STFT power -> mel or linear filterbank -> dB, plus per-window normalisation."""

    def __init__(self, settings: FeatureSettings):
        super().__init__()
        self.settings = settings
        self.register_buffer("window", torch.hann_window(settings.n_fft), persistent=False)
        self.register_buffer(
            "filterbank", torch.from_numpy(_filterbank(settings)), persistent=False
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """(samples,) or (batch, samples) float waveform -> (..., n_bins, frames) dB spectrogram."""
        s = self.settings
        if waveform.shape[-1] < s.n_fft:
            waveform = nn.functional.pad(waveform, (0, s.n_fft - waveform.shape[-1]))
        spec = torch.stft(
            waveform.float(),
            s.n_fft,
            s.hop_length,
            window=self.window,
            center=False,
            return_complex=True,
        )
        return self.decibels(spec.real**2 + spec.imag**2)

    def decibels(self, power: torch.Tensor) -> torch.Tensor:
        """(..., n_fft // 2 + 1, frames) STFT power -> (..., n_bins, frames) dB bands."""
        return 10.0 * torch.log10(torch.matmul(self.filterbank, power) + 1e-10)

    def normalize(self, windows: torch.Tensor) -> torch.Tensor:
        """Normalise (..., n_bins, frames) windows, each on its own (never per recording)."""
        if self.settings.norm == "none":
            return windows
        mean = windows.mean(dim=(-2, -1), keepdim=True)
        std = windows.std(dim=(-2, -1), keepdim=True)
        return (windows - mean) / (std + 1e-5)


def spectrogram_frontend(features: dict) -> FeatureFrontend:
    """The spectrogram front-end of a features config (the registry's builder)."""
    return FeatureFrontend(FeatureSettings.from_config(features))


def _filterbank(s: FeatureSettings) -> np.ndarray:
    fmax = min(s.fmax, s.sample_rate / 2)
    if s.scale == "mel":
        return mel_filterbank(s.sample_rate, s.n_fft, s.n_bins, s.fmin, fmax)
    # Linear scale: average contiguous STFT bins between fmin and fmax into n_bins bands.
    # librosa has no such filterbank; it is one rectangular matrix.
    freqs = fft_frequencies(s.sample_rate, s.n_fft)
    edges = np.linspace(s.fmin, fmax, s.n_bins + 1)
    bank = np.zeros((s.n_bins, len(freqs)), dtype=np.float32)
    for i in range(s.n_bins):
        inside = (freqs >= edges[i]) & (freqs < edges[i + 1])
        if not inside.any():  # band narrower than an STFT bin: take the nearest bin
            inside = np.abs(freqs - (edges[i] + edges[i + 1]) / 2) == np.min(
                np.abs(freqs - (edges[i] + edges[i + 1]) / 2)
            )
        bank[i, inside] = 1.0 / inside.sum()
    return bank


def frame_windows(spectrogram: torch.Tensor, frames: int, step: int) -> torch.Tensor:
    """(n_bins, total_frames) -> (n_windows, n_bins, frames) strided view, no copy.

    A recording shorter than one window is padded with its minimum value.
    """
    if spectrogram.shape[-1] < frames:
        spectrogram = pad_frames(spectrogram, frames)
    return spectrogram.unfold(-1, frames, step).movedim(-2, 0)


def pad_frames(spectrogram: torch.Tensor, frames: int) -> torch.Tensor:
    missing = frames - spectrogram.shape[-1]
    floor = spectrogram.min() if spectrogram.numel() else torch.tensor(-100.0)
    return nn.functional.pad(spectrogram, (0, missing), value=float(floor))


def spectrogram_in_blocks(
    frontend: FeatureFrontend, waveform: torch.Tensor, block_frames: int = 4096
) -> torch.Tensor:
    """The whole recording's spectrogram, computed block by block to bound STFT memory.

    Without centre padding, frames [k, k + block_frames) need exactly the samples
    [k * hop, (k + block_frames - 1) * hop + n_fft), so the blocks join seamlessly.
    """
    s = frontend.settings
    if waveform.shape[-1] < s.n_fft:
        return frontend(waveform)
    total = 1 + (waveform.shape[-1] - s.n_fft) // s.hop_length
    parts = []
    for first in range(0, total, block_frames):
        last = min(first + block_frames, total)
        chunk = waveform[first * s.hop_length : (last - 1) * s.hop_length + s.n_fft]
        parts.append(frontend(chunk))
    return torch.cat(parts, dim=-1)
