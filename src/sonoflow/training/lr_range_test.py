"""Learning-rate range test (Smith 2017): raise the rate exponentially over a few batches,
record the loss, pick a rate below where it is lowest.

The chosen rate is the one of the lowest smoothed loss divided by 10, a common rule of thumb:
there the loss still falls steeply. No kept library offers this for plain torch loops.
"""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from sonoflow.models.detector import Detector
from sonoflow.training.clip_batches import ClipBatches
from sonoflow.training.epoch import Precision, one_hot_targets
from sonoflow.training.schedule import EagerAdamW

log = logging.getLogger(__name__)


def lr_range_test(
    step: Callable[[float], float], start: float, end: float, steps: int
) -> tuple[pd.DataFrame, float]:
    """Call `step(lr)` (one training batch at that rate; returns its loss) for exponentially
    growing rates; stop early when the loss explodes. Returns the curve and the chosen rate."""
    rates = np.geomspace(start, end, steps)
    rows, average, best = [], 0.0, np.inf
    for i, lr in enumerate(rates):
        loss = float(step(float(lr)))
        average = 0.9 * average + 0.1 * loss
        smoothed = average / (1 - 0.9 ** (i + 1))  # bias correction of the running mean
        rows.append({"lr": float(lr), "loss": loss, "smoothed_loss": smoothed})
        if not np.isfinite(loss) or (i > 5 and smoothed > 4 * best):
            break
        best = min(best, smoothed)
    curve = pd.DataFrame(rows)
    finite = curve[np.isfinite(curve["smoothed_loss"])]
    chosen = float(finite.loc[finite["smoothed_loss"].idxmin(), "lr"]) / 10
    return curve, max(chosen, start)


def choose_lr(
    model: Detector,
    batches: ClipBatches,
    loss_fn: nn.Module,
    device: torch.device,
    precision: Precision,
    config: dict,
) -> tuple[float, pd.DataFrame]:
    """Run the range test on a copy of the weights; the model is left as it was."""
    saved = copy.deepcopy(model.state_dict())
    optimizer = EagerAdamW(model.parameters(), lr=1.0, weight_decay=config["weight_decay"])
    if not len(batches):
        raise ValueError("lr: auto needs at least one training batch")
    batches = itertools.chain.from_iterable(itertools.repeat(batches))  # pass after pass
    model.train()

    def step(lr: float) -> float:
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, meta, y = next(batches)
        x = x.to(device, memory_format=precision.memory_format)
        targets = one_hot_targets(y, model, device)
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


def plot_lr_range_test(curve: pd.DataFrame, chosen: float, path: str | Path) -> None:
    from sonoflow.common.plots import new_figure, save_figure

    fig, ax = new_figure()
    ax.plot(curve["lr"], curve["loss"], alpha=0.3, label="batch loss")
    ax.plot(curve["lr"], curve["smoothed_loss"], label="smoothed")
    ax.axvline(chosen, color="k", linestyle="--", label=f"chosen {chosen:.2g}")
    ax.set(xscale="log", xlabel="learning rate", ylabel="training loss", title="LR range test")
    ax.legend(fontsize="small")
    save_figure(fig, path)
