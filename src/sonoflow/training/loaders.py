"""The training and validation batches of a run: one FrameStore of every recording they read,
the training order (shuffled, or oversampled for class imbalance) and the batch counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from sonoflow.features.cache import SpectrogramCache
from sonoflow.features.spectrogram import FeatureFrontend
from sonoflow.training.clip_batches import ClipBatches
from sonoflow.training.clip_windows import oversampling_factors
from sonoflow.training.frame_store import FrameStore


def loaders(
    train_clips: pd.DataFrame,
    val_clips: pd.DataFrame,
    cache: SpectrogramCache,
    frontend: FeatureFrontend,
    classes: list[str],
    config: dict,
    device: torch.device,
    generator: torch.Generator,
    seed: int,
    metadata: dict[str, np.ndarray] | None,
) -> tuple[ClipBatches, ClipBatches]:
    """(train, validation) batches with the model config's batch size, input, imbalance;
    `generator` draws the training order."""
    recordings = sorted(set(train_clips["recording"].astype(str)) | set(val_clips["recording"]))
    store = FrameStore(cache, recordings, config["input"], device)
    common = {"metadata": metadata}
    batch_size = int(config["batch_size"])
    val = ClipBatches(val_clips, store, frontend, classes, device, batch_size, **common)
    train = ClipBatches(
        train_clips,
        store,
        frontend,
        classes,
        device,
        batch_size,
        augment=config["augment"],
        seed=seed,
        **common,
    )
    train.order, train.batches = train_order(
        train.targets, config["imbalance"], batch_size, generator
    )
    return train, val


def train_order(targets: np.ndarray, imbalance: dict, batch_size: int, generator: torch.Generator):
    """(a function drawing one epoch's clip order, batches per epoch): a permutation or, with
    oversampling, draws with replacement that favour rare classes.

    A last batch of a single window is left out: batch norm cannot train on one sample.
    """
    if imbalance["oversample"]:
        n_classes = int(targets.max()) + 1
        factors = oversampling_factors(targets, n_classes, imbalance["oversample_cap"])
        weights = torch.from_numpy(factors[targets])
        draws = int(round(float(weights.sum())))

        def order() -> torch.Tensor:
            return torch.multinomial(weights, draws, replacement=True, generator=generator)

    else:
        draws = len(targets)

        def order() -> torch.Tensor:
            return torch.randperm(draws, generator=generator)

    batches = -(-draws // batch_size) - int(_lone_last(draws, batch_size))
    return order, batches


def _lone_last(size: int, batch_size: int) -> bool:
    """Whether the last batch holds one window (and is not the only batch)."""
    return size > batch_size and size % batch_size == 1
