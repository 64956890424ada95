"""The MLP for vector front-ends (`mlp`, built without timm like band_mlp.py): the window's
vector, standardised by batch normalisation (statistics in dB and embeddings have very
different scales), through Linear-ReLU-Dropout layers."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sonoflow.models.band_mlp import hidden_layers


class VectorMLP(nn.Module):
    """(B, C, dims, frames) -> (B, hidden[-1]); frames (one for vector front-ends) are averaged.
    `num_features` is the width before the detector's head (timm's name)."""

    def __init__(self, dims: int, hidden: list[int], drop_rate: float, in_chans: int):
        super().__init__()
        layers, width = hidden_layers(in_chans * dims, hidden, drop_rate)
        self.layers = nn.Sequential(nn.BatchNorm1d(in_chans * dims), *layers)
        self.num_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.mean(dim=-1).flatten(1))


def vector_mlp(
    pretrained: bool = False,
    *,
    img_size: tuple[int, int],
    hidden: Sequence[int] = (200, 100),
    drop_rate: float = 0.0,
    in_chans: int = 1,
    num_classes: int = 0,
    **kwargs,
) -> VectorMLP:
    """`img_size` is (dims, frames), timm's name for the input size; the head is the
    detector's, so `num_classes` must be 0."""
    if pretrained:
        raise ValueError("mlp has no pretrained weights")
    if num_classes:
        raise ValueError("mlp leaves the classifier to the detector's head (num_classes=0)")
    return VectorMLP(img_size[0], list(hidden), drop_rate, in_chans)
