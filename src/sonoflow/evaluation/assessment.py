"""An experiment's report card: cross-validation summary, and the held-out test split scored
with the ensemble of its fold models (metrics, confident mistakes, plots)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.dummy import DummyClassifier
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)
from torch.utils.data import DataLoader

from sonoflow.common.atomic import write_csv, write_json
from sonoflow.common.device import pick_device
from sonoflow.common.plots import new_figure, save_figure
from sonoflow.common.tables import read_table
from sonoflow.corpus.metadata import recording_vectors
from sonoflow.features.cache import SpectrogramCache
from sonoflow.features.registry import build_frontend
from sonoflow.models.weights import load_weights
from sonoflow.training.clip_windows import ClipWindows

CV_COLUMNS = ["val_loss", "val_accuracy", "val_macro_f1"]


def cv_summary(results_paths: list[str | Path]) -> pd.DataFrame:
    """Per fold: best epoch, validation loss, accuracy and macro-F1; then mean and std rows."""
    rows = []
    for path in results_paths:
        results = json.loads(Path(path).read_text())
        metrics = results["metrics"]
        rows.append(
            {
                "fold": str(results["fold"]),
                "best_epoch": results["best_epoch"],
                **{c: metrics[c] for c in CV_COLUMNS},
            }
        )
    table = pd.DataFrame(rows)
    numbers = table.drop(columns="fold")
    mean = {"fold": "mean", **numbers.mean().to_dict()}
    std = {"fold": "std", **numbers.std(ddof=1).to_dict()}
    return pd.concat([table, pd.DataFrame([mean, std])], ignore_index=True)


def tuning_comparison(best_params_path: str | Path | None, cv: pd.DataFrame) -> dict:
    """Validation macro-F1 of the configured values' trial against the best searched trial
    (both on the dataset's val split, same trial budget), which the folds trained with, and
    the folds' own mean validation macro-F1."""
    folds_f1 = float(cv.loc[cv["fold"] == "mean", "val_macro_f1"].iloc[0])
    if best_params_path is None:
        return {"tuned": False, "folds_val_macro_f1": folds_f1}
    study = json.loads(Path(best_params_path).read_text())
    searched = study["best_searched"]
    return {
        "tuned": True,
        "configured_val_macro_f1": study["configured"]["value"],
        "tuned_val_macro_f1": searched["value"] if searched else None,
        "margin": study["margin"],
        "folds_trained_with": study["chosen"],
        "chosen_val_macro_f1": study["value"],
        "note": study["note"],
        "folds_val_macro_f1": folds_f1,
    }


def ensemble_probabilities(
    model_paths: list[str | Path],
    clips: pd.DataFrame,
    cache_dir: str | Path,
    metadata_csv: str | Path | None = None,
    batch_size: int = 64,
    extra_cache_dirs: list[str | Path] = (),
) -> tuple[np.ndarray, list[str]]:
    """Class probabilities per clip (its centre window), averaged over the fold models;
    `extra_cache_dirs`: caches of reviewed recordings the clips name."""
    device = pick_device()
    models, checkpoints = zip(*(load_weights(p, device) for p in model_paths))
    classes, features = checkpoints[0]["classes"], checkpoints[0]["features"]
    frontend = build_frontend(features)
    settings = frontend.settings
    cache = SpectrogramCache(cache_dir, settings, extra_cache_dirs)
    per_model = []
    for model, checkpoint in zip(models, checkpoints):
        vectors = None
        if checkpoint.get("metadata_encoder"):
            vectors = recording_vectors(
                sorted(set(clips["recording"])),
                metadata_csv,
                checkpoint["metadata_encoder"],
                "corpus.metadata",
            )
        windows = ClipWindows(clips, cache, frontend, classes, metadata=vectors)
        out = []
        with torch.inference_mode():
            for x, meta, _ in DataLoader(windows, batch_size=batch_size):
                out.append(model.probabilities(x.to(device), meta.to(device)).float().cpu())
        per_model.append(torch.cat(out) if out else torch.zeros(0, len(classes)))
    return torch.stack(per_model).mean(dim=0).numpy(), classes


def test_report(
    clips: pd.DataFrame, probabilities: np.ndarray, classes: list[str], train_labels: pd.Series
) -> dict:
    """Metrics of the predicted class (highest probability) against the clips' labels, with
    the gain over a chance baseline that always says the training split's most common class."""
    truth = clips["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    predicted = probabilities.argmax(axis=1)
    ids = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=ids, zero_division=0
    )
    chance = DummyClassifier(strategy="most_frequent").fit(
        np.zeros((len(train_labels), 1)),
        train_labels.map({c: i for i, c in enumerate(classes)}),
    )
    guessed = chance.predict(np.zeros((len(truth), 1)))
    accuracy = accuracy_score(truth, predicted)
    macro = f1_score(truth, predicted, labels=ids, average="macro", zero_division=0)
    chance_accuracy = accuracy_score(truth, guessed)
    chance_macro = f1_score(truth, guessed, labels=ids, average="macro", zero_division=0)
    auc = {}
    for i, name in enumerate(classes):
        positives = truth == i
        if 0 < positives.sum() < len(truth):  # AUC needs both kinds of clip
            auc[name] = float(roc_auc_score(positives, probabilities[:, i]))
    confidence = probabilities[np.arange(len(truth)), predicted]
    wrong = np.flatnonzero(predicted != truth)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")][:20]
    mistakes = clips.iloc[worst][["uid", "recording", "start_s", "end_s", "label"]].assign(
        predicted=[classes[k] for k in predicted[worst]], confidence=confidence[worst]
    )
    return {
        "clips": len(truth),
        "accuracy": float(accuracy),
        "macro_f1": float(macro),
        "micro_f1": float(f1_score(truth, predicted, labels=ids, average="micro", zero_division=0)),
        "roc_auc": auc,
        "roc_auc_macro": float(np.mean(list(auc.values()))) if auc else None,
        "chance": {
            "predicts": classes[int(guessed[0])] if len(guessed) else None,
            "accuracy": float(chance_accuracy),
            "macro_f1": float(chance_macro),
        },
        "gain_over_chance": {
            "accuracy": float(accuracy - chance_accuracy),
            "macro_f1": float(macro - chance_macro),
        },
        "per_class": pd.DataFrame(
            {
                "class": classes,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "support": support,
            }
        ),
        "confusion": pd.DataFrame(
            confusion_matrix(truth, predicted, labels=ids), index=classes, columns=classes
        ),
        "mistakes": mistakes,
    }


def plot_learning_curves(histories: dict[str, pd.DataFrame], path: str | Path) -> None:
    fig, (loss_ax, f1_ax) = new_figure((10, 4), ncols=2)
    for i, (name, history) in enumerate(histories.items()):
        for split, style in (("train", "--"), ("val", "-")):
            for ax, column in ((loss_ax, f"{split}_loss"), (f1_ax, f"{split}_macro_f1")):
                ax.plot(
                    history["epoch"], history[column], style, color=f"C{i}", label=f"{name} {split}"
                )
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss per fold")
    f1_ax.set(xlabel="epoch", ylabel="macro-F1", ylim=(0, 1), title="Macro-F1 per fold")
    for ax in (loss_ax, f1_ax):
        ax.legend(fontsize="x-small")
    save_figure(fig, path)


def plot_confusion(confusion: pd.DataFrame, path: str | Path) -> None:
    fig, ax = new_figure((5, 4.5))
    ax.grid(False)
    image = ax.imshow(confusion.to_numpy(), cmap="Blues")
    ticks = range(len(confusion))
    ax.set_xticks(ticks, confusion.columns, rotation=45, ha="right")
    ax.set_yticks(ticks, confusion.index)
    for (i, j), count in np.ndenumerate(confusion.to_numpy()):
        ax.text(j, i, str(count), ha="center", va="center", fontsize="small")
    ax.set(xlabel="predicted", ylabel="true", title="Test split, fold ensemble")
    fig.colorbar(image, ax=ax)
    save_figure(fig, path)


def plot_per_class(per_class: pd.DataFrame, path: str | Path) -> None:
    fig, ax = new_figure()
    x = np.arange(len(per_class))
    for k, metric in enumerate(("precision", "recall", "f1")):
        ax.bar(x + (k - 1) * 0.27, per_class[metric], width=0.27, label=metric)
    ax.set_xticks(x, per_class["class"])
    ax.set(ylim=(0, 1), ylabel="score", title="Test split per class")
    ax.legend(fontsize="small")
    save_figure(fig, path)


def plot_probability_histograms(
    clips: pd.DataFrame, probabilities: np.ndarray, classes: list[str], path: str | Path
) -> None:
    """Per true class, how the probabilities of every class are spread over its clips."""
    fig, axes = new_figure((4 * len(classes), 3.5), ncols=len(classes))
    for ax, true_class in zip(axes, classes):
        rows = probabilities[(clips["label"] == true_class).to_numpy()]
        for k, name in enumerate(classes):
            ax.hist(rows[:, k], bins=20, range=(0, 1), alpha=0.5, label=f"p({name})")
        ax.set(title=f"true {true_class} ({len(rows)})", xlabel="probability")
        ax.legend(fontsize="x-small")
    save_figure(fig, path)


def assess_experiment(
    clips: pd.DataFrame,
    model_paths: list[str | Path],
    results_paths: list[str | Path],
    history_paths: list[str | Path],
    cache_dir: str | Path,
    out: dict,
    metadata_csv: str | Path | None = None,
    best_params: str | Path | None = None,
    extra_cache_dirs: list[str | Path] = (),
) -> dict:
    """Write cv_summary.csv, the test split's metrics and tables, and the plots (`out` keys);
    with an `out["tuning"]`, the tuning study's configured-vs-tuned comparison there
    (`best_params`: the study's best_params.json, None for an experiment not tuned)."""
    cv = cv_summary(results_paths)
    write_csv(out["cv_summary"], cv, float_format="%.6f")
    if "tuning" in out:
        write_json(out["tuning"], tuning_comparison(best_params, cv))
    histories = {f"fold{k}": pd.read_csv(p) for k, p in enumerate(history_paths)}
    plot_learning_curves(histories, out["learning_curves"])
    test = clips[clips["split"] == "test"].reset_index(drop=True)
    probabilities, classes = ensemble_probabilities(
        model_paths, test, cache_dir, metadata_csv, extra_cache_dirs=extra_cache_dirs
    )
    train_labels = clips.loc[clips["split"].isin(["train", "val"]), "label"]
    report = test_report(test, probabilities, classes, train_labels)
    write_csv(out["per_class"], report.pop("per_class"), float_format="%.6f")
    confusion = report.pop("confusion")
    write_csv(out["confusion"], confusion.reset_index(names="true"))
    write_csv(out["mistakes"], report.pop("mistakes"), float_format="%.6f")
    write_json(out["test_metrics"], report)
    plot_confusion(confusion, out["confusion_plot"])
    plot_per_class(read_table(out["per_class"]), out["per_class_plot"])
    plot_probability_histograms(test, probabilities, classes, out["probability_plot"])
    return report
