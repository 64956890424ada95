"""The optimiser and its learning-rate schedule: AdamW, linear warm-up, then cosine decay,
set per update.

The schedule is timm's CosineLRScheduler (warm-up prefix, per update, a group's `lr_scale`
multiplying every rate) written out here, so that a training job need not import timm,
whose import (torchvision included) costs seconds: a vector-MLP job never needs it.
tests/unit/training/test_schedule.py checks the rates against timm's.
"""

from __future__ import annotations

import math

import torch

from sonoflow.models.detector import Detector

# Part of a training run's fingerprint: a checkpoint written under another schedule (an
# optimiser state without `lr_scale`, or timm's scheduler state) starts afresh.
SCHEDULE = "warm-up then cosine per update (timm CosineLRScheduler's rates), lr_scale"


def _undecorated(method):
    return getattr(method, "__wrapped__", method)


class EagerAdamW(torch.optim.AdamW):
    """torch's AdamW without torch's compiler hooks: torch wraps `step` and four other
    methods in code that imports torch._dynamo on the first call (over a second of every
    training job's start-up) to mark graph breaks or disable compilation. Training runs
    eagerly and never compiles the optimiser, so those hooks do nothing here.
    tests/unit/training/test_schedule.py checks the updates equal AdamW's, and
    tests/unit/training/test_startup_imports.py that torch._dynamo stays unloaded."""

    add_param_group = _undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = _undecorated(torch.optim.Optimizer.zero_grad)
    state_dict = _undecorated(torch.optim.Optimizer.state_dict)
    load_state_dict = _undecorated(torch.optim.Optimizer.load_state_dict)

    @torch.no_grad()  # what torch's wrapper sets around the update (differentiable=False)
    def step(self, closure=None):
        return _undecorated(torch.optim.AdamW.step)(self, closure)


class WarmupCosine:
    """Rate of update t (from 1): linear from 0 over `warmup` updates, then a cosine from
    each group's base rate to `lr_min` over `decay` updates, then `lr_min`; every rate
    times the group's `lr_scale` (1 when absent)."""

    def __init__(self, optimizer: torch.optim.Optimizer, decay: int, lr_min: float, warmup: int):
        self.optimizer = optimizer
        self.decay, self.lr_min, self.warmup = decay, lr_min, warmup
        self.base = [float(group["lr"]) for group in optimizer.param_groups]

    def rate(self, base: float, t: int) -> float:
        if t < self.warmup:
            return t * base / self.warmup
        t -= self.warmup
        if t >= self.decay:
            return self.lr_min
        return self.lr_min + 0.5 * (base - self.lr_min) * (1 + math.cos(math.pi * t / self.decay))

    def step_update(self, t: int) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base):
            group["lr"] = self.rate(base, t) * group.get("lr_scale", 1.0)

    def state_dict(self) -> dict:
        return {
            "decay": self.decay,
            "lr_min": self.lr_min,
            "warmup": self.warmup,
            "base": self.base,
        }

    def load_state_dict(self, state: dict) -> None:
        self.decay, self.lr_min, self.warmup = state["decay"], state["lr_min"], state["warmup"]
        self.base = list(state["base"])


def optimizer_and_schedule(
    model: Detector, config: dict, lr: float, steps_per_epoch: int
) -> tuple[torch.optim.Optimizer, WarmupCosine]:
    """AdamW, its backbone at `lr` times backbone_lr_mult, warmed up over warmup_epochs, then
    decayed along a cosine to min_lr (times backbone_lr_mult for the backbone) at the last
    update. The rate of the first update is already set."""
    backbone = list(model.backbone.parameters())
    backbone_ids = {id(p) for p in backbone}
    head = [p for p in model.parameters() if id(p) not in backbone_ids]
    # every rate set is multiplied by a group's `lr_scale`, min_lr included (as in timm)
    optimizer = EagerAdamW(
        [
            {"params": backbone, "lr": lr, "lr_scale": config["backbone_lr_mult"]},
            {"params": head, "lr": lr},
        ],
        weight_decay=float(config["weight_decay"]),
    )
    total = int(config["epochs"]) * steps_per_epoch
    warmup = int(round(config["warmup_epochs"] * steps_per_epoch))
    scheduler = WarmupCosine(
        optimizer,
        decay=max(1, total - warmup),
        lr_min=min(float(config["min_lr"]), lr),
        warmup=warmup,
    )
    set_next_rate(scheduler, 0)
    return optimizer, scheduler


def set_next_rate(scheduler: WarmupCosine, updates_done: int) -> None:
    """Set the rate of the next update, update `updates_done + 1` (timm's own loop gives the
    first update warmup_lr_init, zero here), so the first update already learns and the
    warm-up peaks at its last update."""
    scheduler.step_update(updates_done + 1)
