"""One cross-validation fold's training job: train with `fit`, write the fold's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.common.atomic import write_csv, write_json
from sonoflow.models.config import apply_params
from sonoflow.models.weights import save_weights
from sonoflow.training.data import TrainingData
from sonoflow.training.fit import fit

# Hyperparameters that results.json reports besides the learning rate.
REPORTED = ("dropout", "backbone_lr_mult", "head_width", "weight_decay", "freeze_epochs")


def read_tuned_params(best_params_path: str | Path) -> tuple[dict | None, str]:
    """(parameters, note) of a tuning study's best_params.json. The parameters are None
    when the study's params are empty: no trial beat the configured values."""
    study = json.loads(Path(best_params_path).read_text())
    return study["params"] or None, study["note"]


def train_fold(
    data: TrainingData,
    folds: np.ndarray,
    fold: int,
    model_config: dict,
    out_dir: str | Path,
    threads: int = 1,
    checkpoint_path: str | Path | None = None,
    tuned_params: dict | None = None,
) -> dict:
    """Train on every train+val fold of `data`'s clips but `fold`, validate on `fold`; write
    model.pt, history.csv and results.json into `out_dir`. `tuned_params` (a tuning study's
    best, dotted names for nested keys) override the model config's values."""
    out_dir = Path(out_dir)
    model_config = apply_params(model_config, tuned_params or {})
    result = fit(
        data,
        (folds >= 0) & (folds != fold),
        folds == fold,
        model_config,
        threads=threads,
        seed_offset=fold,
        checkpoint_path=checkpoint_path,
        plot_dir=out_dir,
    )
    model_info = {**result.model_info, "fold": fold}
    save_weights(out_dir / "model.pt", result.best_state, model_info)
    write_csv(out_dir / "history.csv", pd.DataFrame(result.history))
    config = result.model_info["model"]
    results = {
        **model_info,
        "device": result.device,
        "hyperparameters": {
            "lr": result.lr,
            **{k: config[k] for k in REPORTED},
            "augment.mixup.alpha": config["augment"]["mixup"]["alpha"],
        },
        "tuned_params": tuned_params,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "resumed_after_epoch": result.resumed_after_epoch,
        "train_clips": result.train_clips,
        "val_clips": result.val_clips,
        "metrics": result.best_metrics,
    }
    write_json(out_dir / "results.json", results)
    if checkpoint_path:
        Path(checkpoint_path).unlink(missing_ok=True)  # outputs are complete: nothing to resume
    return results
