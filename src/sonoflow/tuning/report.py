"""What a finished study found: the values the folds train with, a table of trials and the
usual plots, each marking the configured values' trial."""

from __future__ import annotations

from pathlib import Path

import optuna
import optuna.visualization.matplotlib as optuna_plots

from sonoflow.common.atomic import write_csv, write_json
from sonoflow.common.plots import plt, save_figure
from sonoflow.tuning.study import CONFIGURED_ATTR, WORKER_ATTR, configured_trial


def plot_history(study: optuna.Study):
    """Optuna's optimization history with the configured values' trial marked."""
    ax = optuna_plots.plot_optimization_history(study)
    configured = configured_trial(study)
    if configured is not None:
        ax.axhline(configured.value, color="tab:red", linestyle="--", linewidth=1)
        ax.scatter(
            [configured.number],
            [configured.value],
            marker="*",
            s=150,
            color="tab:red",
            zorder=5,
            label=f"configured values (trial {configured.number})",
        )
        ax.legend(fontsize="small")
    return ax


PLOTS = {
    "history": plot_history,
    "importances": optuna_plots.plot_param_importances,
    "parallel": optuna_plots.plot_parallel_coordinate,
}


def best_params(study: optuna.Study, trials: int) -> dict:
    """What the folds train with (`params`: values that replace the model config's), and how
    the best searched trial compares with the configured values' trial (`margin`).

    The searched values are kept only when their trial beats the configured values' trial;
    otherwise `params` is empty and the folds train with the configured values.
    """
    configured = configured_trial(study)
    if configured is None:
        raise RuntimeError(
            f"study {study.study_name}: the trial of the configured values did not complete; "
            "rerun the tune_worker jobs"
        )
    searched = [
        t
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not t.user_attrs.get(CONFIGURED_ATTR)
    ]
    best = max(searched, key=lambda t: t.value, default=None)  # the first of equals
    tuned = best is not None and best.value > configured.value
    chosen = best if tuned else configured
    return {
        "params": best.params if tuned else {},
        "chosen": "tuned" if tuned else "configured",
        "note": (
            f"trial {best.number} beat the configured values by {best.value - configured.value:.4f}"
            if tuned
            else "no trial beat the configured values: the folds train with the configured values"
        ),
        "value": chosen.value,
        "trial": chosen.number,
        "worker": chosen.user_attrs.get(WORKER_ATTR),
        "configured": _summary(configured),
        "best_searched": _summary(best) if best is not None else None,
        "margin": best.value - configured.value if best is not None else None,
        "study": study.study_name,
        "trials": trials,
        "states": _state_counts(study),
    }


def _summary(trial: optuna.trial.FrozenTrial) -> dict:
    return {"trial": trial.number, "value": trial.value, "params": trial.params}


def trials_table(study: optuna.Study):
    table = study.trials_dataframe(attrs=("number", "state", "value", "duration", "params"))
    table["worker"] = [t.user_attrs.get(WORKER_ATTR) for t in study.trials]
    table["configured"] = [bool(t.user_attrs.get(CONFIGURED_ATTR)) for t in study.trials]
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
