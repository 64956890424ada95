# Config access and input functions. Every rule's params come from here, each holding only
# the config sub-tree its rule reads, so a config edit reruns exactly the stages it touches.

from snakemake.exceptions import WorkflowError

from sonoflow.audio import AUDIO_SUFFIXES
from sonoflow.config import experiment_id, experiments

DEMO = "results/demo_corpus"
NAME = "[A-Za-z0-9_-]+"


wildcard_constraints:
    dataset=NAME,
    features=NAME,
    model=NAME,
    benchmark=NAME,
    experiment=rf"{NAME}\.{NAME}\.{NAME}",
    fold=r"\d+",
    worker=r"\d+",
    shard=r"\d+",


EXPERIMENTS = [experiment_id(*e) for e in experiments(config)]
FOLDS = list(range(config["cv"]["folds"]))


def parts(wildcards):
    """(dataset, features, model) of the experiment wildcard."""
    return wildcards.experiment.split(".")


def folder_files(directory, suffixes, key):
    """Files of a user folder, listed at DAG time so that added or changed files rerun jobs."""
    folder = Path(directory)
    if not folder.is_dir():
        raise WorkflowError(f"config key {key}: {directory} is not a directory")
    return sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in suffixes)


# --- corpus and benchmarks: demo or user folders ---------------------------------------


def corpus_dirs():
    corpus = config["corpus"]
    if corpus["recordings"] == "demo":
        return {
            "recordings": f"{DEMO}/train/audio",
            "annotations": f"{DEMO}/train/annotations",
        }
    if not corpus["annotations"]:
        raise WorkflowError(
            "config key corpus.annotations: required unless corpus.recordings is 'demo'"
        )
    return {"recordings": corpus["recordings"], "annotations": corpus["annotations"]}


def corpus_params():
    corpus = dict(config["corpus"])
    if corpus["recordings"] == "demo":
        corpus["metadata"] = f"{DEMO}/metadata.csv"
    return corpus


def corpus_files(wildcards):
    if config["corpus"]["recordings"] == "demo":
        return [f"{DEMO}/manifest.json"]
    dirs = corpus_dirs()
    files = folder_files(dirs["recordings"], AUDIO_SUFFIXES, "corpus.recordings")
    files += folder_files(dirs["annotations"], (".txt",), "corpus.annotations")
    if config["corpus"]["metadata"]:
        files.append(config["corpus"]["metadata"])
    return files


def benchmark_dirs(name):
    bench = config["benchmarks"][name]
    if bench["recordings"] == "demo":
        return {
            "recordings": f"{DEMO}/benchmark/audio",
            "annotations": f"{DEMO}/benchmark/annotations",
        }
    if not bench["annotations"]:
        raise WorkflowError(
            f"config key benchmarks.{name}.annotations: required unless recordings is 'demo'"
        )
    return {"recordings": bench["recordings"], "annotations": bench["annotations"]}


def benchmark_recordings(wildcards):
    bench = config["benchmarks"][wildcards.benchmark]
    if bench["recordings"] == "demo":
        return [f"{DEMO}/manifest.json"]
    key = f"benchmarks.{wildcards.benchmark}.recordings"
    return folder_files(
        benchmark_dirs(wildcards.benchmark)["recordings"], AUDIO_SUFFIXES, key
    )


def benchmark_annotations(wildcards):
    bench = config["benchmarks"][wildcards.benchmark]
    if bench["recordings"] == "demo":
        return [f"{DEMO}/manifest.json"]
    key = f"benchmarks.{wildcards.benchmark}.annotations"
    return folder_files(
        benchmark_dirs(wildcards.benchmark)["annotations"], (".txt",), key
    )


# --- per-stage inputs and params -------------------------------------------------------


def dataset_params(wildcards):
    return config["datasets"][wildcards.dataset]


def features_params(wildcards):
    return config["features"][wildcards.features]


def experiment_data(wildcards):
    """What every training of an experiment reads: its clips and its spectrogram cache."""
    dataset, features, _ = parts(wildcards)
    return {
        "clips": f"results/datasets/{dataset}/clips.csv",
        "cache": f"results/cache/{features}/index.csv",
    }


def train_inputs(wildcards):
    inputs = experiment_data(wildcards)
    if is_tuned(wildcards.experiment):
        inputs["best_params"] = f"results/tuning/{wildcards.experiment}/best_params.json"
    return inputs


def experiment_features(wildcards):
    return config["features"][parts(wildcards)[1]]


def experiment_model(wildcards):
    return config["models"][parts(wildcards)[2]]


# --- tuning ---------------------------------------------------------------------------


def is_tuned(experiment):
    enabled = config["tuning"]["enabled"]
    return enabled is True or (isinstance(enabled, list) and experiment in enabled)


def tuning_params():
    """The tuning config but `enabled`, so that tuning one more experiment reruns no study."""
    return {k: v for k, v in config["tuning"].items() if k != "enabled"}


def tuning_journal(wildcards):
    """Outside the outputs, so that a rerun continues the study instead of starting over."""
    return f"results/tuning/{wildcards.experiment}/journal.log"


def tuning_workers(wildcards):
    return expand(
        "results/tuning/{e}/worker{w}.json",
        e=wildcards.experiment,
        w=range(config["tuning"]["workers"]),
    )


def fold_checkpoint(wildcards):
    """Outside the rule's outputs, so that a failed or killed job's progress survives."""
    return f"results/checkpoints/{wildcards.experiment}/fold{wildcards.fold}.pt"


def fold_models(wildcards):
    """The fold models a benchmark is scored with (its `folds`: all, or a chosen few)."""
    chosen = config["benchmarks"][wildcards.benchmark]["folds"]
    folds = FOLDS if chosen == "all" else chosen
    return expand(
        "results/models/{e}/fold{k}/model.pt", e=wildcards.experiment, k=folds
    )


def benchmark_params(wildcards):
    return {
        **config["benchmarks"][wildcards.benchmark],
        **benchmark_dirs(wildcards.benchmark),
    }


def prediction_shards(wildcards):
    shards = config["benchmarks"][wildcards.benchmark]["shards"]
    return expand(
        "results/predictions/{e}/{b}/shard{s}.parquet",
        e=wildcards.experiment,
        b=wildcards.benchmark,
        s=range(shards),
    )


def benchmark_annotation_dir(wildcards):
    return benchmark_dirs(wildcards.benchmark)["annotations"]


def evaluation_params(wildcards):
    return {
        **config["evaluation"],
        "hop_s": config["benchmarks"][wildcards.benchmark]["hop_s"],
    }


def summary_inputs(wildcards):
    return {
        "metrics": expand(
            "results/evaluation/{e}/{b}/metrics.csv",
            e=EXPERIMENTS,
            b=config["benchmarks"],
        ),
        "histories": expand(
            "results/models/{e}/fold{k}/history.csv", e=EXPERIMENTS, k=FOLDS
        ),
    }


def summary_outputs():
    return [
        "results/metrics.csv",
        "results/leaderboard.csv",
        "results/plots/f1_by_threshold.png",
        "results/plots/training_history.png",
        "results/gpu_check.txt",
    ]
