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


rule predict:
    input:
        models=fold_models,
        recordings=benchmark_recordings,
    output:
        scores="results/predictions/{experiment}/{benchmark}/shard{shard}.parquet",
    log:
        "logs/predict/{experiment}.{benchmark}.shard{shard}.log",
    benchmark:
        "benchmarks/predict/{experiment}.{benchmark}.shard{shard}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        benchmark=benchmark_params,
    script:
        "../scripts/predict.py"
