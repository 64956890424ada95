# Config access and input functions. Every rule's params come from here, each holding only
# the config sub-tree its rule reads, so a config edit reruns exactly the stages it touches.

from functools import cache

from snakemake.exceptions import WorkflowError

from sonoflow.corpus.annotations import FORMAT_SUFFIXES
from sonoflow.corpus.audio import AUDIO_SUFFIXES
from sonoflow.config import detect_benchmark, experiment_id, experiments
from sonoflow.corpus.load import corpus_paths
from sonoflow.detection.listing import find_recordings, shard_recordings
from sonoflow.evaluation.ground_truth import ground_truth_settings
from sonoflow.features.cache_index import missing_cache_files
from sonoflow.features.kinds import model_files, resolved_features
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
    bench = config["benchmarks"][wildcards.benchmark]
    if bench["recordings"] == "demo":
        return [DEMO_MANIFEST]
    key = f"benchmarks.{wildcards.benchmark}.recordings"
    return folder_files(
        benchmark_dirs(wildcards.benchmark)["recordings"],
        AUDIO_SUFFIXES,
        key,
        required=True,
    )


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


def frontend_files(wildcards):
    """The model files a front-end reads (VGGish weights, an ONNX model): replacing one
    reruns its cache and what depends on it."""
    features = resolved_features(config["features"], wildcards.features)
    return [local(path) for path in model_files(features)]


def features_params(wildcards):
    return resolved_features(config["features"], wildcards.features)


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
    """What every training of an experiment (fold or tuning trial) reads: clips, cache index,
    and where the model needs them its pretrained weights and metadata."""
    dataset, features, model = parts(wildcards)
    inputs = {
        "clips": f"results/datasets/{dataset}/clips.csv",
        "cache": cache_index(features),
    }
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
        demo = config["corpus"]["recordings"] == "demo"
        inputs["metadata"] = corpus_metadata() if demo else local(corpus_metadata())
    return inputs


def training_metadata(wildcards, input):
    """The metadata CSV a fusion model trains with ("" for models without fusion)."""
    return input.get("metadata", "")


def train_inputs(wildcards):
    inputs = experiment_data(wildcards)
    if is_tuned(wildcards.experiment):
        inputs["best_params"] = (
            f"results/tuning/{wildcards.experiment}/best_params.json"
        )
    return inputs


def experiment_features(wildcards):
    return resolved_features(config["features"], parts(wildcards)[1])


def experiment_model(wildcards):
    return config["models"][parts(wildcards)[2]]


# --- tuning ---------------------------------------------------------------------------


def is_tuned(experiment):
    enabled = config["tuning"]["enabled"]
    return enabled is True or (isinstance(enabled, list) and experiment in enabled)


def tuning_params():
    """The tuning config but `enabled`, so that tuning one more experiment reruns no study."""
    return {k: v for k, v in config["tuning"].items() if k != "enabled"}


def tuning_journal(wildcards, output):
    """Outside the outputs but beside them, so that a rerun continues the study instead of
    starting over."""
    return str(Path(output[0]).parent / "journal.log")


def tuning_workers(wildcards):
    return expand(
        "results/tuning/{e}/worker{w}.json",
        e=wildcards.experiment,
        w=range(config["tuning"]["workers"]),
    )


def fold_checkpoint(wildcards, output):
    """Outside the rule's outputs, so that a failed or killed job's progress survives:
    results/checkpoints/, found from results/models/{experiment}/fold{fold}/model.pt."""
    results = Path(output.model).parents[3]
    fold = f"fold{wildcards.fold}.pt"
    return str(results / "checkpoints" / wildcards.experiment / fold)


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


def benchmark_params(wildcards, input):
    demo = job_demo_dir(wildcards, input)
    bench = dict(config["benchmarks"][wildcards.benchmark])
    if bench["recordings"] == "demo":
        bench["metadata"] = f"{demo}/benchmark/metadata.csv"
    return {**bench, **benchmark_dirs(wildcards.benchmark, demo)}


def prediction_shards(wildcards):
    shards = config["benchmarks"][wildcards.benchmark]["shards"]
    return expand(
        "results/predictions/{e}/{b}/shard{s}.parquet",
        e=wildcards.experiment,
        b=wildcards.benchmark,
        s=range(shards),
    )


def benchmark_reader(name):
    """How a benchmark's ground truth is read: its own keys, else the corpus's."""
    return ground_truth_settings(name, config["benchmarks"][name], config["corpus"])


def ground_truth_params(wildcards, input):
    """Where a benchmark's ground truth is (as the job sees it) and how to read it."""
    demo = job_demo_dir(wildcards, input)
    name = wildcards.benchmark
    return {**benchmark_dirs(name, demo), **benchmark_reader(name)}


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
        "models": expand(
            "results/models/{e}/fold{k}/model.pt", e=run["experiment"], k=FOLDS
        ),
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
    keys = ("recordings", "hop_s", "batch_size", "channel", "block_s", "score_dtype")
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
        inputs["metrics"] = f"results/evaluation/{experiment}/{benchmark}/metrics.csv"
    return inputs


# evaluation keys for matching and reporting only; every other one (post-processing) shapes events
MATCHING_KEYS = {
    "thresholds",
    "sweep_steps",
    "match",
    "min_iou",
    "collar_s",
    "percentage_of_length",
    "segment_s",
    "quality_column",
    "excerpt_s",
}


def detect_collect_params(wildcards):
    run = config["detect"][wildcards.name]
    events = {k: v for k, v in config["evaluation"].items() if k not in MATCHING_KEYS}
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


# --- export of an experiment's fold ensemble ----------------------------------------------


def export_model_inputs(wildcards):
    return {
        "models": expand(
            "results/models/{e}/fold{k}/model.pt", e=wildcards.experiment, k=FOLDS
        ),
        "metrics": expand(
            "results/evaluation/{e}/{b}/metrics.csv",
            e=wildcards.experiment,
            b=config["benchmarks"],
        ),
    }


def export_outputs():
    return expand(
        "results/export/{e}/detector.{x}", e=EXPERIMENTS, x=["torchscript", "json"]
    )
