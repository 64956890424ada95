# Input and params functions of the rules in workflow/rules/review.smk.

# --- review samples of detection runs (optional `review` section) ----------------------

REVIEW_DRAW_KEYS = (
    "strategy",
    "size",
    "bins",
    "stratum",
    "uncertainty",
    "include_misses",
    "seed",
    "padding_s",
)


def review_sample_inputs(wildcards):
    """The detect run's collected outputs: its events, thresholds and window scores (with
    the fold spreads), so a review edit never reruns detection."""
    detect = config["review"][wildcards.name]["detect"]
    shards = range(config["detect"][detect]["shards"])
    return {
        "detections": f"results/detect/{detect}/detections.csv",
        "thresholds": f"results/detect/{detect}/thresholds.json",
        "scores": expand(
            "results/detect/{n}/scores/shard{s}.parquet", n=detect, s=shards
        ),
    }


def review_sample_params(wildcards):
    """The keys that change the sample or its clips (not the verdict folder)."""
    review = config["review"][wildcards.name]
    return {key: review[key] for key in REVIEW_DRAW_KEYS}


def review_recordings(wildcards):
    return config["detect"][config["review"][wildcards.name]["detect"]]["recordings"]


def review_channel(wildcards):
    return config["detect"][config["review"][wildcards.name]["detect"]]["channel"]


def review_history(wildcards):
    """Earlier versions of a changed sample: outside the outputs, never deleted."""
    return f"results/review_history/{wildcards.name}"


def review_outputs():
    names = ["sample.csv", "index.html"]
    return expand("results/review/{n}/{f}", n=config["review"], f=names)
