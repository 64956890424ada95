"""One tuning worker job: this experiment's training as the objective of its Optuna study."""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd

from sonoflow.training.checkpoints import fingerprint
from sonoflow.training.fit import fit
from sonoflow.tuning.study import open_study, run_worker


def study_name(clips: pd.DataFrame, features: dict, labels: list, model_config: dict, tuning: dict):
    """Changes whenever the trials' results would: data, features, model or search settings."""
    data = clips[["uid", "recording", "start_s", "end_s", "label", "split"]].to_dict("list")
    return "study-" + fingerprint(data, features, labels, model_config, tuning)[:16]


def tune_worker(
    clips: pd.DataFrame,
    cache_dir: str | Path,
    features: dict,
    labels: list[str],
    model_config: dict,
    tuning: dict,
    journal: str | Path,
    worker: int,
    threads: int = 1,
    metadata_csv: str | Path | None = None,
) -> dict:
    """Run this worker's share of the study's trials; returns a summary of its trials.

    Trials train on the dataset variant's train split and are scored on its val split, which
    are tape-disjoint (the variant's `group_by`); the test split stays unseen.
    """
    optuna.logging.disable_default_handler()  # Optuna's messages go to the job's log
    optuna.logging.enable_propagation()
    train_clips, val_clips = clips[clips["split"] == "train"], clips[clips["split"] == "val"]
    epochs = tuning["epochs"] or int(model_config["epochs"])
    name = study_name(clips, features, labels, model_config, tuning)
    study = open_study(journal, name, tuning["seed"] + worker, tuning["pruner"], epochs)

    def train(config: dict, report) -> float:
        result = fit(
            train_clips,
            val_clips,
            cache_dir=cache_dir,
            features=features,
            labels=labels,
            model_config={**config, "epochs": epochs},
            metadata_csv=metadata_csv,
            threads=threads,
            on_epoch=lambda epoch, row: report(epoch, row["val_macro_f1"]),
        )
        return result.best_metrics["val_macro_f1"]

    trials = run_worker(
        study,
        worker,
        tuning["workers"],
        tuning["trials"],
        tuning["search_space"],
        model_config,
        train,
    )
    return {
        "study": name,
        "worker": worker,
        "trials": [
            {"number": t.number, "state": t.state.name, "value": t.value, "params": t.params}
            for t in trials
        ],
    }
