# Input and params functions of the rules in workflow/rules/evaluate.smk.


def prediction_shards(wildcards):
    shards = config["benchmarks"][wildcards.benchmark]["shards"]
    return expand(
        "results/predictions/{e}/{b}/shard{s}.parquet",
        e=wildcards.experiment,
        b=wildcards.benchmark,
        s=range(shards),
    )


def ground_truth_params(wildcards, input):
    """Where a benchmark's ground truth is (as the job sees it) and how to read it."""
    demo = job_demo_dir(wildcards, input)
    name = wildcards.benchmark
    return {**benchmark_dirs(name, demo), **benchmark_reader(name)}


def evaluation_params(wildcards):
    return {
        **config["evaluation"],
        "hop_s": config["benchmarks"][wildcards.benchmark]["hop_s"],
    }
