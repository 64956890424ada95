# Input and params functions of the rules in workflow/rules/detect.smk.

from sonoflow.config import detect_benchmark
from sonoflow.common.shards import shard_recordings
from sonoflow.detection.listing import find_recordings
from sonoflow.evaluation.events import event_settings

# --- detection over unannotated recordings (optional `detect` section) -----------------


@cache
def detect_recordings(name):
    """A run's recordings (relative paths), listed once when the DAG is built."""
    root = config["detect"][name]["recordings"]
    try:
        return find_recordings(root, f"detect.{name}.recordings")
    except ValueError as err:
        raise WorkflowError(str(err))


def detect_inputs(wildcards):
    run = config["detect"][wildcards.name]
    inputs = {
        "models": expand(FOLD_MODEL, experiment=run["experiment"], fold=FOLDS),
        "recordings": [
            str(Path(run["recordings"]) / relative)
            for relative in shard_recordings(
                detect_recordings(wildcards.name), int(wildcards.shard), run["shards"]
            )
        ],
    }
    if run["metadata"]:
        inputs["metadata"] = run["metadata"]
    return inputs


def detect_scoring_params(wildcards):
    """What changes window scores; thresholds and formats are collect_detections's."""
    run = config["detect"][wildcards.name]
    keys = (
        "recordings",
        "hop_s",
        "batch_size",
        "channel",
        "block_s",
        "score_dtype",
        "compile",
    )
    return {key: run[key] for key in (*keys, "metadata", "shards")}


def detect_work_dir(wildcards):
    """Outside the outputs, so that a killed shard's finished recordings survive."""
    return f"results/detect_work/{wildcards.name}"


def detect_collect_inputs(wildcards):
    shards = range(config["detect"][wildcards.name]["shards"])
    inputs = {
        "scores": expand(
            "results/detect/{n}/scores/shard{s}.parquet", n=wildcards.name, s=shards
        ),
        "status": expand(
            "results/detect/{n}/scores/shard{s}.status.csv", n=wildcards.name, s=shards
        ),
    }
    benchmark = detect_benchmark(config, wildcards.name)
    if benchmark is not None:
        experiment = config["detect"][wildcards.name]["experiment"]
        inputs["metrics"] = METRICS.format(experiment=experiment, benchmark=benchmark)
    return inputs


def detect_collect_params(wildcards):
    run = config["detect"][wildcards.name]
    events = event_settings(config["evaluation"])
    return {
        "recordings": run["recordings"],
        "threshold": run["threshold"],
        "formats": run["formats"],
        "events": {**events, "hop_s": run["hop_s"]},
        "label_column": config["corpus"]["label_column"],
    }


def detect_outputs():
    names = ["detections.csv", "summary.csv", "skipped.csv", "detections.png"]
    return expand("results/detect/{n}/{f}", n=config["detect"], f=names)
