rule predict:
    input:
        models=fold_models,
        recordings=benchmark_recordings,
    output:
        scores="results/predictions/{experiment}/{benchmark}/shard{shard}.parquet",
        run=PREDICTION_RUN,
    log:
        "logs/predict/{experiment}.{benchmark}.shard{shard}.log",
    benchmark:
        PREDICTION_BENCHMARK
    conda:
        "../../envs/sonoflow.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        benchmark=benchmark_params,
    script:
        "../scripts/predict.py"
