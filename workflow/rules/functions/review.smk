# Input and params functions of the rules in workflow/rules/review.smk.

# --- calibrate (i21-calib) ------------------------------------------------------------

from sonoflow.config import review_verdicts
from sonoflow.review.verdicts import verdict_files


def review_verdict_files(name):
    """The verdict files a person saved for review `name`: inputs, so that editing or
    adding one reruns calibrate and what reads it."""
    folder = Path(review_verdicts(config, name))
    return [str(p) for p in verdict_files(folder)] if folder.is_dir() else []


def calibrate_inputs(wildcards):
    detect = config["review"][wildcards.name]["detect"]
    return {
        "sample": f"results/review/{wildcards.name}/sample.csv",
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


# --- end calibrate --------------------------------------------------------------------
