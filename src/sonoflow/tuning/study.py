"""Hyperparameter search: one Optuna study per experiment, shared by parallel workers.

Workers share the study through Optuna's journal file storage, which is safe on a shared
file system. Each worker owns a fixed quota of the trials, so the total is met exactly
whatever the order in which workers start, and a rerun after an interruption only runs what
its worker had not finished.

The model's configured values are always a trial of the study (marked with the user attribute
`configured`), enqueued once for all workers and never pruned: the study's result is then
never worse than what the config had, on the same budget.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.storages.journal import JournalFileOpenLock
from optuna.trial import TrialState

from sonoflow.models.config import apply_params
from sonoflow.tuning.space import configured_value

log = logging.getLogger(__name__)

WORKER_ATTR = "worker"
CONFIGURED_ATTR = "configured"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
LIVE = (TrialState.WAITING, TrialState.RUNNING, *FINISHED)

# train(model_config, report) -> validation macro-F1 of the best epoch; `report(epoch, f1)`
# is called after every epoch and raises optuna.TrialPruned when the trial should stop.
TrainTrial = Callable[[dict, Callable[[int, float], None]], float]


def worker_quota(trials: int, workers: int, worker: int) -> int:
    """Trials that `worker` runs: an even share, the remainder to the first workers."""
    return trials // workers + (1 if worker < trials % workers else 0)


def configured_params(model_config: dict, space: dict) -> dict:
    """The configured values of the space's entries, where the space can hold them.

    A value outside its entry (a configured `lr: auto`, a choice the list lacks, a number
    beyond low..high) is left out: the configured trial still trains with it, since the
    trial's config is the model's own config with only the searched values replaced.
    """
    params = {}
    for name, spec in space.items():
        value = configured_value(model_config, name)
        if "choices" in spec:
            inside = value in spec["choices"]
        else:
            number = isinstance(value, int | float) and not isinstance(value, bool)
            inside = number and spec["low"] <= value <= spec["high"]
        if inside:
            params[name] = value
    return params


def suggest(trial: optuna.Trial, space: dict) -> dict:
    """One value per search-space entry: `choices`, or `low`/`high` (int when both are)."""
    params = {}
    for name, spec in space.items():
        if "choices" in spec:
            params[name] = trial.suggest_categorical(name, spec["choices"])
        elif isinstance(spec["low"], int) and isinstance(spec["high"], int):
            params[name] = trial.suggest_int(name, spec["low"], spec["high"], log=spec["log"])
        else:
            params[name] = trial.suggest_float(
                name, float(spec["low"]), float(spec["high"]), log=spec["log"]
            )
    return params


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=epochs, reduction_factor=3
        )
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    return optuna.pruners.NopPruner()


def open_study(journal: str | Path, name: str, seed: int, pruner: str, epochs: int):
    """The study `name` in the journal file, created by whichever worker comes first."""
    Path(journal).parent.mkdir(parents=True, exist_ok=True)
    return optuna.create_study(
        storage=_journal_storage(journal),
        study_name=name,
        direction="maximize",
        # constant_liar keeps parallel workers from proposing the same point.
        sampler=optuna.samplers.TPESampler(seed=seed, constant_liar=True),
        pruner=make_pruner(pruner, epochs),
        load_if_exists=True,
    )


def workers_study(worker_outputs: list[str | Path]) -> str:
    """The one study that the workers' JSON outputs name; workers of different studies (an
    output left from before a config change that a rerun did not replace) are an error."""
    names = {json.loads(Path(p).read_text())["study"] for p in worker_outputs}
    if len(names) != 1:
        raise RuntimeError(
            f"the tuning workers' outputs {[str(p) for p in worker_outputs]} name different "
            f"studies {sorted(names)}; rerun the workers (snakemake --forcerun tune_worker)"
        )
    return names.pop()


def load_study(journal: str | Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=_journal_storage(journal))


def study_lock(journal: str | Path) -> JournalFileOpenLock:
    """A lock beside the journal that workers hold while they enqueue the configured trial."""
    return JournalFileOpenLock(f"{journal}.configured.lock")


def _journal_storage(journal: str | Path) -> optuna.storages.JournalStorage:
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))


def run_worker(
    study: optuna.Study,
    worker: int,
    workers: int,
    trials: int,
    space: dict,
    model_config: dict,
    train: TrainTrial,
    lock: JournalFileOpenLock | None = None,
) -> list[optuna.trial.FrozenTrial]:
    """Run this worker's remaining trials; returns all of its trials in the study.

    Before each trial the configured values are enqueued when the study has no live trial of
    them (none waiting, running or finished), under `lock` where workers run in parallel, so
    that they are enqueued exactly once; whichever worker asks next runs them.
    """
    configured = configured_params(model_config, space)
    mine = _own_trials(study, worker)
    for stale in (t for t in mine if t.state == TrialState.RUNNING):
        # Left running by a killed run of this same worker (no other process owns it).
        study._storage.set_trial_state_values(stale._trial_id, TrialState.FAIL)
        log.info("trial %d was interrupted; marked failed, its slot is run again", stale.number)
    done = sum(t.state in FINISHED for t in mine)
    quota = worker_quota(trials, workers, worker)
    log.info("worker %d of %d: %d of its %d trials already finished", worker, workers, done, quota)
    for _ in range(quota - done):
        with _held(lock):
            _enqueue_configured(study, configured)
        trial = study.ask()
        trial.set_user_attr(WORKER_ATTR, worker)
        is_configured = bool(trial.user_attrs.get(CONFIGURED_ATTR))
        params = suggest(trial, {k: space[k] for k in configured} if is_configured else space)

        def report(epoch: int, f1: float, trial=trial, prunable=not is_configured) -> None:
            trial.report(f1, epoch)  # the configured trial's epochs still inform the pruner
            if prunable and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch} at macro-F1 {f1:.4f}")

        try:
            value = train(apply_params(model_config, params), report)
        except optuna.TrialPruned as pruned:
            study.tell(trial, state=TrialState.PRUNED)
            log.info("trial %d %s: %s", trial.number, pruned, params)
            continue
        except BaseException:
            study.tell(trial, state=TrialState.FAIL)  # its slot is run again on a rerun
            raise
        study.tell(trial, value)
        what = "configured values" if is_configured else params
        log.info("trial %d: macro-F1 %.4f with %s", trial.number, value, what)
    return _own_trials(study, worker)


def configured_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The configured values' completed trial, if there is one."""
    return next(
        (
            t
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.user_attrs.get(CONFIGURED_ATTR)
        ),
        None,
    )


def _enqueue_configured(study: optuna.Study, params: dict) -> None:
    live = study.get_trials(deepcopy=False, states=LIVE)
    if not any(t.user_attrs.get(CONFIGURED_ATTR) for t in live):
        study.enqueue_trial(params, user_attrs={CONFIGURED_ATTR: True})
        log.info("enqueued the configured values as a trial: %s", params)


def _held(lock: JournalFileOpenLock | None):
    if lock is None:
        return contextlib.nullcontext()
    return _acquired(lock)


@contextlib.contextmanager
def _acquired(lock: JournalFileOpenLock):
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _own_trials(study: optuna.Study, worker: int) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get(WORKER_ATTR) == worker]
