"""One pass over batches: a training epoch (with an optimiser) or a validation pass.

Losses and predictions stay on the device during the pass and are read once at its end, so
no step waits for the device."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

import numpy as np
import torch
from sklearn.metrics import f1_score
from timm.scheduler import CosineLRScheduler
from torch import nn

from sonoflow.models.detector import Detector
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
    batches: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    loss_fn: nn.Module,
    device: torch.device,
    multi_label: bool,
    precision: Precision,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: CosineLRScheduler | None = None,
    updates_done: int = 0,
    stop: StopSignal | None = None,
    frozen: bool = False,
    mix: Callable | None = None,
    grad_clip: float = 0.0,
) -> dict:
    """One pass; trains when an optimizer is given. Returns loss, accuracy, macro-F1, samples.

    `updates_done` counts the optimizer's updates before this pass, for `scheduler`;
    `mix(x, targets, meta)` mixes training batches (mixup).
    """
    training = optimizer is not None
    model.train(training)
    if frozen:
        model.backbone.eval()  # a frozen backbone keeps its normalisation statistics too
    # float64 on the device: the sum a Python float would give, without a sync per step
    total_loss = torch.zeros((), dtype=torch.float64, device=device)
    predicted, truth = [], []
    with torch.set_grad_enabled(training):
        for x, meta, y in batches:
            x = x.to(device, non_blocking=True, memory_format=precision.memory_format)
            meta = meta.to(device, non_blocking=True)
            targets = one_hot_targets(y, model, device)
            if training and mix is not None:
                x, targets, meta = mix(x, targets, meta)
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
            total_loss += loss.detach().double() * len(y)
            if multi_label:
                predicted.append(logits.detach().float().sigmoid() > 0.5)
            else:
                predicted.append(logits.detach().argmax(1))
            truth.append(y)
    predicted, truth = torch.cat(predicted).cpu().numpy(), torch.cat(truth).cpu().numpy()
    if multi_label:
        truth = np.eye(predicted.shape[1], dtype=bool)[truth]
        accuracy = float((predicted == truth).all(axis=1).mean())
    else:
        accuracy = float((predicted == truth).mean())
    macro_f1 = float(f1_score(truth, predicted, average="macro", zero_division=0))
    return {
        "loss": float(total_loss) / len(truth),
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "samples": len(truth),
    }
