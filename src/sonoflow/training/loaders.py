"""The training and validation loaders over clip windows."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, WeightedRandomSampler

from sonoflow.training.clip_windows import ClipWindows, oversampling_factors


def loaders(
    train_set: ClipWindows,
    val_set: ClipWindows,
    config: dict,
    device: torch.device,
    generator: torch.Generator,
) -> tuple[DataLoader, DataLoader]:
    """(train, validation) loaders with the model config's batch size, workers, imbalance."""
    options = {
        "batch_size": int(config["batch_size"]),
        "num_workers": config["workers"],
        "pin_memory": device.type == "cuda",
    }
    train = train_loader(train_set, config["imbalance"], generator, options)
    return train, DataLoader(val_set, **options)


def train_loader(
    train_set: ClipWindows, imbalance: dict, generator: torch.Generator, options: dict
) -> DataLoader:
    """Shuffled batches; with oversampling, rare classes drawn more often (with replacement).

    A last batch of a single window is dropped: batch norm cannot train on one sample.
    """
    if not imbalance["oversample"]:
        lone = _lone_last(len(train_set), options["batch_size"])
        return DataLoader(train_set, shuffle=True, generator=generator, drop_last=lone, **options)
    n_classes = int(train_set.targets.max()) + 1
    factors = oversampling_factors(train_set.targets, n_classes, imbalance["oversample_cap"])
    weights = factors[train_set.targets]
    draws = int(round(weights.sum()))
    sampler = WeightedRandomSampler(weights.tolist(), draws, replacement=True, generator=generator)
    lone = _lone_last(draws, options["batch_size"])
    return DataLoader(train_set, sampler=sampler, drop_last=lone, **options)


def _lone_last(size: int, batch_size: int) -> bool:
    """Whether the last batch holds one window (and is not the only batch)."""
    return size > batch_size and size % batch_size == 1
