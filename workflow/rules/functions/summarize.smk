# Input and params functions of the rules in workflow/rules/summarize.smk.


def summary_inputs(wildcards):
    return {
        "metrics": expand(
            METRICS,
            experiment=EXPERIMENTS,
            benchmark=config["benchmarks"],
        ),
        "per_tape": expand(
            METRICS_PER_TAPE,
            experiment=EXPERIMENTS,
            benchmark=config["benchmarks"],
        ),
        "histories": expand(FOLD_HISTORY, experiment=EXPERIMENTS, fold=FOLDS),
    }


def summary_outputs():
    return [
        "results/metrics.csv",
        "results/metrics_per_tape.csv",
        "results/leaderboard.csv",
        "results/plots/f1_by_threshold.png",
        "results/plots/pr_curves.png",
        "results/plots/per_tape_recall.png",
        "results/plots/recall_by_quality.png",
        "results/plots/training_history.png",
        "results/gpu_check.txt",
        *expand(
            "results/evaluation/{e}/{b}/excerpt.png",
            e=EXPERIMENTS,
            b=config["benchmarks"],
        ),
        *experiment_outputs(),
    ]
