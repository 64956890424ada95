"""One tuning worker job: this experiment's training as the objective of its Optuna study."""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd

from sonoflow.training.checkpoints import fingerprint
from sonoflow.training.data import TrainingData
from sonoflow.training.fit import fit
from sonoflow.tuning.space import search_space
from sonoflow.tuning.study import CONFIGURED_ATTR, open_study, run_worker, study_lock


def study_name(clips: pd.DataFrame, features: dict, labels: list, model_config: dict, tuning: dict):
    """Changes whenever the trials' results would: data, features, model or search settings."""
    data = clips[["uid", "recording", "start_s", "end_s", "label", "split"]].to_dict("list")
    return "study-" + fingerprint(data, features, labels, model_config, tuning)[:16]


def trial_epochs(model_config: dict, tuning: dict) -> int:
    """The model's epochs, capped by `tuning.epochs` where it is set."""
    epochs = int(model_config["epochs"])
    return min(epochs, int(tuning["epochs"])) if tuning["epochs"] else epochs


def tune_worker(
    data: TrainingData,
    model_config: dict,
    tuning: dict,
    journal: str | Path,
    worker: int,
    threads: int = 1,
) -> dict:
    """Run this worker's share of the study's trials; returns a summary of its trials.

    Trials train on the dataset variant's train split and are scored on its val split, which
    are tape-disjoint (the variant's `group_by`); the test split stays unseen. One of the
    study's trials trains with the model's configured values, on the same budget.
    """
    optuna.logging.disable_default_handler()  # Optuna's messages go to the job's log
    optuna.logging.enable_propagation()
    train_rows, val_rows = data.clips["split"] == "train", data.clips["split"] == "val"
    epochs = trial_epochs(model_config, tuning)
    name = study_name(data.clips, data.features, data.labels, model_config, tuning)
    study = open_study(journal, name, tuning["seed"] + worker, tuning["pruner"], epochs)

    def train(config: dict, report) -> float:
        result = fit(
            data,
            train_rows,
            val_rows,
            model_config={**config, "epochs": epochs},
            threads=threads,
            on_epoch=lambda epoch, row: report(epoch, row["val_macro_f1"]),
        )
        return result.best_metrics["val_macro_f1"]

    trials = run_worker(
        study,
        worker,
        tuning["workers"],
        tuning["trials"],
        search_space(model_config, tuning),
        model_config,
        train,
        lock=study_lock(journal),
    )
    return {
        "study": name,
        "worker": worker,
        "trials": [
            {
                "number": t.number,
                "state": t.state.name,
                "value": t.value,
                "params": t.params,
                "configured": bool(t.user_attrs.get(CONFIGURED_ATTR)),
            }
            for t in trials
        ],
    }
