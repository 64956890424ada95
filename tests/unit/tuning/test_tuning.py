"""Tuning's study logic with a synthetic trainer: quotas, pruning, parallel workers, resume."""

import multiprocessing
import os
import signal
import time

import pytest
from optuna.trial import TrialState

from sonoflow.models.config import apply_params
from sonoflow.tuning.report import best_params, trials_table
from sonoflow.tuning.space import unknown_params
from sonoflow.tuning.study import (
    CONFIGURED_ATTR,
    configured_params,
    open_study,
    run_worker,
    study_lock,
    worker_quota,
)

SPACE = {
    "lr": {"low": 1e-4, "high": 1e-1, "log": True},
    "head_width": {"choices": [128, 256]},
    "freeze_epochs": {"low": 0, "high": 2, "log": False},
}
EPOCHS = 6
CONFIGURED = {"lr": 1e-3, "head_width": 128, "freeze_epochs": 1}


def synthetic_train(model_config: dict, report) -> float:
    """Macro-F1 that grows per epoch towards a ceiling set by how close lr is to 1e-2."""
    import math

    ceiling = 1.0 / (1.0 + abs(math.log10(model_config["lr"]) + 2.0))
    best = 0.0
    for epoch in range(1, EPOCHS + 1):
        best = ceiling * epoch / EPOCHS
        report(epoch, best)
        if os.environ.get("SLOW_TRIALS"):
            time.sleep(0.3)
    return best


@pytest.mark.parametrize("trials, workers", [(10, 3), (7, 7), (3, 5), (20, 1)])
def test_worker_quotas_add_up_to_the_trials_exactly(trials, workers):
    quotas = [worker_quota(trials, workers, w) for w in range(workers)]
    assert sum(quotas) == trials
    assert max(quotas) - min(quotas) <= 1


def test_params_reach_nested_keys_without_touching_the_original():
    config = {"lr": 0.1, "augment": {"mixup": {"enabled": True, "alpha": 0.2}}}
    merged = apply_params(config, {"lr": 0.01, "augment.mixup.alpha": 0.3})
    assert merged == {"lr": 0.01, "augment": {"mixup": {"enabled": True, "alpha": 0.3}}}
    assert config["augment"]["mixup"]["alpha"] == 0.2


def test_unknown_search_space_keys_are_named():
    config = {"lr": 0.1, "augment": {"mixup": {"alpha": 0.2}}}
    space = {"lr": {}, "augment.mixup.alpha": {}, "augment.mixup.beta": {}, "lrr": {}}
    assert unknown_params(config, space) == ["augment.mixup.beta", "lrr"]


def _worker(journal, worker, workers, trials, pruner="median"):
    study = open_study(journal, "s", seed=3 + worker, pruner=pruner, epochs=EPOCHS)
    lock = study_lock(journal)
    run_worker(study, worker, workers, trials, SPACE, CONFIGURED, synthetic_train, lock=lock)


def _configured(trials):
    return [t for t in trials if t.user_attrs.get(CONFIGURED_ATTR)]


def test_three_parallel_workers_share_one_study_run_the_configured_values_once_and_prune(
    tmp_path,
):
    journal = tmp_path / "journal.log"
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_worker, args=(journal, w, 3, 9)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    study = open_study(journal, "s", seed=0, pruner="median", epochs=EPOCHS)
    trials = study.get_trials()
    assert len(trials) == 9
    by_worker = {w: [t for t in trials if t.user_attrs["worker"] == w] for w in range(3)}
    assert [len(by_worker[w]) for w in range(3)] == [3, 3, 3]
    states = [t.state for t in trials]
    assert TrialState.PRUNED in states and TrialState.COMPLETE in states
    assert set(states) <= {TrialState.PRUNED, TrialState.COMPLETE}
    assert set(study.best_params) == set(SPACE)
    (configured,) = _configured(trials)  # enqueued once, whichever worker ran it
    assert configured.params == CONFIGURED
    assert configured.state == TrialState.COMPLETE  # never pruned
    assert max(configured.intermediate_values) == EPOCHS  # the full budget


def test_hyperband_prunes_in_a_small_study(tmp_path):
    journal = tmp_path / "journal.log"
    _worker(journal, 0, 1, 12, pruner="hyperband")
    study = open_study(journal, "s", seed=0, pruner="hyperband", epochs=EPOCHS)
    states = [t.state for t in study.get_trials()]
    assert len(states) == 12
    assert TrialState.PRUNED in states


def test_a_killed_worker_resumes_and_keeps_its_finished_trials(tmp_path, monkeypatch):
    journal = tmp_path / "journal.log"
    monkeypatch.setenv("SLOW_TRIALS", "1")  # about 2 s per trial: time to kill one mid-way
    context = multiprocessing.get_context("spawn")
    proc = context.Process(target=_worker, args=(journal, 0, 1, 5, "none"))
    proc.start()
    deadline = time.monotonic() + 60
    finished = []
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if journal.exists():
            study = open_study(journal, "s", seed=0, pruner="none", epochs=EPOCHS)
            finished = [t for t in study.get_trials() if t.state == TrialState.COMPLETE]
            # A trial that has reported an epoch: past ask() and the worker attribute it sets.
            running = [
                t
                for t in study.get_trials()
                if t.state == TrialState.RUNNING and t.intermediate_values
            ]
            if len(finished) >= 2 and running:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    assert len(finished) >= 2, "the worker did not finish two trials in time"
    before = {t.number: (t.params, t.value) for t in finished}

    monkeypatch.delenv("SLOW_TRIALS")
    _worker(journal, 0, 1, 5, "none")
    study = open_study(journal, "s", seed=0, pruner="none", epochs=EPOCHS)
    trials = study.get_trials()
    complete = {t.number: (t.params, t.value) for t in trials if t.state == TrialState.COMPLETE}
    assert len(complete) == 5  # the quota, met exactly
    assert all(complete[n] == before[n] for n in before)  # finished trials kept, not redone
    assert [t.state for t in trials].count(TrialState.FAIL) == 1  # the one that was killed


def test_a_trial_error_fails_the_worker_and_marks_the_trial(tmp_path):
    def broken(model_config, report):
        raise RuntimeError("CUDA out of memory")

    study = open_study(tmp_path / "journal.log", "s", seed=0, pruner="none", epochs=1)
    with pytest.raises(RuntimeError, match="out of memory"):
        run_worker(study, 0, 1, 3, SPACE, CONFIGURED, broken)
    assert [t.state for t in study.get_trials()] == [TrialState.FAIL]


def test_an_interrupted_configured_trial_is_enqueued_again_and_run(tmp_path):
    study = open_study(tmp_path / "journal.log", "s", seed=0, pruner="none", epochs=EPOCHS)
    study.enqueue_trial(CONFIGURED, user_attrs={CONFIGURED_ATTR: True})
    killed = study.ask()  # worker 1 took the configured trial, then was killed
    killed.set_user_attr("worker", 1)
    run_worker(study, 1, 2, 4, SPACE, CONFIGURED, synthetic_train)
    trials = study.get_trials()
    assert [t.state for t in _configured(trials)] == [TrialState.FAIL, TrialState.COMPLETE]
    assert _configured(trials)[1].params == CONFIGURED
    assert len([t for t in trials if t.state == TrialState.COMPLETE]) == 2  # worker 1's quota


def test_configured_values_outside_the_space_are_left_to_the_model_config():
    config = {"lr": "auto", "head_width": 512, "freeze_epochs": 1}
    assert configured_params(config, SPACE) == {"freeze_epochs": 1}


def test_a_space_that_cannot_beat_the_configured_values_keeps_them(tmp_path):
    space = {"lr": {"choices": [1e-9, 1e-8]}}  # far from 1e-2, where the synthetic peak is
    study = open_study(tmp_path / "journal.log", "s", seed=0, pruner="median", epochs=EPOCHS)
    run_worker(study, 0, 1, 4, space, {"lr": 1e-2}, synthetic_train)
    best = best_params(study, 4)
    assert best["chosen"] == "configured" and best["params"] == {}
    assert best["configured"]["value"] == pytest.approx(1.0)
    assert best["margin"] < 0 and "no trial beat" in best["note"]
    table = trials_table(study)
    assert table["configured"].tolist() == [True, False, False, False]


def test_a_better_searched_trial_wins_with_its_margin(tmp_path):
    space = {"lr": {"low": 1e-3, "high": 1e-1, "log": True}}
    study = open_study(tmp_path / "journal.log", "s", seed=0, pruner="none", epochs=EPOCHS)
    run_worker(study, 0, 1, 6, space, {"lr": 1e-4}, synthetic_train)  # outside: not a param
    best = best_params(study, 6)
    assert best["configured"]["params"] == {}
    assert best["configured"]["value"] == pytest.approx(1 / 3)
    assert best["chosen"] == "tuned" and set(best["params"]) == {"lr"}
    assert best["margin"] == pytest.approx(best["value"] - 1 / 3) and best["margin"] > 0


def test_workers_of_different_studies_are_named(tmp_path):
    import json

    from sonoflow.tuning.study import workers_study

    outputs = []
    for worker, study in enumerate(["s1", "s1", "s2"]):
        outputs.append(tmp_path / f"worker{worker}.json")
        outputs[-1].write_text(json.dumps({"study": study, "worker": worker}))
    assert workers_study(outputs[:2]) == "s1"
    with pytest.raises(RuntimeError, match=r"worker2\.json.*different studies \['s1', 's2'\]"):
        workers_study(outputs)
