rule detect:
    input:
        unpack(detect_inputs),
    output:
        scores="results/detect/{name}/scores/shard{shard}.parquet",
        status="results/detect/{name}/scores/shard{shard}.status.csv",
    log:
        "logs/detect/{name}.shard{shard}.log",
    benchmark:
        "benchmarks/detect/{name}.shard{shard}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        run=detect_scoring_params,
        work=detect_work_dir,
    script:
        "../scripts/detect.py"


rule collect_detections:
    input:
        unpack(detect_collect_inputs),
    output:
        detections="results/detect/{name}/detections.csv",
        summary="results/detect/{name}/summary.csv",
        skipped="results/detect/{name}/skipped.csv",
        thresholds="results/detect/{name}/thresholds.json",
        tables=directory("results/detect/{name}/tables"),
        plot=report(
            "results/detect/{name}/detections.png",
            caption="../report/detections.rst",
            category="Detection",
            labels={"run": "{name}"},
        ),
    log:
        "logs/collect_detections/{name}.log",
    benchmark:
        "benchmarks/collect_detections/{name}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    params:
        run=detect_collect_params,
    script:
        "../scripts/collect_detections.py"
