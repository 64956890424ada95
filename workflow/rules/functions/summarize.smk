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
        **cost_inputs(),
    }


def cost_inputs():
    """Snakemake's benchmark files of training and prediction, the folds' results.json
    (training device) and the prediction run records (device, audio scored)."""
    shards = {
        name: range(bench["shards"]) for name, bench in config["benchmarks"].items()
    }
    every_shard = [
        {"experiment": e, "benchmark": b, "shard": s}
        for e in EXPERIMENTS
        for b, shard_range in shards.items()
        for s in shard_range
    ]
    return {
        "train_benchmarks": expand(TRAIN_BENCHMARK, experiment=EXPERIMENTS, fold=FOLDS),
        "fold_results": expand(FOLD_RESULTS, experiment=EXPERIMENTS, fold=FOLDS),
        "predict_benchmarks": [PREDICTION_BENCHMARK.format(**s) for s in every_shard],
        "predict_runs": [PREDICTION_RUN.format(**s) for s in every_shard],
    }


# What summarize writes, by name: its `output:` and part of the default target's input.
SUMMARY = {
    "metrics": "results/metrics.csv",
    "per_tape": "results/metrics_per_tape.csv",
    "leaderboard": "results/leaderboard.csv",
    "dcase": "results/dcase.csv",
    "comparison": "results/comparison.csv",
    "f1_plot": "results/plots/f1_by_threshold.png",
    "f1_interval_plot": "results/plots/f1_intervals.png",
    "pr_plot": "results/plots/pr_curves.png",
    "per_tape_plot": "results/plots/per_tape_recall.png",
    "quality_plot": "results/plots/recall_by_quality.png",
    "history_plot": "results/plots/training_history.png",
    "cost_plot": "results/plots/cost.png",
    "comparison_plot": "results/plots/comparison_forest.png",
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
