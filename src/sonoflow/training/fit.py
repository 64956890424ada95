"""Training one model on given clips (one fold, or one tuning trial), in named steps:

- set-up (`_set_up`): seeds, data (frames in memory, batches), model, loss, the run's fingerprint;
- resume or learning-rate choice (`_start`): continue a checkpoint of this very run, or start
  afresh at the configured rate or one a range test chooses; the optimiser and its schedule;
- the epoch loop (`_epoch_loop`): per epoch a training pass and a validation pass
  (`_train_epoch`);
- early stopping with checkpointing: `_record_epoch` keeps the best epoch's weights and counts
  epochs without improvement, `_save_checkpoint` writes all a rerun needs after every epoch.

`fold.train_fold` runs `fit` for a cross-validation fold and writes its outputs.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from sonoflow.common.atomic import write_csv
from sonoflow.common.device import pick_device
from sonoflow.common.identity import file_identity
from sonoflow.corpus.metadata import fit_encoder, read_metadata, recording_vectors
from sonoflow.datasets.noise_mining import NOISE
from sonoflow.features.cache import SpectrogramCache
from sonoflow.features.registry import build_frontend
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.models.detector import Detector
from sonoflow.training.checkpoints import (
    StopSignal,
    fingerprint,
    load_checkpoint,
    restore_rng_states,
    rng_states,
    save_checkpoint,
)
from sonoflow.training.clip_batches import ClipBatches
from sonoflow.training.data import TrainingData
from sonoflow.training.epoch import PassSetup, Precision, evaluation_pass, training_pass
from sonoflow.training.loaders import loaders
from sonoflow.training.losses import build_loss, class_counts
from sonoflow.training.lr_range_test import choose_lr, plot_lr_range_test
from sonoflow.training.schedule import SCHEDULE, WarmupCosine, optimizer_and_schedule

log = logging.getLogger(__name__)

EpochCallback = Callable[[int, dict], None]


def class_names(labels: list[str]) -> list[str]:
    return [*labels, NOISE]


@dataclass
class FitResult:
    history: list[dict]
    best_state: dict
    best_epoch: int
    lr: float
    model_info: dict  # what rebuilds the model: classes, model, features, metadata_encoder
    device: str
    train_clips: int
    val_clips: int
    resumed_after_epoch: int | None

    @property
    def best_metrics(self) -> dict:
        row = next(r for r in self.history if r["epoch"] == self.best_epoch)
        return {k: v for k, v in row.items() if k.startswith("val_")}


@dataclass
class _Run:
    """What one training run works with, made by `_set_up`."""

    config: dict  # the model config with the schema's defaults
    device: torch.device
    classes: list[str]
    encoder: dict | None  # the metadata encoder of fusion models
    generator: torch.Generator  # the training order's: shuffling and oversampling
    train_batches: ClipBatches
    val_batches: ClipBatches
    precision: Precision
    model: Detector
    loss_fn: nn.Module
    fingerprint: str  # of every input and setting: a checkpoint resumes only the same run


def fit(
    data: TrainingData,
    train_rows: np.ndarray | pd.Series,
    val_rows: np.ndarray | pd.Series,
    model_config: dict,
    *,
    threads: int = 1,
    seed_offset: int = 0,
    checkpoint_path: str | Path | None = None,
    on_epoch: EpochCallback | None = None,
    plot_dir: str | Path | None = None,
) -> FitResult:
    """Train on `data`'s clips at `train_rows`, validate on those at `val_rows` (boolean
    masks over `data.clips`) every epoch, keep the best epoch.

    Hyperparameters come only from `model_config` (schema defaults fill what it omits).
    `on_epoch(epoch, row)` gets each epoch's history row (with `val_macro_f1`) and may
    raise to stop (for example optuna.TrialPruned). With `checkpoint_path`, every finished
    epoch is checkpointed there and a rerun of the same training resumes from it; SIGTERM
    stops the run between batches. With `plot_dir`, `lr: auto` writes its range test there.
    """
    config = model_with_defaults(model_config)
    torch.set_num_threads(max(1, threads))
    run = _set_up(config, data, data.clips[train_rows], data.clips[val_rows], seed_offset)
    resumed = load_checkpoint(checkpoint_path, run.fingerprint) if checkpoint_path else None
    progress, optimizer, scheduler = _start(run, resumed, plot_dir)
    log.info(
        "on %s: %d train clips (%d per epoch), %d validation clips, lr %.3g, from epoch %d",
        run.device,
        run.train_batches.clips,
        len(run.train_batches) * int(run.config["batch_size"]),
        run.val_batches.clips,
        progress["lr"],
        progress["epoch"] + 1,
    )
    _epoch_loop(run, progress, optimizer, scheduler, checkpoint_path, on_epoch)
    history = progress["history"]
    best_row = max(history, key=lambda r: r["val_macro_f1"])  # the first of equals, as kept
    model_info = {"classes": run.classes, "model": run.config, "features": dict(data.features)}
    if run.encoder:
        model_info["metadata_encoder"] = run.encoder
    return FitResult(
        history=history,
        best_state=progress["best"],
        best_epoch=best_row["epoch"],
        lr=progress["lr"],
        model_info=model_info,
        device=run.device.type,
        train_clips=run.train_batches.clips,
        val_clips=run.val_batches.clips,
        resumed_after_epoch=resumed["epoch"] if resumed else None,
    )


def _set_up(
    config: dict,
    data: TrainingData,
    train_clips: pd.DataFrame,
    val_clips: pd.DataFrame,
    seed_offset: int,
) -> _Run:
    """Seeds, data, model and loss. The order fixes what each random draw is."""
    seed = int(config["seed"]) + seed_offset
    torch.manual_seed(seed)
    device = pick_device()
    frontend = build_frontend(data.features)
    settings = frontend.settings
    cache = SpectrogramCache(data.cache_dir, settings, data.extra_cache_dirs)
    classes = class_names(data.labels)
    encoder, vectors = _metadata_vectors(config, train_clips, val_clips, data.metadata_csv)
    generator = torch.Generator().manual_seed(seed)
    train_batches, val_batches = loaders(
        train_clips, val_clips, cache, frontend, classes, config, device, generator, seed, vectors
    )
    precision = Precision(device, config["precision"], config["channels_last"])
    shape = (settings.n_bins, settings.frames_per_window)
    model = build_model(
        config, len(classes), shape, metadata_width=encoder["width"] if encoder else 0
    )
    model = model.to(device, memory_format=precision.memory_format)
    loss_fn = build_loss(config, class_counts(train_batches.targets, len(classes))).to(device)
    run_id = fingerprint(
        config,
        data.features,
        data.labels,
        seed_offset,
        train_clips.to_dict("list"),
        val_clips["uid"].tolist(),
        encoder,
        SCHEDULE,
        # a cache rebuilt (a recording replaced at the same path) rewrites its index
        *[file_identity(index) for index in data.cache_indexes()],
    )
    return _Run(
        config=config,
        device=device,
        classes=classes,
        encoder=encoder,
        generator=generator,
        train_batches=train_batches,
        val_batches=val_batches,
        precision=precision,
        model=model,
        loss_fn=loss_fn,
        fingerprint=run_id,
    )


def _metadata_vectors(
    config: dict, train_clips: pd.DataFrame, val_clips: pd.DataFrame, metadata_csv
) -> tuple[dict | None, dict | None]:
    """(encoder, vector per recording) for fusion models, else (None, None)."""
    spec = config["metadata"]
    if spec["fusion"] == "none":
        return None, None
    table = read_metadata(metadata_csv, "corpus.metadata")
    train_recordings = sorted(set(train_clips["recording"]))
    missing = sorted(set(train_recordings) - set(table.index))
    if missing:
        raise ValueError(f"{metadata_csv} (config key corpus.metadata): no row for {missing}")
    encoder = fit_encoder(table.loc[train_recordings], spec, str(metadata_csv))
    recordings = sorted(set(train_clips["recording"]) | set(val_clips["recording"]))
    return encoder, recording_vectors(recordings, metadata_csv, encoder, "corpus.metadata")


def _start(
    run: _Run, resumed: dict | None, plot_dir: str | Path | None
) -> tuple[dict, torch.optim.Optimizer, WarmupCosine]:
    """The progress so far (epoch, history, best weights, epochs without improvement,
    learning rate), the optimiser and its schedule: as checkpointed in `resumed`, else
    afresh with the configured rate or, for `lr: auto`, the range test's choice."""
    config = run.config
    progress = {"epoch": 0, "history": [], "best": None, "best_f1": -1.0, "waited": 0}
    if resumed:
        progress = resumed["progress"]
    elif config["lr"] == "auto":
        progress["lr"], curve = choose_lr(
            run.model, run.train_batches, run.loss_fn, run.device, run.precision, config
        )
        if plot_dir is not None:
            write_csv(Path(plot_dir) / "lr_range_test.csv", curve)
            plot_lr_range_test(curve, progress["lr"], Path(plot_dir) / "lr_range_test.png")
    else:
        progress["lr"] = float(config["lr"])
    optimizer, scheduler = optimizer_and_schedule(
        run.model, config, progress["lr"], len(run.train_batches)
    )
    if resumed:
        run.model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        scheduler.load_state_dict(resumed["scheduler"])
        run.precision.scaler.load_state_dict(resumed["scaler"])
        restore_rng_states(resumed["rng"], run.generator)
    return progress, optimizer, scheduler


def _epoch_loop(
    run: _Run,
    progress: dict,
    optimizer: torch.optim.Optimizer,
    scheduler: WarmupCosine,
    checkpoint_path: str | Path | None,
    on_epoch: EpochCallback | None,
) -> None:
    """Epochs until the last or until early stopping, each checkpointed."""
    config = run.config
    with StopSignal() as stop:
        while progress["epoch"] < int(config["epochs"]):
            if progress["waited"] >= int(config["patience"]):
                log.info(
                    "early stop: no better validation macro-F1 for %d epochs", progress["waited"]
                )
                break
            epoch = progress["epoch"] + 1
            row = _train_epoch(run, epoch, optimizer, scheduler, stop)
            _record_epoch(progress, row, run.model)
            if checkpoint_path:
                _save_checkpoint(checkpoint_path, run, progress, optimizer, scheduler)
            if on_epoch is not None:
                on_epoch(epoch, dict(row))


def _train_epoch(
    run: _Run,
    epoch: int,
    optimizer: torch.optim.Optimizer,
    scheduler: WarmupCosine,
    stop: StopSignal,
) -> dict:
    """One epoch of training, then a validation pass: the epoch's history row."""
    config = run.config
    frozen = epoch <= config["freeze_epochs"]
    for parameter in run.model.backbone.parameters():
        parameter.requires_grad_(not frozen)
    run.train_batches.epoch = epoch
    lrs = [group["lr"] for group in optimizer.param_groups]  # (backbone, head)
    mixup = config["augment"]["mixup"]
    mix = functools.partial(run.train_batches.mixup, alpha=mixup["alpha"])
    setup = PassSetup(
        model=run.model,
        loss_fn=run.loss_fn,
        device=run.device,
        multi_label=config["multi_label"],
        precision=run.precision,
    )
    started = time.perf_counter()
    train = training_pass(
        setup,
        run.train_batches,
        optimizer,
        scheduler=scheduler,
        updates_done=(epoch - 1) * len(run.train_batches),
        stop=stop,
        frozen=frozen,
        mix=mix if mixup["enabled"] else None,
        grad_clip=config["grad_clip"],
    )
    seconds = time.perf_counter() - started
    val = evaluation_pass(setup, run.val_batches)
    samples = train.pop("samples")
    val.pop("samples")
    row = {"epoch": epoch}
    row.update({f"train_{k}": v for k, v in train.items()})
    row.update({f"val_{k}": v for k, v in val.items()})
    row.update(
        lr=lrs[1],
        backbone_lr=0.0 if frozen else lrs[0],
        epoch_s=seconds,
        samples_per_s=samples / seconds,
    )
    return row


def _record_epoch(progress: dict, row: dict, model: Detector) -> None:
    """Early stopping's bookkeeping: the history, the best epoch's weights (a copy)
    and the count of epochs without a better validation macro-F1."""
    progress["history"].append(row)
    log.info("epoch %d: %s", row["epoch"], {k: round(v, 4) for k, v in row.items()})
    if row["val_macro_f1"] > progress["best_f1"]:
        best = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        progress.update(best_f1=row["val_macro_f1"], best=best, waited=0)
    else:
        progress["waited"] += 1
    progress["epoch"] = row["epoch"]


def _save_checkpoint(
    path: str | Path,
    run: _Run,
    progress: dict,
    optimizer: torch.optim.Optimizer,
    scheduler: WarmupCosine,
) -> None:
    """Everything the next epoch depends on, so that a rerun continues exactly here."""
    save_checkpoint(
        path,
        {
            "fingerprint": run.fingerprint,
            "epoch": progress["epoch"],
            "model": run.model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "scaler": run.precision.scaler.state_dict(),
            "rng": rng_states(run.generator),
            "progress": progress,
        },
    )
