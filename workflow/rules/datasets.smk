rule prepare_dataset:
    input:
        corpus_files,
    output:
        clips="results/datasets/{dataset}/clips.csv",
        index="results/datasets/{dataset}/variant_index.json",
    log:
        "logs/prepare_dataset/{dataset}.log",
    benchmark:
        "benchmarks/prepare_dataset/{dataset}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    params:
        dirs=corpus_dirs(),
        corpus=corpus_params(),
        variant=dataset_params,
    script:
        "../scripts/prepare_dataset.py"
