rule prepare_dataset:
    input:
        unpack(dataset_inputs),
    output:
        clips="results/datasets/{dataset}/clips.csv",
        index="results/datasets/{dataset}/variant_index.json",
        stats="results/datasets/{dataset}/stats.json",
        plot=report(
            "results/datasets/{dataset}/stats.png",
            caption="../report/dataset_counts.rst",
            category="Datasets",
        ),
        tables=directory("results/datasets/{dataset}/selection_tables"),
        recordings="results/datasets/{dataset}/recordings.csv",
    log:
        "logs/prepare_dataset/{dataset}.log",
    benchmark:
        "benchmarks/prepare_dataset/{dataset}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    params:
        dirs=job_corpus_dirs,
        corpus=job_corpus_params,
        variant=dataset_params,
        reviews=dataset_reviews,
        benchmarks=dataset_benchmark_dirs,
    script:
        "../scripts/prepare_dataset.py"


rule export_dataset:
    input:
        unpack(export_inputs),
    output:
        folder=directory("results/datasets/{dataset}/{export}"),
    log:
        "logs/export_dataset/{dataset}.{export}.log",
    benchmark:
        "benchmarks/export_dataset/{dataset}.{export}.tsv"
    wildcard_constraints:
        export="animal_spot|spectrograms",
    conda:
        "../../envs/sonoflow.yaml"
    params:
        export=export_params,
        channel=config["corpus"]["channel"],
    script:
        "../scripts/export_dataset.py"


rule check_corpus:
    input:
        corpus_files,
    output:
        "results/corpus_check.tsv",
    log:
        "logs/check_corpus/check_corpus.log",
    benchmark:
        "benchmarks/check_corpus/check_corpus.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    params:
        corpus=job_corpus_params,
        demo=job_demo_dir,
    script:
        "../scripts/check_corpus.py"
