# Input and params functions of the rules in workflow/rules/predict.smk.

# Beside a shard's scores, what it ran on and how much audio it scored; and its benchmark
# file: the prediction cost of the leaderboard (sonoflow.evaluation.cost).
PREDICTION_RUN = "results/predictions/{experiment}/{benchmark}/shard{shard}.json"
PREDICTION_BENCHMARK = "benchmarks/predict/{experiment}.{benchmark}.shard{shard}.tsv"


def fold_models(wildcards):
    """The fold models a benchmark is scored with (its `folds`: all, or a chosen few)."""
    chosen = config["benchmarks"][wildcards.benchmark]["folds"]
    folds = FOLDS if chosen == "all" else chosen
    return expand(FOLD_MODEL, experiment=wildcards.experiment, fold=folds)


def benchmark_params(wildcards, input):
    demo = job_demo_dir(wildcards, input)
    bench = dict(config["benchmarks"][wildcards.benchmark])
    if bench["recordings"] == "demo":
        bench["metadata"] = f"{demo}/benchmark/metadata.csv"
    return {**bench, **benchmark_dirs(wildcards.benchmark, demo)}
