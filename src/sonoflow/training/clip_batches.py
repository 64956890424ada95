"""Batches of clip windows cut from a FrameStore and augmented as whole batches on the device.

A batch is (windows (B, 1, n_bins, frames), metadata (B, width), class index (B,)), all on
the compute device. A window's label describes its centre. With `augment` (a model's
`augment` block) the centre falls at random inside the clip (a free time shift) and the
window may get a gain, mined noise, SpecAugment masks and, through `mixup`, a partner;
otherwise it is the clip's centre, unchanged.

Every random draw of epoch e comes from generators seeded by (seed, e), so a resumed run
draws what an uninterrupted one draws and no draw state needs checkpointing; the batch
order comes from the caller's `order` (which keeps its own, checkpointed generator). The
hot path holds no per-window Python (except reading windows with `input: mmap`) and no
host synchronisation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import torch

from sonoflow.datasets.noise_mining import NOISE
from sonoflow.features.spectrogram import FeatureFrontend
from sonoflow.training.augment import mix_noise, mixup, random_gain, spec_augment, uniform
from sonoflow.training.frame_store import FrameStore

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def epoch_seed(seed: int, epoch: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1)[0])


class ClipBatches:
    """The batches of one pass over `clips` (in `order()`'s order, default: as listed)."""

    def __init__(
        self,
        clips: pd.DataFrame,
        store: FrameStore,
        frontend: FeatureFrontend,
        classes: list[str],
        device: torch.device,
        batch_size: int,
        *,
        augment: dict | None = None,
        seed: int = 0,
        metadata: dict[str, np.ndarray] | None = None,
        order: Callable[[], torch.Tensor] | None = None,
        batches: int | None = None,
    ):
        """`batches`: how many batches `order` yields per pass (default: all clips)."""
        clips = clips.reset_index(drop=True)
        self.store, self.frontend, self.device = store, frontend, device
        self.batch_size, self.augment, self.seed, self.order = batch_size, augment, seed, order
        self.targets = clips["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
        self.epoch = 0  # set by the training loop
        at = store.device  # clip tables live where windows are cut
        position = {name: i for i, name in enumerate(store.recordings)}
        self.recording = torch.from_numpy(
            clips["recording"].astype(str).map(position).to_numpy(np.int64, copy=True)
        )
        self.recording = self.recording.to(at)
        span = torch.from_numpy(clips[["start_s", "end_s"]].to_numpy(np.float64, copy=True)).to(at)
        self.start_s, self.end_s = span[:, 0], span[:, 1]
        self.label = torch.from_numpy(self.targets.astype(np.int64)).to(at)
        noise = clips["label"].to_numpy() == NOISE
        self.is_noise = torch.from_numpy(noise).to(at)
        self.noise = torch.from_numpy(np.flatnonzero(noise)).to(at)
        if metadata:
            table = np.stack([metadata[r] for r in store.recordings]).astype(np.float32)
        else:
            table = np.zeros((len(store.recordings), 0), np.float32)
        self.metadata = torch.from_numpy(table).to(at)
        self.batches = batches if batches is not None else -(-len(clips) // batch_size)
        self._generators()

    def __len__(self) -> int:
        return self.batches

    @property
    def clips(self) -> int:
        return len(self.targets)

    def _generators(self) -> None:
        """Generators of this epoch's draws: window cutting (where windows are cut), the
        rest of augmentation (on the device), mixup's weights (host scalars, no sync)."""
        self.cut_generator = torch.Generator(self.store.device)
        self.cut_generator.manual_seed(epoch_seed(self.seed, self.epoch, 0))
        self.generator = torch.Generator(self.device)
        self.generator.manual_seed(epoch_seed(self.seed, self.epoch, 1))
        self.host_rng = np.random.default_rng([self.seed, self.epoch, 2])

    def __iter__(self) -> Iterator[Batch]:
        self._generators()
        order = self.order() if self.order is not None else torch.arange(self.clips)
        order = order.to(self.store.device)
        for first in range(0, self.batches * self.batch_size, self.batch_size):
            yield self._batch(order[first : first + self.batch_size])

    def _batch(self, clip: torch.Tensor) -> Batch:
        aug = self.augment
        windows = self._cut(clip, bool(aug and aug["time_shift"]["enabled"]))
        noise = None
        if aug and aug["noise"]["enabled"] and len(self.noise):
            picked = torch.randint(
                len(self.noise), clip.shape, generator=self.cut_generator, device=clip.device
            )
            noise = self._cut(self.noise[picked], aug["time_shift"]["enabled"])
            noise = self._to_device(noise)
        windows = self._to_device(windows)
        if aug:
            windows = self._augment(windows, noise, self.is_noise[clip].to(self.device))
        else:
            windows = self.frontend.normalize(windows)
        meta = self.metadata[self.recording[clip]]
        return windows.unsqueeze(1), meta.to(self.device), self.label[clip].to(self.device)

    def _cut(self, clip: torch.Tensor, shift: bool) -> torch.Tensor:
        """Raw dB windows of `clip` around their centres (random ones with `shift`)."""
        start_s, end_s = self.start_s[clip], self.end_s[clip]
        if shift:
            centre = start_s + (end_s - start_s) * uniform(len(clip), 0.0, 1.0, self.cut_generator)
        else:
            centre = (start_s + end_s) / 2
        settings = self.frontend.settings
        start = torch.round((centre - settings.window_s / 2) / settings.frame_s).long()
        recording = self.recording[clip]
        last = self.store.lengths[recording] - settings.frames_per_window
        return self.store.windows(recording, torch.minimum(start.clamp(min=0), last))

    def _to_device(self, windows: torch.Tensor) -> torch.Tensor:
        if windows.device == self.device:
            return windows
        if self.device.type == "cuda":
            windows = windows.pin_memory()
        return windows.to(self.device, non_blocking=True)

    def _augment(
        self, windows: torch.Tensor, noise: torch.Tensor | None, is_noise: torch.Tensor
    ) -> torch.Tensor:
        aug, generator = self.augment, self.generator
        if aug["gain"]["enabled"]:
            windows = random_gain(windows, generator, aug["gain"]["max_db"])
        if noise is not None:
            spec = aug["noise"]
            draws = uniform(len(windows), 0.0, 1.0, generator)
            gets_noise = ~is_noise & (draws < spec["probability"])
            mixed = mix_noise(windows, noise, generator, spec["snr_db"])
            windows = torch.where(gets_noise[:, None, None], mixed, windows)
        windows = self.frontend.normalize(windows)
        masks = aug["spec_augment"]
        if masks["enabled"]:
            windows = spec_augment(
                windows,
                generator,
                masks["time_masks"],
                masks["time_width"],
                masks["freq_masks"],
                masks["freq_width"],
            )
        return windows

    def mixup(
        self, x: torch.Tensor, targets: torch.Tensor, meta: torch.Tensor, alpha: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mixup of a batch of this pass: weight Beta(alpha, alpha), partners a permutation."""
        lam = float(self.host_rng.beta(alpha, alpha))
        partner = torch.randperm(len(x), generator=self.generator, device=self.device)
        return mixup(x, targets, meta, lam, partner)
