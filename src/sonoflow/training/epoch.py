"""One pass over batches: a training epoch (`training_pass`) or a validation pass
(`evaluation_pass`).

Losses and predictions stay on the device during the pass and are read once at its end, so
no step waits for the device."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import f1_score
from torch import nn

from sonoflow.models.detector import Detector
from sonoflow.training.checkpoints import StopSignal
from sonoflow.training.schedule import WarmupCosine, set_next_rate


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


@dataclass(frozen=True)
class PassSetup:
    """What a training pass and an evaluation pass share."""

    model: Detector
    loss_fn: nn.Module
    device: torch.device
    multi_label: bool
    precision: Precision


class _Tally:
    """Loss and predictions of one pass, kept on the device until `summary`."""

    def __init__(self, setup: PassSetup):
        self.multi_label = setup.multi_label
        # float64 on the device: the sum a Python float would give, without a sync per step
        self.total_loss = torch.zeros((), dtype=torch.float64, device=setup.device)
        self.predicted, self.truth = [], []

    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        self.total_loss += loss.detach().double() * len(y)
        if self.multi_label:
            self.predicted.append(logits.detach().float().sigmoid() > 0.5)
        else:
            self.predicted.append(logits.detach().argmax(1))
        self.truth.append(y)

    def summary(self) -> dict:
        """Loss, accuracy, macro-F1 and samples of the pass."""
        predicted = torch.cat(self.predicted).cpu().numpy()
        truth = torch.cat(self.truth).cpu().numpy()
        if self.multi_label:
            truth = np.eye(predicted.shape[1], dtype=bool)[truth]
            accuracy = float((predicted == truth).all(axis=1).mean())
        else:
            accuracy = float((predicted == truth).mean())
        macro_f1 = float(f1_score(truth, predicted, average="macro", zero_division=0))
        return {
            "loss": float(self.total_loss) / len(truth),
            "accuracy": accuracy,
            "macro_f1": macro_f1,
            "samples": len(truth),
        }


def _on_device(setup: PassSetup, x: torch.Tensor, meta: torch.Tensor, y: torch.Tensor):
    """(x, meta, one-hot targets) on the setup's device."""
    x = x.to(setup.device, non_blocking=True, memory_format=setup.precision.memory_format)
    meta = meta.to(setup.device, non_blocking=True)
    return x, meta, one_hot_targets(y, setup.model, setup.device)


def _forward(setup: PassSetup, x: torch.Tensor, meta: torch.Tensor, targets: torch.Tensor):
    """(logits, loss) under the setup's precision."""
    with setup.precision.autocast():
        logits = setup.model(x, meta)
        return logits, setup.loss_fn(logits.float(), targets)


def training_pass(
    setup: PassSetup,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    *,
    scheduler: WarmupCosine | None = None,
    updates_done: int = 0,
    stop: StopSignal | None = None,
    frozen: bool = False,
    mix: Callable | None = None,
    grad_clip: float = 0.0,
) -> dict:
    """One training epoch. Returns loss, accuracy, macro-F1, samples.

    `updates_done` counts the optimizer's updates before this pass, for `scheduler`;
    `mix(x, targets, meta)` mixes training batches (mixup).
    """
    setup.model.train(True)
    if frozen:
        setup.model.backbone.eval()  # a frozen backbone keeps its normalisation statistics too
    scaler = setup.precision.scaler
    tally = _Tally(setup)
    for x, meta, y in batches:
        x, meta, targets = _on_device(setup, x, meta, y)
        if mix is not None:
            x, targets, meta = mix(x, targets, meta)
        logits, loss = _forward(setup, x, meta, targets)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        if grad_clip > 0:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(setup.model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        updates_done += 1
        if scheduler is not None:
            set_next_rate(scheduler, updates_done)
        if stop is not None:
            stop.check()
        tally.add(loss, logits, y)
    return tally.summary()


def evaluation_pass(
    setup: PassSetup, batches: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
) -> dict:
    """One pass without gradients (validation). Returns loss, accuracy, macro-F1, samples."""
    setup.model.train(False)
    tally = _Tally(setup)
    with torch.no_grad():
        for x, meta, y in batches:
            x, meta, targets = _on_device(setup, x, meta, y)
            logits, loss = _forward(setup, x, meta, targets)
            tally.add(loss, logits, y)
    return tally.summary()
