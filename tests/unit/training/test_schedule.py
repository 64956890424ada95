"""sonoflow's warm-up + cosine schedule sets the rates timm's CosineLRScheduler sets."""

import pytest
import torch
from timm.scheduler import CosineLRScheduler

from sonoflow.training.schedule import WarmupCosine


def _optimizer() -> torch.optim.Optimizer:
    return torch.optim.AdamW(
        [
            {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.01, "lr_scale": 0.1},
            {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.01},
        ]
    )


@pytest.mark.parametrize("warmup", [0, 7])
def test_rates_match_timm_through_warm_up_decay_and_after(warmup):
    ours, theirs = _optimizer(), _optimizer()
    mine = WarmupCosine(ours, decay=30, lr_min=1e-4, warmup=warmup)
    timm_schedule = CosineLRScheduler(
        theirs, t_initial=30, lr_min=1e-4, warmup_t=warmup, warmup_prefix=True, t_in_epochs=False
    )
    for t in range(1, 45):  # past the end of the cosine too
        mine.step_update(t)
        timm_schedule.step_update(t)
        for a, b in zip(ours.param_groups, theirs.param_groups):
            assert a["lr"] == pytest.approx(b["lr"], rel=1e-12, abs=1e-15), t


def test_state_round_trips():
    schedule = WarmupCosine(_optimizer(), decay=10, lr_min=0.0, warmup=2)
    restored = WarmupCosine(_optimizer(), decay=1, lr_min=0.5, warmup=0)
    restored.base = [9.0, 9.0]
    restored.load_state_dict(schedule.state_dict())
    schedule.step_update(5)
    restored.step_update(5)
    rates = [g["lr"] for g in schedule.optimizer.param_groups]
    assert [g["lr"] for g in restored.optimizer.param_groups] == rates
    assert rates[0] == pytest.approx(0.1 * rates[1]) and 0 < rates[1] < 0.01
