"""fit() for one fold or one tuning trial, train_fold's outputs, and the experiment report."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from training_helpers import FEATURES, LABELS, build_training_corpus

from sonoflow.corpus.audio import list_recordings
from sonoflow.datasets.splits import cv_folds
from sonoflow.evaluation.assessment import assess_experiment
from sonoflow.features.cache import SpectrogramCache
from sonoflow.features.spectrogram import FeatureFrontend, FeatureSettings
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.prediction.predict import predict_recordings
from sonoflow.training.clip_batches import ClipBatches
from sonoflow.training.clip_windows import ClipWindows
from sonoflow.training.data import TrainingData
from sonoflow.training.fit import fit
from sonoflow.training.fold import train_fold
from sonoflow.training.frame_store import FrameStore

HISTORY_COLUMNS = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "train_macro_f1",
    "val_loss",
    "val_accuracy",
    "val_macro_f1",
    "lr",
    "backbone_lr",
    "epoch_s",
    "samples_per_s",
]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    work = build_training_corpus(tmp_path_factory.mktemp("training"))
    clips = pd.read_csv(work / "dataset/clips.csv")
    folds = cv_folds(clips, 2, seed=0)
    return work, clips, folds


def _fit(work, model, metadata_csv=None, **kwargs):
    root, clips, folds = work
    data = TrainingData(clips, root / "cache", FEATURES, LABELS, metadata_csv)
    return fit(data, folds == 1, folds == 0, model, **kwargs)


class Stop(Exception):
    pass


def test_on_epoch_sees_each_epoch_and_may_stop_training(work):
    seen = []
    result = _fit(
        work,
        {"backbone": "band_mlp", "epochs": 3, "patience": 3},
        on_epoch=lambda e, m: seen.append((e, m)),
    )
    assert [e for e, _ in seen] == [1, 2, 3]
    assert list(seen[0][1]) == HISTORY_COLUMNS
    assert [row["val_macro_f1"] for _, row in seen] == [r["val_macro_f1"] for r in result.history]
    assert result.best_epoch == max(result.history, key=lambda r: r["val_macro_f1"])["epoch"]

    def prune(epoch, metrics):
        seen.append(epoch)
        raise Stop

    seen.clear()
    with pytest.raises(Stop):
        _fit(work, {"backbone": "band_mlp", "epochs": 3}, on_epoch=prune)
    assert seen == [1]


def test_frozen_backbone_keeps_its_weights_and_statistics_while_the_head_learns(work):
    model = {"backbone": "resnet10t", "epochs": 1, "freeze_epochs": 1, "batch_size": 16}
    result = _fit(work, model)
    torch.manual_seed(model_with_defaults(model)["seed"])
    initial = build_model(model_with_defaults(model), 3, (32, 25)).state_dict()
    for name, value in result.best_state.items():
        if name.startswith("backbone."):
            assert torch.equal(value, initial[name]), name
    assert not torch.equal(result.best_state["head.1.weight"], initial["head.1.weight"])
    assert result.history[0]["backbone_lr"] == 0 and result.history[0]["lr"] > 0


def test_every_training_option_at_once(work, tmp_path):
    root = work[0]
    model = {
        "backbone": "band_mlp",
        "epochs": 2,
        "lr": "auto",
        "lr_range_test": {"steps": 20},
        "head_width": 8,
        "multi_label": True,
        "loss": {"name": "focal", "alpha": "balanced"},
        "imbalance": {"class_weights": "balanced", "oversample": True, "oversample_cap": 3},
        "metadata": {"fusion": "gate", "categorical": ["site"]},
        "augment": {
            "spec_augment": {"enabled": True},
            "mixup": {"enabled": True, "alpha": 0.2},
            "gain": {"enabled": True},
            "noise": {"enabled": True},
        },
    }
    result = _fit(
        work, model, metadata_csv=root / "corpus/train/metadata.csv", plot_dir=tmp_path, threads=2
    )
    assert len(result.history) == 2
    assert 1e-6 <= result.lr <= 1.0
    assert (tmp_path / "lr_range_test.png").stat().st_size > 1000
    assert pd.read_csv(tmp_path / "lr_range_test.csv")["lr"].is_monotonic_increasing
    encoder = result.model_info["metadata_encoder"]
    assert encoder["categories"]["site"]  # geo 3 + time 4 + one per site seen in training
    assert encoder["width"] == 3 + 4 + len(encoder["categories"]["site"])
    with pytest.raises(ValueError, match="config key corpus.metadata"):
        _fit(work, {**model, "lr": 0.01})  # a fusion model without metadata


def test_fold_outputs_report_and_prediction_with_metadata(work, tmp_path):
    root, clips, folds = work
    model = {"backbone": "band_mlp", "epochs": 2, "metadata": {"fusion": "concat"}}
    metadata = root / "corpus/train/metadata.csv"
    for fold in (0, 1):
        data = TrainingData(clips, root / "cache", FEATURES, LABELS, metadata)
        train_fold(data, folds, fold, model, tmp_path / f"fold{fold}")
    results = json.loads((tmp_path / "fold0/results.json").read_text())
    assert results["hyperparameters"]["augment.mixup.alpha"] == 0.4
    assert results["metrics"]["val_macro_f1"] == max(
        pd.read_csv(tmp_path / "fold0/history.csv")["val_macro_f1"]
    )
    names = {
        "cv_summary": "cv_summary.csv",
        "test_metrics": "test/metrics.json",
        "per_class": "test/per_class.csv",
        "confusion": "test/confusion.csv",
        "mistakes": "test/confident_mistakes.csv",
        "learning_curves": "plots/learning_curves.png",
        "confusion_plot": "plots/confusion_matrix.png",
        "per_class_plot": "plots/per_class.png",
        "probability_plot": "plots/probabilities.png",
    }
    out = {k: tmp_path / v for k, v in names.items()}
    models = [tmp_path / f"fold{k}/model.pt" for k in (0, 1)]
    assess_experiment(
        clips,
        models,
        [tmp_path / f"fold{k}/results.json" for k in (0, 1)],
        [tmp_path / f"fold{k}/history.csv" for k in (0, 1)],
        root / "cache",
        out,
        metadata_csv=metadata,
    )
    summary = pd.read_csv(out["cv_summary"])
    assert summary["fold"].astype(str).tolist() == ["0", "1", "mean", "std"]
    assert summary.loc[2, "val_macro_f1"] == pytest.approx(
        summary.loc[:1, "val_macro_f1"].mean(), abs=1e-6
    )
    metrics = json.loads(out["test_metrics"].read_text())
    test_clips = int((clips["split"] == "test").sum())
    assert metrics["clips"] == test_clips
    confusion = pd.read_csv(out["confusion"]).set_index("true")
    assert confusion.to_numpy().sum() == test_clips
    assert metrics["accuracy"] == pytest.approx(confusion.to_numpy().trace() / test_clips)
    assert metrics["gain_over_chance"]["accuracy"] == pytest.approx(
        metrics["accuracy"] - metrics["chance"]["accuracy"]
    )
    mistakes = pd.read_csv(out["mistakes"])
    assert (mistakes["label"] != mistakes["predicted"]).all()
    assert mistakes["confidence"].is_monotonic_decreasing
    for plot in ("learning_curves", "confusion_plot", "per_class_plot", "probability_plot"):
        assert out[plot].stat().st_size > 1000

    bench = list_recordings(root / "corpus/benchmark/audio")
    scores = predict_recordings(
        bench, models, hop_s=0.1, metadata_csv=root / "corpus/benchmark/metadata.csv"
    )
    assert len(scores) and scores[["hum", "chirp", "noise"]].sum(axis=1).round(4).eq(1).all()
    with pytest.raises(ValueError, match="config key benchmarks.NAME.metadata"):
        predict_recordings(bench, models, hop_s=0.1)


def test_seeded_reruns_and_every_input_placement_train_identically(work):
    model = {
        "backbone": "band_mlp",
        "epochs": 2,
        "imbalance": {"oversample": True},
        "augment": {
            "spec_augment": {"enabled": True},
            "noise": {"enabled": True},
            "gain": {"enabled": True},
            "mixup": {"enabled": True},
        },
    }
    first = _fit(work, {**model, "input": "device"})
    timing = {"epoch_s", "samples_per_s"}
    for placement in ("device", "mmap", "pinned", "auto"):  # pinned: host memory on CPU
        other = _fit(work, {**model, "input": placement})
        for row, other_row in zip(first.history, other.history, strict=True):
            assert {k: v for k, v in row.items() if k not in timing} == {
                k: v for k, v in other_row.items() if k not in timing
            }, placement
        for name, value in first.best_state.items():
            assert torch.equal(value, other.best_state[name]), (placement, name)


def test_batches_without_augmentation_are_the_clip_centre_windows(work):
    root, clips, _ = work
    settings = FeatureSettings.from_config(FEATURES)
    cache, frontend = SpectrogramCache(root / "cache", settings), FeatureFrontend(settings)
    classes = [*LABELS, "noise"]
    recordings = sorted(set(clips["recording"]))
    metadata = {r: np.array([i, -i], np.float32) for i, r in enumerate(recordings)}
    store = FrameStore(cache, recordings, "device", torch.device("cpu"))
    batches = ClipBatches(
        clips, store, frontend, classes, torch.device("cpu"), 7, metadata=metadata
    )
    x, meta, y = (torch.cat(parts) for parts in zip(*batches))
    single = ClipWindows(clips, cache, frontend, classes, metadata=metadata)
    assert len(batches) == -(-len(clips) // 7) and len(x) == len(single) == len(clips)
    for i in range(len(single)):
        window, vector, label = single[i]
        assert torch.equal(x[i], window) and torch.equal(meta[i], vector) and y[i] == label, i


def test_time_shift_keeps_the_window_centre_inside_its_clip(work):
    root, clips, _ = work
    settings = FeatureSettings.from_config(FEATURES)
    cache, frontend = SpectrogramCache(root / "cache", settings), FeatureFrontend(settings)
    store = FrameStore(cache, sorted(set(clips["recording"])), "device", torch.device("cpu"))
    augment = model_with_defaults({"backbone": "band_mlp"})["augment"]  # time shift only
    batches = ClipBatches(
        clips, store, frontend, [*LABELS, "noise"], torch.device("cpu"), 16, augment=augment
    )
    clip = torch.arange(len(clips)).repeat(20)
    recording = batches.recording[clip]
    raw = batches._cut(clip, shift=True)
    starts = []
    for i in range(len(clip)):  # the start frame each window was cut at
        row = store.frames[store.offsets[recording[i]] :].float()
        found = (row.unfold(0, settings.frames_per_window, 1) == raw[i]).all(dim=(1, 2))
        starts.append(int(found.float().argmax()))
    centre = (torch.tensor(starts) + settings.frames_per_window / 2) * settings.frame_s
    inside = (centre >= batches.start_s[clip] - settings.frame_s) & (
        centre <= batches.end_s[clip] + settings.frame_s
    )
    clamped = (torch.tensor(starts) == 0) | (
        torch.tensor(starts) == store.lengths[recording] - settings.frames_per_window
    )
    assert (inside | clamped).all()
    assert len(set(starts)) > len(clips)  # windows of one clip differ between draws


def test_a_last_batch_of_one_clip_is_dropped(work):
    root, clips, folds = work
    train = clips[folds == 1]
    model = {"backbone": "resnet10t", "epochs": 1, "batch_size": len(train) - 1}
    result = _fit(work, model)  # batch normalisation would fail on a batch of one
    assert result.history[0]["train_accuracy"] >= 0


def test_a_lone_clip_still_trains(work):
    root, clips, folds = work
    one = np.arange(len(clips)) == np.flatnonzero(folds == 1)[0]
    model = {"backbone": "band_mlp", "epochs": 1}  # no batch normalisation
    data = TrainingData(clips, root / "cache", FEATURES, LABELS)
    result = fit(data, one, folds == 0, model)
    assert len(result.history) == 1
