"""The band MLP baseline (`band_mlp`): per-band mean and standard deviation over time
through an MLP. Built by sonoflow without timm (models/build.py), and registered with timm
as `band_mlp` once build.py imports timm for another backbone."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class BandStats(nn.Module):
    """Per-band mean and standard deviation over time: (B, C, bins, frames) -> (B, 2 * C * bins)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1, 2)  # (B, C * bins, frames)
        return torch.cat([x.mean(dim=-1), x.std(dim=-1)], dim=1)


def hidden_layers(width: int, hidden: list[int], drop_rate: float) -> tuple[list[nn.Module], int]:
    """Linear-ReLU-Dropout per hidden width from an input of `width`; and the output width."""
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(drop_rate)]
        width = size
    return layers, width


class BandMLP(nn.Sequential):
    """BandStats, then Linear-ReLU-Dropout per hidden width, then a classifier when
    `num_classes` > 0; `num_features` is the width before the classifier (timm's name)."""

    def __init__(
        self, n_bins: int, hidden: list[int], drop_rate: float, in_chans: int, num_classes: int
    ):
        layers, width = hidden_layers(2 * in_chans * n_bins, hidden, drop_rate)
        layers.insert(0, BandStats())
        if num_classes > 0:
            layers.append(nn.Linear(width, num_classes))
        super().__init__(*layers)
        self.num_features = width


def band_mlp(
    pretrained: bool = False,
    *,
    img_size: tuple[int, int],
    hidden: Sequence[int] = (200, 100),
    drop_rate: float = 0.0,
    in_chans: int = 1,
    num_classes: int = 0,
    **kwargs,
) -> BandMLP:
    """`img_size` is (bins, frames), timm's name for the input size; only bins matter here.

    There are no pretrained weights; timm's other creation options (`kwargs`) do not apply.
    """
    if pretrained:
        raise ValueError("band_mlp has no pretrained weights")
    return BandMLP(img_size[0], list(hidden), drop_rate, in_chans, num_classes)
