"""Clip windows read from the spectrogram cache, augmented per window for training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from sonoflow.datasets.noise_mining import NOISE
from sonoflow.features.cache import SpectrogramCache
from sonoflow.features.frontend import FeatureFrontend
from sonoflow.training.augment import mix_noise, random_gain, spec_augment


class ClipWindows(Dataset):
    """(window (1, n_bins, frames), metadata vector, class index) per clip.

    A window's label describes its centre. With `augment` (a model's `augment` block) the
    centre falls at random inside the clip (a free time shift) and the window may get a
    gain, mined noise and SpecAugment masks; otherwise it is the clip's centre, unchanged.

    The randomness of item i in epoch e comes from a generator seeded by (seed, e, i), so
    it does not depend on worker processes and a resumed run draws what an uninterrupted
    one draws; the training loop sets `epoch`.
    """

    def __init__(
        self,
        clips: pd.DataFrame,
        cache: SpectrogramCache,
        frontend: FeatureFrontend,
        classes: list[str],
        augment: dict | None = None,
        seed: int = 0,
        metadata: dict[str, np.ndarray] | None = None,
    ):
        self.clips = clips.reset_index(drop=True)
        self.cache, self.frontend, self.augment, self.seed = cache, frontend, augment, seed
        self.targets = self.clips["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
        self.metadata = metadata
        # plain arrays: a pandas row lookup per item would cost more than reading the window
        self.recording = self.clips["recording"].astype(str).to_numpy()
        self.span = self.clips[["start_s", "end_s"]].to_numpy(float)
        self.noise = np.flatnonzero(self.clips["label"].to_numpy() == NOISE)
        self.noise_set = set(self.noise.tolist())
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.clips)

    def _raw_window(self, i: int, rng: np.random.Generator | None) -> torch.Tensor:
        start, end = self.span[i]
        centre = (start + end) / 2
        if rng is not None and self.augment["time_shift"]["enabled"]:
            centre = rng.uniform(start, end)
        settings = self.frontend.settings
        return self.cache.window(
            self.recording[i], settings.frame_of(centre - settings.window_s / 2)
        )

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        rng = np.random.default_rng([self.seed, self.epoch, i]) if self.augment else None
        window = self._raw_window(i, rng)
        if rng is not None:
            window = self._augment(window, i, rng)
        else:
            window = self.frontend.normalize(window)
        meta = (
            torch.from_numpy(self.metadata[self.recording[i]])
            if self.metadata is not None
            else torch.zeros(0)
        )
        return window.unsqueeze(0), meta, int(self.targets[i])

    def _augment(self, window: torch.Tensor, i: int, rng: np.random.Generator) -> torch.Tensor:
        aug = self.augment
        if aug["gain"]["enabled"]:
            window = random_gain(window, rng, aug["gain"]["max_db"])
        noise = aug["noise"]
        if (
            noise["enabled"]
            and i not in self.noise_set
            and len(self.noise)
            and rng.uniform() < noise["probability"]
        ):
            other = int(self.noise[rng.integers(len(self.noise))])
            window = mix_noise(window, self._raw_window(other, rng), rng, noise["snr_db"])
        window = self.frontend.normalize(window)
        masks = aug["spec_augment"]
        if masks["enabled"]:
            window = spec_augment(
                window,
                rng,
                masks["time_masks"],
                masks["time_width"],
                masks["freq_masks"],
                masks["freq_width"],
            )
        return window


def oversampling_factors(targets: np.ndarray, n_classes: int, cap: float) -> np.ndarray:
    """Per class, how many times as often its clips are drawn: max_count / count, capped."""
    counts = np.bincount(targets, minlength=n_classes).astype(float)
    factors = np.zeros(n_classes)
    present = counts > 0
    factors[present] = np.minimum(counts.max() / counts[present], cap)
    return factors
