# Config access and input functions. Every rule's params come from here, each holding only
# the config sub-tree its rule reads, so a config edit reruns exactly the stages it touches.

from snakemake.exceptions import WorkflowError

from sonoflow.corpus.annotations import FORMAT_SUFFIXES
from sonoflow.corpus.audio import AUDIO_SUFFIXES
from sonoflow.config import experiment_id, experiments
from sonoflow.corpus.load import DEMO, corpus_paths
from sonoflow.features.cache_index import missing_cache_files
from sonoflow.models.registry import pretrained_file

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
    weights=r"[A-Za-z0-9_.-]+",


EXPERIMENTS = [experiment_id(*e) for e in experiments(config)]
FOLDS = list(range(config["cv"]["folds"]))


def parts(wildcards):
    """(dataset, features, model) of the experiment wildcard."""
    return wildcards.experiment.split(".")


def folder_files(directory, suffixes, key, required=False):
    """Files of a user folder, listed at DAG time so that added or changed files rerun jobs.
    A `required` folder without such files stops the DAG naming the key."""
    folder = Path(directory)
    if not folder.is_dir():
        raise WorkflowError(f"config key {key}: {directory} is not a directory")
    files = sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in suffixes)
    if required and not files:
        raise WorkflowError(
            f"config key {key}: {directory} holds no {', '.join(suffixes)} file"
        )
    return files


# --- corpus and benchmarks: demo or user folders ---------------------------------------


def corpus_dirs():
    try:
        return corpus_paths(config["corpus"])
    except ValueError as err:
        raise WorkflowError(str(err))


def corpus_params():
    corpus = dict(config["corpus"])
    if corpus["recordings"] == "demo":
        corpus["metadata"] = f"{DEMO}/train/metadata.csv"
    return corpus


def corpus_files(wildcards):
    if config["corpus"]["recordings"] == "demo":
        return [f"{DEMO}/manifest.json"]
    dirs = corpus_dirs()
    files = folder_files(
        dirs["recordings"], AUDIO_SUFFIXES, "corpus.recordings", required=True
    )
    annotations = Path(dirs["annotations"])
    if annotations.is_file():
        files.append(str(annotations))
    else:
        suffixes = FORMAT_SUFFIXES[config["corpus"]["annotation_format"]]
        files += folder_files(annotations, suffixes, "corpus.annotations")
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
        benchmark_dirs(wildcards.benchmark)["recordings"],
        AUDIO_SUFFIXES,
        key,
        required=True,
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
    variant = config["datasets"][wildcards.dataset]
    return {key: value for key, value in variant.items() if key != "export"}


def cache_audio_params():
    corpus = config["corpus"]
    return {"channel": corpus["channel"], "bad_audio": corpus["bad_audio"]}


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


def features_params(wildcards):
    return config["features"][wildcards.features]


def uses_metadata(model):
    return config["models"][model]["metadata"]["fusion"] != "none"


def corpus_metadata():
    """The corpus's metadata CSV (the demo writes one), or None."""
    return corpus_params()["metadata"]


def cache_index(features):
    """The cache index of `features`, after checking at DAG time that every spectrogram it
    lists is still there: the files sit in one directory output, which Snakemake does not
    look inside, so a deleted one would otherwise fail a training job later."""
    index = Path(f"results/cache/{features}/index.csv")
    forced = workflow.dag_settings.forceall or {"cache_spectrograms", str(index)} & set(
        workflow.dag_settings.forcerun
    )
    missing = missing_cache_files(index) if index.exists() and not forced else []
    if missing:
        raise WorkflowError(
            f"{index.parent}: {len(missing)} cached spectrogram(s) listed in index.csv "
            f"are missing (first: {missing[0]}); delete {index} to rebuild the cache "
            "(or run with --forcerun cache_spectrograms)"
        )
    return str(index)


def experiment_data(wildcards):
    """What every training of an experiment (fold or tuning trial) reads: clips, cache index,
    and where the model needs them its pretrained weights and metadata."""
    dataset, features, model = parts(wildcards)
    inputs = {
        "clips": f"results/datasets/{dataset}/clips.csv",
        "cache": cache_index(features),
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


def train_inputs(wildcards):
    inputs = experiment_data(wildcards)
    if is_tuned(wildcards.experiment):
        inputs["best_params"] = (
            f"results/tuning/{wildcards.experiment}/best_params.json"
        )
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
        bench["metadata"] = f"{DEMO}/benchmark/metadata.csv"
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


def benchmark_recording_dir(wildcards):
    return benchmark_dirs(wildcards.benchmark)["recordings"]


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
        "per_tape": expand(
            "results/evaluation/{e}/{b}/metrics_per_tape.csv",
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
        "results/metrics_per_tape.csv",
        "results/leaderboard.csv",
        "results/plots/f1_by_threshold.png",
        "results/plots/pr_curves.png",
        "results/plots/per_tape_recall.png",
        "results/plots/recall_by_quality.png",
        "results/plots/training_history.png",
        "results/gpu_check.txt",
        *expand(
            "results/evaluation/{e}/{b}/excerpt.png",
            e=EXPERIMENTS,
            b=config["benchmarks"],
        ),
        *experiment_outputs(),
    ]
