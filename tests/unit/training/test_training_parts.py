"""Losses, class weights, oversampling, augmentations, the LR schedule and range test,
the training loader."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.training import frame_store
from sonoflow.training.augment import mix_noise, mixup, random_gain, spec_augment
from sonoflow.training.clip_windows import oversampling_factors
from sonoflow.training.data import TrainingData
from sonoflow.training.fold import read_tuned_params
from sonoflow.training.frame_store import resolve_input
from sonoflow.training.loaders import train_order
from sonoflow.training.losses import FocalLoss, balanced_weights, build_loss
from sonoflow.training.lr_range_test import lr_range_test
from sonoflow.training.schedule import optimizer_and_schedule, set_next_rate


def _loss(counts=(10, 10, 10), **config):
    return build_loss(model_with_defaults({"backbone": "band_mlp", **config}), np.array(counts))


def test_focal_loss_without_focusing_is_cross_entropy_and_down_weights_easy_clips():
    logits, targets = torch.randn(8, 3), nn.functional.one_hot(torch.arange(8) % 3, 3).float()
    torch.testing.assert_close(
        FocalLoss(0.0, None, multi_label=False)(logits, targets),
        nn.functional.cross_entropy(logits, targets),
    )
    easy = torch.tensor([[5.0, 0.0, 0.0]])
    one_hot = torch.tensor([[1.0, 0.0, 0.0]])
    ratio = FocalLoss(2.0, None, False)(easy, one_hot) / nn.functional.cross_entropy(easy, one_hot)
    assert ratio < 0.01
    sigmoid = FocalLoss(0.0, None, multi_label=True)(logits, targets)
    torch.testing.assert_close(
        sigmoid, nn.functional.binary_cross_entropy_with_logits(logits, targets) * 3
    )


def test_loss_registry_and_class_weights():
    assert isinstance(_loss(), nn.CrossEntropyLoss)
    weighted = _loss(counts=(10, 30, 60), imbalance={"class_weights": "balanced"})
    np.testing.assert_allclose(
        weighted.weight.numpy(), [100 / 30, 100 / 90, 100 / 180], rtol=1e-6
    )  # n / (k * count)
    np.testing.assert_allclose(balanced_weights(np.array([0.0, 5, 5])), [0, 1, 1])
    focal = _loss(loss={"name": "focal", "alpha": [1, 2, 3]})
    np.testing.assert_allclose(focal.alpha.numpy(), [1, 2, 3])
    assert isinstance(_loss(loss={"name": "bce"}), nn.BCEWithLogitsLoss)
    with pytest.raises(ValueError, match="imbalance.class_weights: 2 values for 3 classes"):
        _loss(imbalance={"class_weights": [1, 2]})


def test_oversampling_factors_are_capped():
    targets = np.array([0] * 1000 + [1] * 100 + [2] * 2)
    np.testing.assert_allclose(oversampling_factors(targets, 4, cap=50), [1, 10, 50, 0])


def test_spec_augment_masks_are_bands_of_uniform_width_and_place_per_window():
    generator = torch.Generator().manual_seed(0)
    windows = torch.ones(4000, 32, 25)
    masked = spec_augment(
        windows, generator, time_masks=1, time_width=5, freq_masks=0, freq_width=4
    )
    assert windows.eq(1).all()  # the input is left as it was
    columns = masked[:, 0, :] == 0  # one time mask per window: a band of whole columns
    assert torch.equal(masked == 0, columns[:, None, :].expand_as(masked))
    widths = columns.sum(dim=1)
    counts = torch.bincount(widths, minlength=6)
    assert len(counts) == 6  # widths 0..5, each about a sixth of the windows
    np.testing.assert_allclose(counts.numpy() / len(windows), 1 / 6, atol=0.03)
    starts = columns.float().argmax(dim=1)[widths == 5]  # a 5-frame band fits at 0..20
    assert starts.min() == 0 and starts.max() == 20
    assert (columns.cumsum(1).diff(dim=1) >= 0).all()
    rows = spec_augment(windows, generator, time_masks=0, time_width=5, freq_masks=2, freq_width=8)
    row_masked = rows[:, :, 0] == 0
    assert torch.equal(rows == 0, row_masked[:, :, None].expand_as(rows))
    assert row_masked.sum(dim=1).max() <= 16 and row_masked.any()


def test_gain_and_noise_mixing_per_window():
    generator = torch.Generator().manual_seed(0)
    windows = torch.zeros(5000, 2, 3)
    gained = random_gain(windows, generator, max_db=6.0)
    gain = gained[:, 0, 0]
    assert torch.equal(gained, gain[:, None, None].expand_as(gained))  # one gain per window
    assert -6 <= gain.min() < -5.9 and 5.9 < gain.max() <= 6 and abs(gain.mean()) < 0.2
    quiet, loud = torch.full((3, 4, 5), -60.0), torch.full((3, 4, 5), -20.0)
    mixed = mix_noise(loud, quiet, generator, (10.0, 10.0))  # noise 10 dB below the window
    torch.testing.assert_close(mixed, torch.full((3, 4, 5), -20 + 10 * np.log10(1.1)))
    spread = mix_noise(
        loud[:1].expand(1000, 4, 5), quiet[:1].expand(1000, 4, 5), generator, (0, 20)
    )
    snr = -10 * torch.log10(10 ** (spread[:, 0, 0].double() / 10 + 2) - 1)  # back from the mixture
    assert -0.01 <= snr.min() < 0.5 and 19.5 < snr.max() <= 20.01


def test_mixup_mixes_inputs_and_targets_alike():
    x = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 1, 2, 2)
    y = nn.functional.one_hot(torch.arange(4), 4).float()
    mixed_x, mixed_y, _ = mixup(x, y, torch.zeros(0), 0.3, torch.tensor([1, 0, 3, 2]))
    torch.testing.assert_close(mixed_y[0], torch.tensor([0.3, 0.7, 0.0, 0.0]))
    torch.testing.assert_close(mixed_y.sum(dim=1), torch.ones(4))
    expected_x = (mixed_y * torch.arange(4.0)).sum(dim=1)  # each input is its target's mixture
    torch.testing.assert_close(mixed_x[:, 0, 0, 0], expected_x)


def test_schedule_warms_up_then_decays_along_a_cosine_to_the_minimum():
    model = build_model(model_with_defaults({"backbone": "band_mlp"}), 3, (8, 5))
    config = {
        "epochs": 10,
        "warmup_epochs": 1,
        "min_lr": 0.01,
        "backbone_lr_mult": 0.5,
        "weight_decay": 0.0,
    }
    optimizer, scheduler = optimizer_and_schedule(model, config, lr=1.0, steps_per_epoch=10)
    rates = []  # (backbone, head) of each of the 100 updates
    for update in range(100):
        rates.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        set_next_rate(scheduler, update + 1)
    backbone, head = np.array(rates).T
    n = np.arange(1, 101)  # the updates, counted from 1
    warm = n / 10  # linear warm-up over the first epoch, up to the rate itself
    cosine = 0.01 + (1 - 0.01) * 0.5 * (1 + np.cos(np.pi * (n - 10) / 90))
    np.testing.assert_allclose(head, np.where(n <= 10, warm, cosine), rtol=1e-9, atol=1e-12)
    assert head[0] == pytest.approx(0.1) and head[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(head[9:], head[10:]))
    assert head[-1] == pytest.approx(0.01)  # the minimum at the last update
    np.testing.assert_allclose(backbone, 0.5 * head)  # min_lr scaled for the backbone too


def test_lr_range_test_chooses_a_tenth_of_the_best_rate():
    # loss is lowest at lr 1e-2 and explodes beyond
    curve, chosen = lr_range_test(lambda lr: (np.log10(lr) + 2) ** 2, 1e-5, 10.0, 61)
    assert isinstance(curve, pd.DataFrame) and len(curve) < 61  # stopped when it exploded
    best = curve.loc[curve["smoothed_loss"].idxmin(), "lr"]
    assert chosen == pytest.approx(best / 10)
    assert 1e-3 < best < 1e-1


@pytest.mark.parametrize("oversample", [False, True])
def test_no_training_batch_of_one_window(oversample):
    """Batch norm cannot train on a single sample: a lone last window is left for next epoch."""
    targets = np.array([0] * 9)  # one class: oversampling draws 9 windows too
    imbalance = {"oversample": oversample, "oversample_cap": 50}
    order, batches = train_order(targets, imbalance, 4, torch.Generator().manual_seed(0))
    assert batches == 2 and len(order()) == 9  # batches of 4 and 4; the ninth waits
    assert train_order(targets[:8], imbalance, 4, torch.Generator())[1] == 2
    assert train_order(targets[:1], imbalance, 4, torch.Generator())[1] == 1  # the only batch


def test_oversampling_draws_rare_classes_more_often():
    targets = np.array([0] * 90 + [1] * 10)
    imbalance = {"oversample": True, "oversample_cap": 50}
    order, batches = train_order(targets, imbalance, 10, torch.Generator().manual_seed(0))
    drawn = targets[order().numpy()]
    assert len(drawn) == 180 and batches == 18  # 90 + 10 * 9 draws
    assert 0.4 < (drawn == 1).mean() < 0.6


def test_input_placement_falls_back_cleanly(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_input("pinned", cpu, 10) == "device"  # pinning needs CUDA: host memory
    assert resolve_input("auto", cpu, 10) == "device"
    assert resolve_input("auto", cpu, 10**18) == "mmap"  # larger than the host's memory
    assert resolve_input("mmap", cpu, 10) == "mmap"
    with pytest.raises(ValueError, match="model key input: 'gpu'"):
        resolve_input("gpu", cpu, 10)
    monkeypatch.setattr(frame_store, "free_bytes", lambda device: 100)  # free device memory
    assert resolve_input("auto", cuda, 40) == "device"
    assert resolve_input("auto", cuda, 60) == "pinned"  # more than half of what is free
    assert resolve_input("pinned", cuda, 10) == "pinned"


def test_tuned_params_are_none_when_no_trial_beat_the_configured_values(tmp_path):
    path = tmp_path / "best_params.json"
    path.write_text(json.dumps({"params": {"lr": 0.01}, "note": "trial 3 won"}))
    assert read_tuned_params(path) == ({"lr": 0.01}, "trial 3 won")
    path.write_text(json.dumps({"params": {}, "note": "configured values kept"}))
    assert read_tuned_params(path) == (None, "configured values kept")


def test_training_data_from_a_jobs_inputs(tmp_path):
    pd.DataFrame({"uid": ["a"], "label": ["hum"]}).to_csv(tmp_path / "clips.csv", index=False)
    marker = tmp_path / "cache/done.json"
    params = SimpleNamespace(features={"type": "mel"}, labels=["hum"], metadata="")
    data = TrainingData.from_job(tmp_path / "clips.csv", marker, params)
    assert data.clips["uid"].tolist() == ["a"]
    assert data.cache_dir == tmp_path / "cache"
    assert (data.features, data.labels, data.metadata_csv) == ({"type": "mel"}, ["hum"], None)
    params = SimpleNamespace(features={}, labels=[], metadata="m.csv")
    with_metadata = TrainingData.from_job(tmp_path / "clips.csv", marker, params)
    assert with_metadata.metadata_csv == Path("m.csv")
