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


rule tune_worker:
    input:
        unpack(experiment_data),
    output:
        "results/tuning/{experiment}/worker{worker}.json",
    log:
        "logs/tune_worker/{experiment}.worker{worker}.log",
    benchmark:
        "benchmarks/tune_worker/{experiment}.worker{worker}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        features=experiment_features,
        model=experiment_model,
        labels=config["corpus"]["labels"],
        tuning=tuning_params(),
        journal=tuning_journal,
        metadata=training_metadata,
    script:
        "../scripts/tune_worker.py"


rule collect_tuning:
    input:
        tuning_workers,
    output:
        best_params="results/tuning/{experiment}/best_params.json",
        trials="results/tuning/{experiment}/trials.csv",
        history=report(
            "results/tuning/{experiment}/optimization_history.png",
            caption="../report/tuning_history.rst",
            category="Tuning",
            subcategory="{experiment}",
        ),
        importances=report(
            "results/tuning/{experiment}/param_importances.png",
            caption="../report/tuning_importances.rst",
            category="Tuning",
            subcategory="{experiment}",
        ),
        parallel=report(
            "results/tuning/{experiment}/parallel_coordinate.png",
            caption="../report/tuning_parallel.rst",
            category="Tuning",
            subcategory="{experiment}",
        ),
    log:
        "logs/collect_tuning/{experiment}.log",
    benchmark:
        "benchmarks/collect_tuning/{experiment}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    params:
        tuning=tuning_params(),
        journal=tuning_journal,
    script:
        "../scripts/collect_tuning.py"
