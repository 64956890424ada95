# Input and params functions of the rules in workflow/rules/review.smk.

from sonoflow.config import review_verdicts
from sonoflow.review.verdicts import verdict_files

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


def reviewed_detect_run(review):
    """The config of the detect run a review samples."""
    return config["detect"][config["review"][review]["detect"]]


def review_recordings(wildcards):
    return reviewed_detect_run(wildcards.name)["recordings"]


def review_channel(wildcards):
    return reviewed_detect_run(wildcards.name)["channel"]


def review_history(wildcards):
    """Earlier versions of a changed sample: outside the outputs, never deleted."""
    return f"results/review_history/{wildcards.name}"


def review_outputs():
    names = ["sample.csv", "index.html"]
    return expand("results/review/{n}/{f}", n=config["review"], f=names)


# --- calibration of a review's verdicts -------------------------------------------------


def review_verdict_files(name):
    """The verdict files a person saved for review `name`: inputs, so that editing or
    adding one reruns calibrate and what reads it."""
    folder = Path(review_verdicts(config, name))
    return [str(p) for p in verdict_files(folder)] if folder.is_dir() else []


def calibrate_inputs(wildcards):
    detect = config["review"][wildcards.name]["detect"]
    return {
        "sample": f"results/review/{wildcards.name}/sample.csv",
        "design": f"results/review/{wildcards.name}/design.json",
        "verdicts": review_verdict_files(wildcards.name),
        "detections": f"results/detect/{detect}/detections.csv",
        "summary": f"results/detect/{detect}/summary.csv",
        "thresholds": f"results/detect/{detect}/thresholds.json",
    }


def calibrate_params(wildcards):
    """What calibrate reads of the config: the review's estimation keys, the verdict
    folder, and the evaluation thresholds at which precision is reported."""
    review = config["review"][wildcards.name]
    keys = ("target_precision", "min_verdicts", "resamples", "seed", "stratum")
    return {
        **{key: review[key] for key in keys},
        "verdicts": review_verdicts(config, wildcards.name),
        "thresholds": config["evaluation"]["thresholds"],
    }


def calibrate_outputs():
    names = ["calibration.csv", "detections_calibrated.csv", "call_rates.csv"]
    return expand("results/review/{n}/{f}", n=config["review"], f=names)
