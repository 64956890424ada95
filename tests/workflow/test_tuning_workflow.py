"""Tuning in the workflow: two worker jobs on one study with the configured values as one of
its trials; the folds train with what beat them (or with them), the assessment compares."""

import copy
import json

import pandas as pd
from workflow_helpers import TINY_CONFIG, copy_project, scheduled_jobs, snakemake

EXPERIMENT = "default.mel32.tiny"


def tuning_config():
    config = copy.deepcopy(TINY_CONFIG)
    config["tuning"] = {
        "enabled": [EXPERIMENT],
        "trials": 6,
        "workers": 2,
        "epochs": 2,
        "pruner": "median",
        # A learning rate that cannot learn beside one that can. Whether the median pruner
        # stops one here depends on the trials' first epochs (warm-up); pruning itself is
        # shown by the unit tests.
        "search_space": {
            "lr": {"choices": [1.0e-7, 0.003]},
            "dropout": {"low": 0.1, "high": 0.5},
        },
    }
    return config


def test_tuning_off_puts_no_tuning_job_in_the_dag(tmp_path):
    jobs = scheduled_jobs(copy_project(tmp_path, copy.deepcopy(TINY_CONFIG)))
    assert "tune_worker" not in jobs and "collect_tuning" not in jobs


def test_two_workers_tune_and_the_folds_train_with_values_at_least_as_good(tmp_path):
    project = copy_project(tmp_path, tuning_config())
    jobs = scheduled_jobs(project)
    assert jobs["tune_worker"] == 2 and jobs["collect_tuning"] == 1  # one tuned experiment
    folds = [f"results/models/{EXPERIMENT}/fold{k}/results.json" for k in (0, 1)]
    assessment = f"results/models/{EXPERIMENT}/tuning.json"
    snakemake(project, *folds, assessment)

    tuning = project / "results/tuning" / EXPERIMENT
    trials = pd.read_csv(tuning / "trials.csv")
    assert len(trials) == 6  # the total, met exactly across workers
    assert sorted(trials["worker"].value_counts().to_dict().items()) == [(0, 3), (1, 3)]
    assert set(trials["state"]) <= {"COMPLETE", "PRUNED"}
    configured = trials[trials["configured"]]
    assert len(configured) == 1 and configured["state"].item() == "COMPLETE"  # once, unpruned
    assert configured["params_dropout"].item() == 0.2  # the schema's default dropout
    best = json.loads((tuning / "best_params.json").read_text())
    assert best["value"] == trials.loc[trials["state"] == "COMPLETE", "value"].max()
    assert best["configured"]["value"] == configured["value"].item()
    assert best["value"] >= best["configured"]["value"]
    for name in ("optimization_history", "param_importances", "parallel_coordinate"):
        assert (tuning / f"{name}.png").stat().st_size > 1000
    expected = {"lr": 0.002, "dropout": 0.2, **best["params"]}  # configured, unless beaten
    for path in folds:
        results = json.loads((project / path).read_text())
        assert results["tuned_params"] == (best["params"] or None)
        assert results["model"]["lr"] == expected["lr"]
        assert results["model"]["dropout"] == expected["dropout"]

    comparison = json.loads((project / assessment).read_text())
    assert comparison["tuned"] and comparison["folds_trained_with"] == best["chosen"]
    assert comparison["chosen_val_macro_f1"] >= comparison["configured_val_macro_f1"]

    # Nothing left to do: the finished study is not rerun.
    assert "tune_worker" not in scheduled_jobs(project)
