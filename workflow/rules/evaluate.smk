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


rule evaluate:
    input:
        scores=prediction_shards,
        annotations=benchmark_annotations,
        recordings=benchmark_recordings,
    output:
        metrics=METRICS,
        per_tape=METRICS_PER_TAPE,
        events=directory("results/evaluation/{experiment}/{benchmark}/events"),
        excerpt=report(
            "results/evaluation/{experiment}/{benchmark}/excerpt.png",
            caption="../report/excerpt.rst",
            category="Detections",
            subcategory="{benchmark}",
            labels={"experiment": "{experiment}"},
        ),
    log:
        "logs/evaluate/{experiment}.{benchmark}.log",
    benchmark:
        "benchmarks/evaluate/{experiment}.{benchmark}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    # event building and matching: numpy and pandas on one core
    threads: 1
    params:
        evaluation=evaluation_params,
        truth=ground_truth_params,
        labels=config["corpus"]["labels"],
    script:
        "../scripts/evaluate.py"
