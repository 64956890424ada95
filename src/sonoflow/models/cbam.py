"""CBAM attention and the ConvNeXt-tiny that carries it (`convnext_tiny_cbam`), a timm model.

timm has no CBAM (its CbamModule works on a different block layout and is not exposed for
ConvNeXt stages), so the channel and spatial attention of Woo et al. (2018) is written here.
"""

from __future__ import annotations

import timm
import torch
from timm.models import register_model
from torch import nn


class ChannelAttention(nn.Module):
    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        peak = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        return x * torch.sigmoid(avg + peak)


class SpatialAttention(nn.Module):
    def __init__(self, kernel_size: int = 7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class CBAM(nn.Module):
    """Channel attention, then spatial attention, on an NCHW feature map."""

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7):
        super().__init__()
        self.channel = ChannelAttention(channels, reduction)
        self.spatial = SpatialAttention(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.channel(x))


@register_model
def convnext_tiny_cbam(pretrained: bool = False, **kwargs) -> nn.Module:
    """ConvNeXt-tiny with CBAM after its last two stages.

    Pretrained weights are convnext_tiny's, loaded before the attention is inserted, so a
    convnext_tiny weights file serves both; the attention starts from random weights.
    """
    model = timm.create_model("convnext_tiny", pretrained=pretrained, **kwargs)
    for stage in (2, 3):
        channels = model.feature_info[stage]["num_chs"]
        model.stages[stage] = nn.Sequential(model.stages[stage], CBAM(channels))
    return model
