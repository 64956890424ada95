# Config access and input functions. Every rule's params come from here, each holding only
# the config sub-tree its rule reads, so a config edit reruns exactly the stages it touches.

from snakemake.exceptions import WorkflowError

from sonoflow.audio import AUDIO_SUFFIXES
from sonoflow.config import experiment_id, experiments
from sonoflow.models import pretrained_file

DEMO = "results/demo_corpus"
NAME = "[A-Za-z0-9_-]+"


wildcard_constraints:
    dataset=NAME,
    features=NAME,
    model=NAME,
    benchmark=NAME,
    experiment=rf"{NAME}\.{NAME}\.{NAME}",
    fold=r"\d+",
    shard=r"\d+",
    weights=r"[A-Za-z0-9_.-]+",


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


def uses_metadata(model):
    return config["models"][model]["metadata"]["fusion"] != "none"


def corpus_metadata():
    """The corpus's metadata CSV (the demo writes one), or None."""
    return corpus_params()["metadata"]


def train_inputs(wildcards):
    """Clips, cache index, and where the model needs them its weights and metadata."""
    dataset, features, model = parts(wildcards)
    inputs = {
        "clips": f"results/datasets/{dataset}/clips.csv",
        "cache": f"results/cache/{features}/index.csv",
    }
    weights = pretrained_file(config["models"][model])
    if weights is not None:
        inputs["weights"] = str(weights)
    if uses_metadata(model):
        if not corpus_metadata():
            raise WorkflowError(
                f"config key corpus.metadata: models.{model}.metadata.fusion is "
                f"{config['models'][model]['metadata']['fusion']!r}, which needs a metadata CSV"
            )
        inputs["metadata"] = corpus_metadata()
    return inputs


def training_metadata(wildcards):
    """The metadata CSV a fusion model trains with ("" for models without fusion)."""
    return corpus_metadata() if uses_metadata(parts(wildcards)[2]) else ""


def experiment_features(wildcards):
    return config["features"][parts(wildcards)[1]]


def experiment_model(wildcards):
    return config["models"][parts(wildcards)[2]]


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


def fold_results(wildcards):
    return {
        "models": expand(
            "results/models/{e}/fold{k}/model.pt", e=wildcards.experiment, k=FOLDS
        ),
        "results": expand(
            "results/models/{e}/fold{k}/results.json", e=wildcards.experiment, k=FOLDS
        ),
        "histories": expand(
            "results/models/{e}/fold{k}/history.csv", e=wildcards.experiment, k=FOLDS
        ),
        **train_inputs(wildcards),
    }


def experiment_outputs():
    """What each experiment reports besides benchmark metrics (rule assess_experiment)."""
    names = ["cv_summary.csv", "test/metrics.json", "plots/learning_curves.png"]
    return expand("results/models/{e}/{name}", e=EXPERIMENTS, name=names)


def benchmark_params(wildcards):
    bench = dict(config["benchmarks"][wildcards.benchmark])
    if bench["recordings"] == "demo":
        bench["metadata"] = f"{DEMO}/metadata.csv"
    return {**bench, **benchmark_dirs(wildcards.benchmark)}


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
        *experiment_outputs(),
    ]
