"""With real training: when the search space cannot beat the model's configured values (its
learning rates do not train), the folds train with the configured values."""

import json

import pandas as pd
from training_helpers import FEATURES, LABELS, VARIANT, build_training_corpus

from sonoflow.datasets.splits import cv_folds
from sonoflow.training.data import TrainingData
from sonoflow.training.fold import read_tuned_params, train_fold
from sonoflow.tuning.report import write_report
from sonoflow.tuning.study import load_study
from sonoflow.tuning.worker import tune_worker

MODEL = {"backbone": "band_mlp", "epochs": 4, "patience": 4, "lr": 1e-2}
TUNING = {
    "trials": 3,
    "workers": 1,
    "epochs": None,
    "pruner": "none",
    "seed": 0,
    "search_space": {"lr": {"choices": [1e-9, 1e-8], "log": False}},
}
PLOTS = ("history", "importances", "parallel")


def test_folds_train_with_the_configured_values_when_no_trial_beats_them(tmp_path):
    split = {"train": 0.6, "val": 0.2, "test": 0.2}
    work = build_training_corpus(tmp_path, {**VARIANT, "split": split}, tapes=12)
    clips = pd.read_csv(work / "dataset/clips.csv")
    journal = tmp_path / "tuning/journal.log"
    data = TrainingData(clips, work / "cache", FEATURES, LABELS)
    summary = tune_worker(data, MODEL, TUNING, journal=journal, worker=0)
    assert [t["configured"] for t in summary["trials"]] == [True, False, False]
    out = {"best_params": tmp_path / "best_params.json", "trials": tmp_path / "trials.csv"}
    out.update({name: tmp_path / f"{name}.png" for name in PLOTS})
    write_report(load_study(journal, summary["study"]), TUNING["trials"], out)

    best = json.loads(out["best_params"].read_text())
    assert best["best_searched"]["value"] < best["configured"]["value"]  # lr 1e-9 cannot learn
    assert best["chosen"] == "configured" and best["params"] == {}
    assert best["configured"]["params"] == {}  # 1e-2 is not among the choices
    assert "no trial beat the configured values" in best["note"]
    assert pd.read_csv(out["trials"])["configured"].tolist() == [True, False, False]

    folds = cv_folds(clips, 2, seed=0)
    results = train_fold(
        data,
        folds,
        0,
        MODEL,
        out_dir=tmp_path / "fold0",
        tuned_params=read_tuned_params(out["best_params"])[0],  # as train_fold.py does
    )
    assert results["model"]["lr"] == MODEL["lr"]
    assert results["hyperparameters"]["lr"] == MODEL["lr"]
