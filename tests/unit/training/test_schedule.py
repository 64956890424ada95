"""sonoflow's warm-up + cosine schedule sets the rates timm's CosineLRScheduler sets."""

import pytest
import torch
from timm.scheduler import CosineLRScheduler

from sonoflow.training.schedule import EagerAdamW, WarmupCosine


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


def test_eager_adamw_updates_as_torch_adamw_does_across_a_state_dict_round_trip():
    torch.manual_seed(0)
    start = torch.randn(6, 3)
    models = [torch.nn.Linear(3, 2) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    optimizers = [
        kind(model.parameters(), lr=0.05, weight_decay=0.01)
        for kind, model in zip((torch.optim.AdamW, EagerAdamW), models, strict=True)
    ]
    for step in range(5):
        for model, optimizer in zip(models, optimizers, strict=True):
            optimizer.zero_grad()
            (model(start * (step + 1)) ** 2).sum().backward()
            optimizer.step()
            if step == 2:
                optimizer.load_state_dict(optimizer.state_dict())
    for ours, theirs in zip(models[1].parameters(), models[0].parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    assert optimizers[1].state_dict()["state"][0]["step"] == 5
