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


# What summarize writes, by name: its `output:` and part of the default target's input.
SUMMARY = {
    "metrics": "results/metrics.csv",
    "per_tape": "results/metrics_per_tape.csv",
    "leaderboard": "results/leaderboard.csv",
    "dcase": "results/dcase.csv",
    "f1_plot": "results/plots/f1_by_threshold.png",
    "f1_interval_plot": "results/plots/f1_intervals.png",
    "pr_plot": "results/plots/pr_curves.png",
    "per_tape_plot": "results/plots/per_tape_recall.png",
    "quality_plot": "results/plots/recall_by_quality.png",
    "history_plot": "results/plots/training_history.png",
}


def summary_outputs():
    """The default target's files of the evaluation branch: the summary, the GPU check,
    each benchmark's excerpt and each experiment's assessment."""
    return [
        *SUMMARY.values(),
        GPU_CHECK,
        *expand(EXCERPT, experiment=EXPERIMENTS, benchmark=config["benchmarks"]),
        *experiment_outputs(),
    ]
