"""The optimiser and its learning-rate schedule: AdamW, linear warm-up, then cosine decay,
set per update by timm's CosineLRScheduler."""

from __future__ import annotations

import torch
from timm.scheduler import CosineLRScheduler

from sonoflow.models.detector import Detector

# Part of a training run's fingerprint: a checkpoint written under another schedule (an
# optimiser state without `lr_scale`) starts afresh instead of resuming.
SCHEDULE = "timm CosineLRScheduler, warm-up prefix, per update, backbone lr_scale"


def optimizer_and_schedule(
    model: Detector, config: dict, lr: float, steps_per_epoch: int
) -> tuple[torch.optim.Optimizer, CosineLRScheduler]:
    """AdamW, its backbone at `lr` times backbone_lr_mult, warmed up over warmup_epochs, then
    decayed along a cosine to min_lr (times backbone_lr_mult for the backbone) at the last
    update. The rate of the first update is already set."""
    backbone = list(model.backbone.parameters())
    backbone_ids = {id(p) for p in backbone}
    head = [p for p in model.parameters() if id(p) not in backbone_ids]
    # timm multiplies every rate it sets by a group's `lr_scale`, min_lr included
    optimizer = torch.optim.AdamW(
        [
            {"params": backbone, "lr": lr, "lr_scale": config["backbone_lr_mult"]},
            {"params": head, "lr": lr},
        ],
        weight_decay=float(config["weight_decay"]),
    )
    total = int(config["epochs"]) * steps_per_epoch
    warmup = int(round(config["warmup_epochs"] * steps_per_epoch))
    scheduler = CosineLRScheduler(
        optimizer,
        t_initial=max(1, total - warmup),
        lr_min=min(float(config["min_lr"]), lr),
        warmup_t=warmup,
        warmup_prefix=True,  # the cosine starts after the warm-up
        t_in_epochs=False,
    )
    set_next_rate(scheduler, 0)
    return optimizer, scheduler


def set_next_rate(scheduler: CosineLRScheduler, updates_done: int) -> None:
    """Set the rate of the next update. It is timm's step `updates_done + 1` (timm's own loop
    gives the first update warmup_lr_init, zero here), so the first update already learns and
    the warm-up peaks at its last update."""
    scheduler.step_update(updates_done + 1)
