"""Spectrogram augmentations. Per-window ones work on one (n_bins, frames) window with a
numpy Generator; mixup works on a batch with torch's RNG.

torchaudio (which has SpecAugment masks) is no dependency, and the others are a line each.
"""

from __future__ import annotations

import numpy as np
import torch


def random_gain(window_db: torch.Tensor, rng: np.random.Generator, max_db: float) -> torch.Tensor:
    """Shift the level by a uniform gain in [-max_db, max_db] dB."""
    return window_db + float(rng.uniform(-max_db, max_db))


def mix_noise(
    window_db: torch.Tensor,
    noise_db: torch.Tensor,
    rng: np.random.Generator,
    snr_db: tuple[float, float],
) -> torch.Tensor:
    """Add a noise window's power at a random SNR (mean dB level of the window over the noise's)."""
    snr = float(rng.uniform(*snr_db))
    offset = float(window_db.mean() - noise_db.mean()) - snr
    return 10.0 * torch.log10(10.0 ** (window_db / 10.0) + 10.0 ** ((noise_db + offset) / 10.0))


def spec_augment(
    window: torch.Tensor,
    rng: np.random.Generator,
    time_masks: int,
    time_width: int,
    freq_masks: int,
    freq_width: int,
) -> torch.Tensor:
    """SpecAugment masks (Park et al. 2019): bands of up to `*_width` frames or bins set to 0,
    the mean of a normalised window."""
    window = window.clone()
    bins, frames = window.shape[-2:]
    for _ in range(time_masks):
        width = int(rng.integers(0, min(time_width, frames) + 1))
        start = int(rng.integers(0, frames - width + 1))
        window[..., start : start + width] = 0.0
    for _ in range(freq_masks):
        width = int(rng.integers(0, min(freq_width, bins) + 1))
        start = int(rng.integers(0, bins - width + 1))
        window[..., start : start + width, :] = 0.0
    return window


def mixup(
    x: torch.Tensor, y: torch.Tensor, metadata: torch.Tensor, alpha: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mix each sample with a random partner (Zhang et al. 2018); targets mix alike."""
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    partner = torch.randperm(len(x))
    mix = lambda a: lam * a + (1 - lam) * a[partner]  # noqa: E731
    return mix(x), mix(y), mix(metadata) if metadata.numel() else metadata
