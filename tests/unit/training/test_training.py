"""fit() for one fold or one tuning trial, train_fold's outputs, and the experiment report."""

import json

import pandas as pd
import pytest
import torch
from training_helpers import FEATURES, LABELS, build_training_corpus

from sonoflow.corpus.audio import list_recordings
from sonoflow.datasets.splits import cv_folds
from sonoflow.evaluation.assessment import assess_experiment
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.prediction.predict import predict_recordings
from sonoflow.training.fit import fit
from sonoflow.training.fold import train_fold

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


def _fit(work, model, **kwargs):
    root, clips, folds = work
    return fit(
        clips[folds == 1], clips[folds == 0], root / "cache", FEATURES, LABELS, model, **kwargs
    )


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
    encoder = result.meta["metadata_encoder"]
    assert encoder["categories"]["site"]  # geo 3 + time 4 + one per site seen in training
    assert encoder["width"] == 3 + 4 + len(encoder["categories"]["site"])
    with pytest.raises(ValueError, match="config key corpus.metadata"):
        _fit(work, {**model, "lr": 0.01})  # a fusion model without metadata


def test_fold_outputs_report_and_prediction_with_metadata(work, tmp_path):
    root, clips, folds = work
    model = {"backbone": "band_mlp", "epochs": 2, "metadata": {"fusion": "concat"}}
    metadata = root / "corpus/train/metadata.csv"
    for fold in (0, 1):
        train_fold(
            clips,
            folds,
            fold,
            root / "cache",
            FEATURES,
            LABELS,
            model,
            tmp_path / f"fold{fold}",
            metadata_csv=metadata,
        )
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


def test_worker_processes_do_not_change_the_result(work):
    model = {
        "backbone": "band_mlp",
        "epochs": 2,
        "augment": {"spec_augment": {"enabled": True}, "noise": {"enabled": True}},
    }
    alone = _fit(work, model)
    with_workers = _fit(work, {**model, "workers": 2})
    assert alone.history[-1]["train_loss"] == with_workers.history[-1]["train_loss"]
    for name, value in alone.best_state.items():
        assert torch.equal(value, with_workers.best_state[name]), name


def test_a_last_batch_of_one_clip_is_dropped(work):
    root, clips, folds = work
    train = clips[folds == 1]
    model = {"backbone": "resnet10t", "epochs": 1, "batch_size": len(train) - 1}
    result = _fit(work, model)  # batch normalisation would fail on a batch of one
    assert result.history[0]["train_accuracy"] >= 0


def test_a_lone_clip_still_trains(work):
    root, clips, folds = work
    one = clips[folds == 1].iloc[:1]
    model = {"backbone": "band_mlp", "epochs": 1}  # no batch normalisation
    result = fit(one, clips[folds == 0], root / "cache", FEATURES, LABELS, model)
    assert len(result.history) == 1
