# Input and params functions of the rules in workflow/rules/assess.smk.


def fold_results(wildcards):
    return {
        "models": expand(FOLD_MODEL, experiment=wildcards.experiment, fold=FOLDS),
        "results": expand(FOLD_RESULTS, experiment=wildcards.experiment, fold=FOLDS),
        "histories": expand(FOLD_HISTORY, experiment=wildcards.experiment, fold=FOLDS),
        **train_inputs(wildcards),
    }


def experiment_outputs():
    """What each experiment reports besides benchmark metrics (rule assess_experiment)."""
    names = ["cv_summary.csv", "test/metrics.json", "plots/learning_curves.png"]
    return expand("results/models/{e}/{name}", e=EXPERIMENTS, name=names)
