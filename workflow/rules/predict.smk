rule predict:
    input:
        models=fold_models,
        recordings=benchmark_recordings,
    output:
        scores="results/predictions/{experiment}/{benchmark}/scores.parquet",
    log:
        "logs/predict/{experiment}.{benchmark}.log",
    benchmark:
        "benchmarks/predict/{experiment}.{benchmark}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=60,
    params:
        benchmark=benchmark_params,
    script:
        "../scripts/predict.py"
