# Input and params functions of the rules in workflow/rules/tune.smk.


def is_tuned(experiment):
    enabled = config["tuning"]["enabled"]
    return enabled is True or (isinstance(enabled, list) and experiment in enabled)


def tuning_params():
    """The tuning config but `enabled`, so that tuning one more experiment reruns no study."""
    return {k: v for k, v in config["tuning"].items() if k != "enabled"}


def tuning_journal(wildcards, output):
    """Outside the outputs but beside them, so that a rerun continues the study instead of
    starting over."""
    return str(Path(output[0]).parent / "journal.log")


def tuning_workers(wildcards):
    return expand(
        "results/tuning/{e}/worker{w}.json",
        e=wildcards.experiment,
        w=range(config["tuning"]["workers"]),
    )

# Optional hyperparameter search per experiment: `tuning.workers` GPU jobs share one Optuna
# study (journal file outside the outputs, so that a rerun continues it), then a CPU job
# writes what the study found. Fold training reads best_params.json.
