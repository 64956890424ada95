"""Spectrogram augmentations of a whole batch (B, n_bins, frames) at once, on the batch's
device, drawing from a torch.Generator on that device: no per-window Python.

torchaudio (which has SpecAugment masks) is no dependency, and its masks draw from the
global RNG, not a generator; the others are a line each.
"""

from __future__ import annotations

import torch


def uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    """n draws from U(low, high) in float64 on the generator's device."""
    draws = torch.rand(n, generator=generator, device=generator.device, dtype=torch.float64)
    return low + (high - low) * draws


def random_gain(
    windows_db: torch.Tensor, generator: torch.Generator, max_db: float
) -> torch.Tensor:
    """Shift each window's level by its own uniform gain in [-max_db, max_db] dB."""
    gain = uniform(len(windows_db), -max_db, max_db, generator).to(windows_db.dtype)
    return windows_db + gain[:, None, None]


def mix_noise(
    windows_db: torch.Tensor,
    noise_db: torch.Tensor,
    generator: torch.Generator,
    snr_db: tuple[float, float],
) -> torch.Tensor:
    """Add each noise window's power at its own random SNR (the mean dB level of the window
    over the noise's)."""
    snr = uniform(len(windows_db), *snr_db, generator).to(windows_db.dtype)
    offset = windows_db.mean(dim=(1, 2)) - noise_db.mean(dim=(1, 2)) - snr
    noise = noise_db + offset[:, None, None]
    return 10.0 * torch.log10(10.0 ** (windows_db / 10.0) + 10.0 ** (noise / 10.0))


def band_masks(
    n: int, size: int, masks: int, width: int, generator: torch.Generator
) -> torch.Tensor:
    """(n, size) bool: per row, `masks` bands, each of a width uniform in [0, min(width, size)]
    at a start uniform among the places where it fits."""
    device = generator.device
    positions = torch.arange(size, device=device)
    masked = torch.zeros(n, size, dtype=torch.bool, device=device)
    for _ in range(masks):
        widths = torch.randint(0, min(width, size) + 1, (n,), generator=generator, device=device)
        room = (size - widths + 1).double()
        starts = torch.rand(n, generator=generator, device=device, dtype=torch.float64) * room
        starts = starts.long()
        inside = (positions >= starts[:, None]) & (positions < (starts + widths)[:, None])
        masked |= inside
    return masked


def spec_augment(
    windows: torch.Tensor,
    generator: torch.Generator,
    time_masks: int,
    time_width: int,
    freq_masks: int,
    freq_width: int,
) -> torch.Tensor:
    """SpecAugment masks (Park et al. 2019): bands of up to `*_width` frames or bins set to 0,
    the mean of a normalised window."""
    n, bins, frames = windows.shape
    in_time = band_masks(n, frames, time_masks, time_width, generator)
    in_freq = band_masks(n, bins, freq_masks, freq_width, generator)
    return windows.masked_fill(in_time[:, None, :] | in_freq[:, :, None], 0.0)


def mixup(
    x: torch.Tensor, y: torch.Tensor, metadata: torch.Tensor, lam: float, partner: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mix each sample with its partner (Zhang et al. 2018) by `lam`; targets mix alike."""
    mix = lambda a: lam * a + (1 - lam) * a[partner]  # noqa: E731
    return mix(x), mix(y), mix(metadata) if metadata.numel() else metadata
