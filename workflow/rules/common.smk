# What several stages share: wildcard constraints, output path templates, corpus and
# benchmark discovery, and what every training of an experiment reads. Each stage's own
# input and params functions sit at the top of its rule file. Every rule's params hold only
# the config sub-tree its rule reads, so a config edit reruns exactly the stages it touches.

from functools import cache

from snakemake.exceptions import WorkflowError

from sonoflow.corpus.annotations import FORMAT_SUFFIXES
from sonoflow.corpus.suffixes import AUDIO_SUFFIXES
from sonoflow.config import experiment_id, experiments
from sonoflow.corpus.load import corpus_paths
from sonoflow.evaluation.ground_truth import ground_truth_settings
from sonoflow.features.cache_index import missing_cache_files
from sonoflow.features.kinds import resolved_features
from sonoflow.models.registry import pretrained_file

NAME = "[A-Za-z0-9_-]+"

# What the workflow makes for itself besides results: the demo corpus and timm's weights.
# Relative to the working directory. Where sonoflow is another workflow's module with a
# prefix, Snakemake prefixes the paths of rules' input and output but not params, so params
# that name such files take them from the job's input or output (job_demo_dir, fold_checkpoint,
# tuning_journal; training scripts read input.weights), and paths from the config are marked
# `local` so that they are never prefixed.
DEMO = "results/demo_corpus"
DEMO_MANIFEST = f"{DEMO}/manifest.json"
WEIGHTS = "resources/weights"


wildcard_constraints:
    dataset=NAME,
    features=NAME,
    model=NAME,
    benchmark=NAME,
    experiment=rf"{NAME}\.{NAME}\.{NAME}",
    fold=r"\d+",
    worker=r"\d+",
    shard=r"\d+",
    name=NAME,
    weights=r"[A-Za-z0-9_.-]+",


# Output path templates that several stages name (rule outputs, inputs, targets).
FOLD_MODEL = "results/models/{experiment}/fold{fold}/model.pt"
FOLD_HISTORY = "results/models/{experiment}/fold{fold}/history.csv"
FOLD_RESULTS = "results/models/{experiment}/fold{fold}/results.json"
METRICS = "results/evaluation/{experiment}/{benchmark}/metrics.csv"
METRICS_PER_TAPE = "results/evaluation/{experiment}/{benchmark}/metrics_per_tape.csv"
EXCERPT = "results/evaluation/{experiment}/{benchmark}/excerpt.png"
GPU_CHECK = "results/gpu_check.txt"
# the spectrograms of a review's sampled recordings, for datasets with `reviewed`
REVIEWED_CACHE = "results/cache/{features}/reviewed/{name}/index.csv"

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
    return local(files)


def job_demo_dir(wildcards, input):
    """The demo corpus folder as the job sees it: beside the manifest among its input."""
    manifests = [f for f in input if f.endswith(DEMO_MANIFEST)]
    return str(Path(manifests[0]).parent) if manifests else DEMO


# --- corpus and benchmarks: demo or user folders ---------------------------------------


def corpus_dirs(demo=DEMO):
    try:
        return corpus_paths(config["corpus"], demo)
    except ValueError as err:
        raise WorkflowError(str(err))


def job_corpus_dirs(wildcards, input):
    return corpus_dirs(job_demo_dir(wildcards, input))


def job_recordings_dir(wildcards, input):
    return job_corpus_dirs(wildcards, input)["recordings"]


def corpus_params(demo=DEMO):
    corpus = dict(config["corpus"])
    if corpus["recordings"] == "demo":
        corpus["metadata"] = f"{demo}/train/metadata.csv"
    return corpus


def job_corpus_params(wildcards, input):
    return corpus_params(job_demo_dir(wildcards, input))


def corpus_files(wildcards):
    if config["corpus"]["recordings"] == "demo":
        return [DEMO_MANIFEST]
    dirs = corpus_dirs()
    files = folder_files(
        dirs["recordings"], AUDIO_SUFFIXES, "corpus.recordings", required=True
    )
    annotations = Path(dirs["annotations"])
    if annotations.is_file():
        files.append(local(str(annotations)))
    else:
        suffixes = FORMAT_SUFFIXES[config["corpus"]["annotation_format"]]
        files += folder_files(annotations, suffixes, "corpus.annotations")
    if config["corpus"]["metadata"]:
        files.append(local(config["corpus"]["metadata"]))
    return files


def benchmark_dirs(name, demo=DEMO):
    bench = config["benchmarks"][name]
    if bench["recordings"] == "demo":
        return {
            "recordings": f"{demo}/benchmark/audio",
            "annotations": f"{demo}/benchmark/annotations",
        }
    if not bench["annotations"]:
        raise WorkflowError(
            f"config key benchmarks.{name}.annotations: required unless recordings is 'demo'"
        )
    return {"recordings": bench["recordings"], "annotations": bench["annotations"]}


def benchmark_recordings(wildcards):
    return benchmark_recording_files(wildcards.benchmark)


def benchmark_recording_files(name):
    if config["benchmarks"][name]["recordings"] == "demo":
        return [DEMO_MANIFEST]
    return folder_files(
        benchmark_dirs(name)["recordings"],
        AUDIO_SUFFIXES,
        f"benchmarks.{name}.recordings",
        required=True,
    )


def benchmark_reader(name):
    """How a benchmark's ground truth is read: its own keys, else the corpus's."""
    return ground_truth_settings(name, config["benchmarks"][name], config["corpus"])


def benchmark_annotations(wildcards):
    """The benchmark's annotation files (a folder, or one CSV file), read like the corpus's."""
    bench = config["benchmarks"][wildcards.benchmark]
    if bench["recordings"] == "demo":
        return [DEMO_MANIFEST]
    annotations = Path(benchmark_dirs(wildcards.benchmark)["annotations"])
    if annotations.is_file():
        return local([str(annotations)])
    reader = benchmark_reader(wildcards.benchmark)["reader"]
    key = f"benchmarks.{wildcards.benchmark}.annotations"
    return folder_files(annotations, FORMAT_SUFFIXES[reader["annotation_format"]], key)


# --- what every training of an experiment reads (train_fold, tune_worker, assess_experiment) ---


def uses_metadata(model):
    return config["models"][model]["metadata"]["fusion"] != "none"


def corpus_metadata():
    """The corpus's metadata CSV (the demo writes one), or None."""
    return corpus_params()["metadata"]


@cache  # every fold and tuning trial asks; the index is read and checked once per run
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
    """What every training of an experiment (fold or tuning trial) reads: clips, cache index
    (and those of reviewed recordings), and where the model needs them its pretrained
    weights and metadata."""
    dataset, features, model = parts(wildcards)
    inputs = {
        "clips": f"results/datasets/{dataset}/clips.csv",
        "cache": cache_index(features),
    }
    reviews = config["datasets"][dataset]["reviewed"]
    if reviews:
        inputs["reviewed_caches"] = expand(
            REVIEWED_CACHE, features=features, name=reviews
        )
    weights = pretrained_file(config["models"][model], WEIGHTS)
    if weights is not None:
        given = config["models"][model]["pretrained"] is not True
        inputs["weights"] = local(str(weights)) if given else str(weights)
    if uses_metadata(model):
        if not corpus_metadata():
            raise WorkflowError(
                f"config key corpus.metadata: models.{model}.metadata.fusion is "
                f"{config['models'][model]['metadata']['fusion']!r}, which needs a metadata CSV"
            )
        if config["corpus"]["recordings"] == "demo":
            # the demo's metadata.csv lies inside make_demo_corpus's folder output, which a
            # file input cannot name: the manifest stands for it (training_metadata)
            inputs["demo"] = DEMO_MANIFEST
        else:
            inputs["metadata"] = local(corpus_metadata())
    return inputs


def training_metadata(wildcards, input):
    """The metadata CSV a fusion model trains with ("" for models without fusion)."""
    if "demo" in input.keys():
        return corpus_params(job_demo_dir(wildcards, input))["metadata"]
    return input.get("metadata", "")


def experiment_features(wildcards):
    return resolved_features(config["features"], parts(wildcards)[1])


def experiment_model(wildcards):
    return config["models"][parts(wildcards)[2]]
