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
            EXCERPT,
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
