def dataset_params(wildcards):
    variant = config["datasets"][wildcards.dataset]
    return {key: value for key, value in variant.items() if key != "export"}


EXPORT_KEYS = {"animal_spot": "animal_spot", "spectrograms": "spectrogram_png"}


def dataset_outputs():
    """Every variant in `datasets:` is prepared (and exported where asked), whichever
    variants the experiments train on."""
    files = []
    for name, variant in config["datasets"].items():
        files += expand(
            "results/datasets/{d}/{f}",
            d=name,
            f=[
                "clips.csv",
                "variant_index.json",
                "stats.json",
                "stats.png",
                "selection_tables",
            ],
        )
        files += [
            f"results/datasets/{name}/{folder}"
            for folder, key in EXPORT_KEYS.items()
            if variant["export"][key]
        ]
    return files


def export_inputs(wildcards):
    return {
        "clips": f"results/datasets/{wildcards.dataset}/clips.csv",
        "recordings": f"results/datasets/{wildcards.dataset}/recordings.csv",
    }


def export_params(wildcards):
    return config["datasets"][wildcards.dataset]["export"]


rule prepare_dataset:
    input:
        corpus_files,
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
