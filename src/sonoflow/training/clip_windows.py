"""Clip windows read one by one from the spectrogram cache (for assessment), and the
oversampling factors of class imbalance. Training reads batches (clip_batches)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from sonoflow.features.cache import SpectrogramCache
from sonoflow.features.spectrogram import FeatureFrontend


class ClipWindows(Dataset):
    """(window (1, n_bins, frames), metadata vector, class index) per clip: the normalised
    window around the clip's centre, the one a label describes."""

    def __init__(
        self,
        clips: pd.DataFrame,
        cache: SpectrogramCache,
        frontend: FeatureFrontend,
        classes: list[str],
        metadata: dict[str, np.ndarray] | None = None,
    ):
        clips = clips.reset_index(drop=True)
        self.cache, self.frontend = cache, frontend
        self.targets = clips["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
        self.metadata = metadata
        # plain arrays: a pandas row lookup per item would cost more than reading the window
        self.recording = clips["recording"].astype(str).to_numpy()
        self.span = clips[["start_s", "end_s"]].to_numpy(float)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        settings = self.frontend.settings
        centre = self.span[i].mean()
        start = settings.frame_of(centre - settings.window_s / 2)
        window = self.frontend.normalize(self.cache.window(self.recording[i], start))
        meta = (
            torch.from_numpy(self.metadata[self.recording[i]])
            if self.metadata is not None
            else torch.zeros(0)
        )
        return window.unsqueeze(0), meta, int(self.targets[i])


def oversampling_factors(targets: np.ndarray, n_classes: int, cap: float) -> np.ndarray:
    """Per class, how many times as often its clips are drawn: max_count / count, capped."""
    counts = np.bincount(targets, minlength=n_classes).astype(float)
    factors = np.zeros(n_classes)
    present = counts > 0
    factors[present] = np.minimum(counts.max() / counts[present], cap)
    return factors
