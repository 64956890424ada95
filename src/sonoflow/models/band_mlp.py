"""The band MLP baseline: per-band mean and standard deviation over time through an MLP."""

from __future__ import annotations

import torch
from torch import nn


class BandStats(nn.Module):
    """Per-band mean and standard deviation over time: (B, 1, bins, frames) -> (B, 2 * bins)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1, 2)  # (B, bins, frames)
        return torch.cat([x.mean(dim=-1), x.std(dim=-1)], dim=1)


def band_mlp(n_bins: int, hidden: list[int], dropout: float) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = [BandStats()]
    width = 2 * n_bins
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
        width = size
    return nn.Sequential(*layers), width
