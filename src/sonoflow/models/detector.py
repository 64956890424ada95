"""The detector: a backbone's pooled features, optional metadata fusion, a classifier head.

Every model takes a spectrogram batch (B, 1, n_bins, frames), plus a metadata batch
(B, width) for fusion models, and returns logits (B, n_classes).
"""

from __future__ import annotations

import torch
from torch import nn


class Detector(nn.Module):
    """Backbone -> pooled features -> (optional metadata fusion) -> classifier head."""

    def __init__(
        self,
        backbone: nn.Module,
        n_features: int,
        n_classes: int,
        head_width: int = 0,
        dropout: float = 0.0,
        multi_label: bool = False,
        pad_to: tuple[int, int] | None = None,
        metadata_width: int = 0,
        metadata_hidden: int = 32,
        fusion: str = "none",
    ):
        super().__init__()
        self.backbone, self.multi_label, self.pad_to = backbone, multi_label, pad_to
        self.fusion = fusion if metadata_width else "none"
        head_in = n_features
        if self.fusion != "none":
            self.metadata_net = nn.Sequential(
                nn.Linear(metadata_width, metadata_hidden),
                nn.ReLU(),
                nn.Linear(metadata_hidden, metadata_hidden),
                nn.ReLU(),
            )
            if self.fusion == "concat":
                head_in += metadata_hidden
            else:  # gate: metadata scales each backbone feature by a learned factor in (0, 1)
                self.gate = nn.Linear(metadata_hidden, n_features)
        if head_width:
            self.head = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(head_in, head_width),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(head_width, n_classes),
            )
        else:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(head_in, n_classes))

    @property
    def uses_metadata(self) -> bool:
        return self.fusion != "none"

    def forward(self, x: torch.Tensor, metadata: torch.Tensor | None = None) -> torch.Tensor:
        if self.pad_to is not None:  # whole ViT patches, or a CNN's least size; 0 is the mean
            x = nn.functional.pad(
                x, (0, self.pad_to[1] - x.shape[-1], 0, self.pad_to[0] - x.shape[-2])
            )
        features = self.backbone(x)
        if self.uses_metadata:
            if metadata is None:
                raise ValueError("this model fuses recording metadata; none was given")
            encoded = self.metadata_net(metadata.to(features.dtype))
            if self.fusion == "concat":
                features = torch.cat([features, encoded], dim=1)
            else:
                features = features * torch.sigmoid(self.gate(encoded))
        return self.head(features)

    def probabilities(self, x: torch.Tensor, metadata: torch.Tensor | None = None) -> torch.Tensor:
        """Sigmoid scores for multi-label models, softmax otherwise."""
        logits = self(x, metadata)
        return torch.sigmoid(logits) if self.multi_label else logits.softmax(dim=1)
