"""Training: `fit` trains one model on given clips (one fold, or one tuning trial);
`train_fold` runs it for a cross-validation fold and writes the fold's outputs."""

from __future__ import annotations

import contextlib
import copy
import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import f1_score
from torch import nn
from torch.utils.data import DataLoader, WeightedRandomSampler

from sonoflow.common.atomic import write_csv, write_json
from sonoflow.common.device import pick_device
from sonoflow.corpus.metadata import fit_encoder, read_metadata, recording_vectors
from sonoflow.datasets.noise_mining import NOISE
from sonoflow.features.cache import SpectrogramCache
from sonoflow.features.frontend import FeatureFrontend, FeatureSettings
from sonoflow.models.build import build_model
from sonoflow.models.config import apply_params, model_with_defaults
from sonoflow.models.detector import Detector
from sonoflow.models.weights import save_weights
from sonoflow.training.augment import mixup
from sonoflow.training.checkpoints import (
    StopSignal,
    fingerprint,
    load_checkpoint,
    restore_rng_states,
    rng_states,
    save_checkpoint,
)
from sonoflow.training.clip_windows import ClipWindows, oversampling_factors
from sonoflow.training.losses import build_loss, class_counts
from sonoflow.training.lr_range_test import lr_range_test, plot_lr_range_test

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
    meta: dict  # what rebuilds the model: classes, model, features, metadata_encoder
    device: str
    train_clips: int
    val_clips: int
    resumed_after_epoch: int | None

    @property
    def best_metrics(self) -> dict:
        row = next(r for r in self.history if r["epoch"] == self.best_epoch)
        return {k: v for k, v in row.items() if k.startswith("val_")}


class Precision:
    """Autocast, gradient scaling and memory format: active on CUDA, inert on CPU."""

    def __init__(self, device: torch.device, precision: str, channels_last: bool):
        self.cuda = device.type == "cuda"
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        self.enabled = self.cuda and self.dtype is not None
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.enabled and precision == "fp16")
        self.memory_format = (
            torch.channels_last if self.cuda and channels_last else torch.contiguous_format
        )

    def autocast(self):
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.dtype)


def cosine_with_warmup(total_steps: int, warmup_steps: int, min_ratio: float):
    """LR factor per step: linear warm-up, then cosine decay to `min_ratio`."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def set_backbone_frozen(model: Detector, frozen: bool) -> None:
    for parameter in model.backbone.parameters():
        parameter.requires_grad_(not frozen)


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


def fit(
    train_clips: pd.DataFrame,
    val_clips: pd.DataFrame,
    cache_dir: str | Path,
    features: dict,
    labels: list[str],
    model_config: dict,
    *,
    metadata_csv: str | Path | None = None,
    threads: int = 1,
    seed_offset: int = 0,
    checkpoint_path: str | Path | None = None,
    on_epoch: EpochCallback | None = None,
    plot_dir: str | Path | None = None,
) -> FitResult:
    """Train on `train_clips`, validate on `val_clips` every epoch, keep the best epoch.

    Hyperparameters come only from `model_config` (schema defaults fill what it omits).
    `on_epoch(epoch, row)` gets each epoch's history row (with `val_macro_f1`) and may
    raise to stop (for example optuna.TrialPruned). With `checkpoint_path`, every finished
    epoch is checkpointed there and a rerun of the same training resumes from it; SIGTERM
    stops the run between batches. With `plot_dir`, `lr: auto` writes its range test there.
    """
    config = model_with_defaults(model_config)
    torch.set_num_threads(max(1, threads))
    seed = int(config["seed"]) + seed_offset
    torch.manual_seed(seed)
    device = pick_device()
    settings = FeatureSettings.from_config(features)
    frontend = FeatureFrontend(settings)
    cache = SpectrogramCache(cache_dir, settings)
    classes = class_names(labels)
    encoder, vectors = _metadata_vectors(config, train_clips, val_clips, metadata_csv)
    train_set = ClipWindows(
        train_clips, cache, frontend, classes, config["augment"], seed=seed, metadata=vectors
    )
    val_set = ClipWindows(val_clips, cache, frontend, classes, metadata=vectors)
    generator = torch.Generator().manual_seed(seed)
    batch = int(config["batch_size"])
    loader_options = {
        "batch_size": batch,
        "num_workers": config["workers"],
        "pin_memory": device.type == "cuda",
    }
    train_loader = _train_loader(train_set, config["imbalance"], generator, loader_options)
    val_loader = DataLoader(val_set, **loader_options)

    shape = (settings.n_bins, settings.frames_per_window)
    width = encoder["width"] if encoder else 0
    precision = Precision(device, config["precision"], config["channels_last"])
    model = build_model(config, len(classes), shape, metadata_width=width)
    model = model.to(device, memory_format=precision.memory_format)
    counts = class_counts(train_set.targets, len(classes))
    loss_fn = build_loss(config, counts).to(device)
    run_id = fingerprint(
        config,
        features,
        labels,
        seed_offset,
        train_clips.to_dict("list"),
        val_clips["uid"].tolist(),
        encoder,
    )
    resumed = load_checkpoint(checkpoint_path, run_id) if checkpoint_path else None
    progress = {"epoch": 0, "history": [], "best": None, "best_f1": -1.0, "waited": 0}
    if resumed:
        progress = resumed["progress"]
    elif config["lr"] == "auto":
        progress["lr"], curve = _choose_lr(model, train_loader, loss_fn, device, precision, config)
        if plot_dir is not None:
            write_csv(Path(plot_dir) / "lr_range_test.csv", curve)
            plot_lr_range_test(curve, progress["lr"], Path(plot_dir) / "lr_range_test.png")
    else:
        progress["lr"] = float(config["lr"])
    lr = progress["lr"]
    steps = len(train_loader)
    optimizer, scheduler = _optimizer_and_schedule(model, config, lr, steps)
    if resumed:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        scheduler.load_state_dict(resumed["scheduler"])
        precision.scaler.load_state_dict(resumed["scaler"])
        restore_rng_states(resumed["rng"], generator)
    log.info(
        "on %s: %d train clips (%d per epoch), %d validation clips, lr %.3g, from epoch %d",
        device,
        len(train_set),
        steps * batch,
        len(val_set),
        lr,
        progress["epoch"] + 1,
    )
    epoch_options = {"multi_label": config["multi_label"], "precision": precision}
    mixup_alpha = (
        config["augment"]["mixup"]["alpha"] if config["augment"]["mixup"]["enabled"] else 0
    )
    with StopSignal() as stop:
        while progress["epoch"] < int(config["epochs"]):
            if progress["waited"] >= int(config["patience"]):
                log.info(
                    "early stop: no better validation macro-F1 for %d epochs", progress["waited"]
                )
                break
            epoch = progress["epoch"] + 1
            frozen = epoch <= config["freeze_epochs"]
            set_backbone_frozen(model, frozen)
            train_set.epoch = epoch
            lrs = [group["lr"] for group in optimizer.param_groups]
            started = time.perf_counter()
            train = _run_epoch(
                model,
                train_loader,
                loss_fn,
                device,
                **epoch_options,
                optimizer=optimizer,
                scheduler=scheduler,
                stop=stop,
                frozen=frozen,
                mixup_alpha=mixup_alpha,
                grad_clip=config["grad_clip"],
            )
            seconds = time.perf_counter() - started
            val = _run_epoch(model, val_loader, loss_fn, device, **epoch_options)
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
            progress["history"].append(row)
            log.info("epoch %d: %s", epoch, {k: round(v, 4) for k, v in row.items()})
            if row["val_macro_f1"] > progress["best_f1"]:
                best = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
                progress.update(best_f1=row["val_macro_f1"], best=best, waited=0)
            else:
                progress["waited"] += 1
            progress["epoch"] = epoch
            if checkpoint_path:
                save_checkpoint(
                    checkpoint_path,
                    {
                        "fingerprint": run_id,
                        "epoch": epoch,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "scaler": precision.scaler.state_dict(),
                        "rng": rng_states(generator),
                        "progress": progress,
                    },
                )
            if on_epoch is not None:
                on_epoch(epoch, dict(row))
    history = progress["history"]
    best_row = max(history, key=lambda r: r["val_macro_f1"])  # the first of equals, as kept
    meta = {"classes": classes, "model": config, "features": dict(features)}
    if encoder:
        meta["metadata_encoder"] = encoder
    return FitResult(
        history=history,
        best_state=progress["best"],
        best_epoch=best_row["epoch"],
        lr=lr,
        meta=meta,
        device=device.type,
        train_clips=len(train_set),
        val_clips=len(val_set),
        resumed_after_epoch=resumed["epoch"] if resumed else None,
    )


def train_fold(
    clips: pd.DataFrame,
    folds: np.ndarray,
    fold: int,
    cache_dir: str | Path,
    features: dict,
    labels: list[str],
    model_config: dict,
    out_dir: str | Path,
    threads: int = 1,
    checkpoint_path: str | Path | None = None,
    metadata_csv: str | Path | None = None,
    tuned_params: dict | None = None,
) -> dict:
    """Train on every train+val fold but `fold`, validate on `fold`; write model.pt,
    history.csv and results.json into `out_dir`. `tuned_params` (a tuning study's best,
    dotted names for nested keys) override the model config's values."""
    out_dir = Path(out_dir)
    model_config = apply_params(model_config, tuned_params or {})
    result = fit(
        clips[(folds >= 0) & (folds != fold)],
        clips[folds == fold],
        cache_dir,
        features,
        labels,
        model_config,
        metadata_csv=metadata_csv,
        threads=threads,
        seed_offset=fold,
        checkpoint_path=checkpoint_path,
        plot_dir=out_dir,
    )
    meta = {**result.meta, "fold": fold}
    save_weights(out_dir / "model.pt", result.best_state, meta)
    write_csv(out_dir / "history.csv", pd.DataFrame(result.history))
    config = result.meta["model"]
    results = {
        **meta,
        "device": result.device,
        "hyperparameters": {
            "lr": result.lr,
            **{
                k: config[k]
                for k in (
                    "dropout",
                    "backbone_lr_mult",
                    "head_width",
                    "weight_decay",
                    "freeze_epochs",
                )
            },
            "augment.mixup.alpha": config["augment"]["mixup"]["alpha"],
        },
        "tuned_params": tuned_params,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "resumed_after_epoch": result.resumed_after_epoch,
        "train_clips": result.train_clips,
        "val_clips": result.val_clips,
        "metrics": result.best_metrics,
    }
    write_json(out_dir / "results.json", results)
    if checkpoint_path:
        Path(checkpoint_path).unlink(missing_ok=True)  # outputs are complete: nothing to resume
    return results


def _train_loader(
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


def _optimizer_and_schedule(model: Detector, config: dict, lr: float, steps_per_epoch: int):
    """AdamW with the backbone's rate scaled by backbone_lr_mult; cosine schedule per step."""
    backbone = list(model.backbone.parameters())
    backbone_ids = {id(p) for p in backbone}
    optimizer = torch.optim.AdamW(
        [
            {"params": backbone, "lr": lr * config["backbone_lr_mult"]},
            {"params": [p for p in model.parameters() if id(p) not in backbone_ids], "lr": lr},
        ],
        weight_decay=float(config["weight_decay"]),
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        cosine_with_warmup(
            config["epochs"] * steps_per_epoch,
            int(round(config["warmup_epochs"] * steps_per_epoch)),
            min(1.0, config["min_lr"] / lr),
        ),
    )
    return optimizer, scheduler


def _choose_lr(
    model: Detector,
    loader: DataLoader,
    loss_fn: nn.Module,
    device: torch.device,
    precision: Precision,
    config: dict,
) -> tuple[float, pd.DataFrame]:
    """Run the range test on a copy of the weights; the model is left as it was."""
    saved = copy.deepcopy(model.state_dict())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1.0, weight_decay=config["weight_decay"])
    batches = itertools.cycle(loader)
    model.train()

    def step(lr: float) -> float:
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, meta, y = next(batches)
        x = x.to(device, memory_format=precision.memory_format)
        targets = _targets(y, model, device)
        with precision.autocast():
            loss = loss_fn(model(x, meta.to(device)), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    spec = config["lr_range_test"]
    curve, chosen = lr_range_test(step, spec["start"], spec["end"], spec["steps"])
    model.load_state_dict(saved)
    log.info("lr range test over %d batches: chose %.3g", len(curve), chosen)
    return chosen, curve


def _targets(y: torch.Tensor, model: Detector, device: torch.device) -> torch.Tensor:
    n_classes = model.head[-1].out_features
    return nn.functional.one_hot(y.to(device), n_classes).float()


def _run_epoch(
    model: Detector,
    loader: DataLoader,
    loss_fn: nn.Module,
    device: torch.device,
    multi_label: bool,
    precision: Precision,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler=None,
    stop: StopSignal | None = None,
    frozen: bool = False,
    mixup_alpha: float = 0.0,
    grad_clip: float = 0.0,
) -> dict:
    """One pass; trains when an optimizer is given. Returns loss, accuracy, macro-F1, samples."""
    training = optimizer is not None
    model.train(training)
    if frozen:
        model.backbone.eval()  # a frozen backbone keeps its normalisation statistics too
    total_loss, predicted, truth = 0.0, [], []
    with torch.set_grad_enabled(training):
        for x, meta, y in loader:
            x = x.to(device, non_blocking=True, memory_format=precision.memory_format)
            meta = meta.to(device, non_blocking=True)
            targets = _targets(y, model, device)
            if training and mixup_alpha > 0:
                x, targets, meta = mixup(x, targets, meta, mixup_alpha)
            with precision.autocast():
                logits = model(x, meta)
                loss = loss_fn(logits.float(), targets)
            if training:
                optimizer.zero_grad()
                precision.scaler.scale(loss).backward()
                if grad_clip > 0:
                    precision.scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                precision.scaler.step(optimizer)
                precision.scaler.update()
                scheduler.step()
                if stop is not None:
                    stop.check()
            total_loss += float(loss.detach()) * len(y)
            if multi_label:
                predicted.append((logits.float().sigmoid() > 0.5).cpu())
            else:
                predicted.append(logits.argmax(1).cpu())
            truth.append(y)
    predicted, truth = torch.cat(predicted).numpy(), torch.cat(truth).numpy()
    if multi_label:
        truth = np.eye(predicted.shape[1], dtype=bool)[truth]
        accuracy = float((predicted == truth).all(axis=1).mean())
    else:
        accuracy = float((predicted == truth).mean())
    macro_f1 = float(f1_score(truth, predicted, average="macro", zero_division=0))
    return {
        "loss": total_loss / len(truth),
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "samples": len(truth),
    }
