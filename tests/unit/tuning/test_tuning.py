"""Tuning's study logic with a synthetic trainer: quotas, pruning, parallel workers, resume."""

import multiprocessing
import os
import signal
import time

import pytest
from optuna.trial import TrialState

from sonoflow.models.config import apply_params
from sonoflow.tuning.study import open_study, run_worker, unknown_params, worker_quota

SPACE = {
    "lr": {"low": 1e-4, "high": 1e-1, "log": True},
    "head_width": {"choices": [128, 256]},
    "freeze_epochs": {"low": 0, "high": 2, "log": False},
}
EPOCHS = 6


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
    run_worker(study, worker, workers, trials, SPACE, {"lr": 0.0}, synthetic_train)


def test_two_parallel_workers_share_one_study_and_prune(tmp_path):
    journal = tmp_path / "journal.log"
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_worker, args=(journal, w, 2, 9)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    study = open_study(journal, "s", seed=0, pruner="median", epochs=EPOCHS)
    trials = study.get_trials()
    assert len(trials) == 9
    by_worker = {w: [t for t in trials if t.user_attrs["worker"] == w] for w in (0, 1)}
    assert (len(by_worker[0]), len(by_worker[1])) == (5, 4)
    states = [t.state for t in trials]
    assert TrialState.PRUNED in states and TrialState.COMPLETE in states
    assert set(states) <= {TrialState.PRUNED, TrialState.COMPLETE}
    assert set(study.best_params) == set(SPACE)


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
            running = [t for t in study.get_trials() if t.state == TrialState.RUNNING]
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
        run_worker(study, 0, 1, 3, SPACE, {"lr": 0.0}, broken)
    assert [t.state for t in study.get_trials()] == [TrialState.FAIL]
