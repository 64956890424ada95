"""What a finished study found: best parameters, a table of trials and the usual plots."""

from __future__ import annotations

from pathlib import Path

import optuna
import optuna.visualization.matplotlib as optuna_plots

from sonoflow.common.atomic import write_csv, write_json
from sonoflow.common.plots import plt, save_figure
from sonoflow.tuning.study import WORKER_ATTR

PLOTS = {
    "history": optuna_plots.plot_optimization_history,
    "importances": optuna_plots.plot_param_importances,
    "parallel": optuna_plots.plot_parallel_coordinate,
}


def best_params(study: optuna.Study, trials: int) -> dict:
    """The best finished trial's parameters, with enough context to trace them back."""
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not finished:
        raise RuntimeError(
            f"study {study.study_name}: no trial completed (all pruned or failed); "
            "raise tuning.trials or loosen the pruner"
        )
    best = study.best_trial
    return {
        "params": best.params,
        "value": best.value,
        "trial": best.number,
        "worker": best.user_attrs.get(WORKER_ATTR),
        "study": study.study_name,
        "trials": trials,
        "states": _state_counts(study),
    }


def trials_table(study: optuna.Study):
    table = study.trials_dataframe(attrs=("number", "state", "value", "duration", "params"))
    table["worker"] = [t.user_attrs.get(WORKER_ATTR) for t in study.trials]
    table["last_epoch"] = [max(t.intermediate_values, default=None) for t in study.trials]
    table["duration"] = table["duration"].dt.total_seconds()
    return table


def write_report(study: optuna.Study, trials: int, out: dict) -> dict:
    """best_params.json, trials.csv and one PNG per entry of PLOTS (keys of `out`)."""
    best = best_params(study, trials)
    write_json(out["best_params"], best)
    write_csv(out["trials"], trials_table(study))
    for name, plot in PLOTS.items():
        _save_plot(study, plot, out[name])
    return best


def _save_plot(study: optuna.Study, plot, path: str | Path) -> None:
    try:
        axes = plot(study)
        figure = (axes.flat[0] if hasattr(axes, "flat") else axes).figure
    except (ValueError, RuntimeError) as why:
        # Too few finished trials (or one parameter) for this plot: say so in the figure.
        figure, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, f"not enough trials for this plot:\n{why}", ha="center", wrap=True)
    save_figure(figure, path, dpi=100)


def _state_counts(study: optuna.Study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in study.trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts
