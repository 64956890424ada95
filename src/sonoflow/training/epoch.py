"""One pass over a loader: a training epoch (with an optimiser) or a validation pass."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from sklearn.metrics import f1_score
from timm.scheduler import CosineLRScheduler
from torch import nn
from torch.utils.data import DataLoader

from sonoflow.models.detector import Detector
from sonoflow.training.augment import mixup
from sonoflow.training.checkpoints import StopSignal
from sonoflow.training.schedule import set_next_rate


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


def one_hot_targets(y: torch.Tensor, model: Detector, device: torch.device) -> torch.Tensor:
    n_classes = model.head[-1].out_features
    return nn.functional.one_hot(y.to(device), n_classes).float()


def run_epoch(
    model: Detector,
    loader: DataLoader,
    loss_fn: nn.Module,
    device: torch.device,
    multi_label: bool,
    precision: Precision,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: CosineLRScheduler | None = None,
    updates_done: int = 0,
    stop: StopSignal | None = None,
    frozen: bool = False,
    mixup_alpha: float = 0.0,
    grad_clip: float = 0.0,
) -> dict:
    """One pass; trains when an optimizer is given. Returns loss, accuracy, macro-F1, samples.

    `updates_done` counts the optimizer's updates before this pass, for `scheduler`.
    """
    training = optimizer is not None
    model.train(training)
    if frozen:
        model.backbone.eval()  # a frozen backbone keeps its normalisation statistics too
    total_loss, predicted, truth = 0.0, [], []
    with torch.set_grad_enabled(training):
        for x, meta, y in loader:
            x = x.to(device, non_blocking=True, memory_format=precision.memory_format)
            meta = meta.to(device, non_blocking=True)
            targets = one_hot_targets(y, model, device)
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
                updates_done += 1
                if scheduler is not None:
                    set_next_rate(scheduler, updates_done)
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
