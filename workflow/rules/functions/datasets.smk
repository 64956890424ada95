# Input and params functions of the rules in workflow/rules/datasets.smk.


def dataset_inputs(wildcards):
    """The corpus; for a variant with `reviewed`, each review's sample and verdict files
    (so that a new or changed verdict reruns the variant and nothing before it) and the
    benchmarks' recordings (a reviewed recording that is one of them is refused)."""
    inputs = {"corpus": corpus_files(wildcards)}
    reviews = config["datasets"][wildcards.dataset]["reviewed"]
    if reviews:
        inputs["samples"] = [f"results/review/{r}/sample.csv" for r in reviews]
        inputs["verdicts"] = [f for r in reviews for f in review_verdict_files(r)]
        inputs["benchmarks"] = [
            f
            for b in sorted(config["benchmarks"])
            for f in benchmark_recording_files(b)
        ]
    return inputs


def dataset_reviews(wildcards):
    """Per review of the variant (in its order, as input `samples`): the verdict folder
    and the detect run's recordings folder, where the reviewed recordings are."""
    return {
        review: {
            "verdicts": review_verdicts(config, review),
            "recordings": reviewed_detect_run(review)["recordings"],
        }
        for review in config["datasets"][wildcards.dataset]["reviewed"]
    }


def dataset_benchmark_dirs(wildcards, input):
    """Each benchmark's recordings folder, for a variant with `reviewed`."""
    if not config["datasets"][wildcards.dataset]["reviewed"]:
        return {}
    demo = job_demo_dir(wildcards, input)
    return {
        b: benchmark_dirs(b, demo)["recordings"] for b in sorted(config["benchmarks"])
    }


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
