# Input and params functions of the rules in workflow/rules/datasets.smk.


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
