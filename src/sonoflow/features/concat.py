"""The `concat` front-end: the vectors of other front-ends side by side, frame by frame.
Config validation makes sure the parts share sample rate, window and hop."""

from __future__ import annotations

import torch
from torch import nn

from sonoflow.features.vectors import VectorFrontend, VectorSettings


class ConcatFrontend(VectorFrontend):
    def __init__(self, parts: list[VectorFrontend]):
        first = parts[0].settings
        super().__init__(
            VectorSettings(
                "concat",
                first.sample_rate,
                first.window_s,
                first.hop_s,
                sum(p.settings.dims for p in parts),
            )
        )
        self.parts = nn.ModuleList(parts)

    @classmethod
    def from_config(cls, features: dict) -> ConcatFrontend:
        """The concat of a resolved features config (its parts' configs in `parts`)."""
        from sonoflow.features.registry import build_frontend

        return cls([build_frontend(part) for part in features["parts"]])

    def embed(self, windows: torch.Tensor) -> torch.Tensor:
        return torch.cat([part.embed(windows) for part in self.parts], dim=1)
