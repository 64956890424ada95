"""The whole workflow config: schema defaults, then the checks that span sections.

Snakemake calls `validate_config` while it builds the DAG, so this module and what it
imports stay free of torch and timm.
"""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path

from sonoflow.common.schema import (
    config_error,
    invalid_config,
    key_path,
    load_schema,
    validator_with_defaults,
)
from sonoflow.datasets.noise_mining import NOISE
from sonoflow.features.kinds import (
    check_features,
    check_hop,
    check_pairing,
    hop_frames,
    is_vector,
    resolved_features,
)
from sonoflow.models.config import check_model

log = logging.getLogger(__name__)

# YAML 1.1 (PyYAML, Snakemake) reads `1e-3` as text: it wants a dot (`1.0e-3`).
YAML_TEXT_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")
SPLIT_SUM_TOLERANCE = 1e-6


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Fill defaults into `config` in place and check it; raise ConfigError naming the key.

    Numbers that YAML read as text (`1e-3`) are turned into numbers where the schema
    wants one. Keys are then sorted (dicts, at every level, in place), so that the same
    config written in another key order gives the same rule params and reruns nothing.
    """
    validator = validator_with_defaults(load_schema(schema_path))
    _coerce_text_numbers(config, validator)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise invalid_config([(key_path(e), e.message) for e in errors[:10]])
    for check in CHECKS:
        check(config)
    sorted_keys = _sorted(config)
    config.clear()
    config.update(sorted_keys)
    return config


def _check_experiments(config: dict) -> None:
    """Each experiment names a dataset, features and model of the config."""
    for i, experiment in enumerate(experiments(config)):
        for kind, name in zip(("datasets", "features", "models"), experiment):
            if name not in config[kind]:
                raise config_error(
                    f"experiments.{i}",
                    f"{name!r} is not one of the "
                    f"{kind} defined in the config {sorted(config[kind])}",
                )


def _check_dataset_labels(config: dict) -> None:
    """A dataset's labels are corpus labels."""
    for name, variant in config["datasets"].items():
        extra = sorted(set(variant["labels"] or []) - set(config["corpus"]["labels"]))
        if extra:
            raise config_error(
                f"datasets.{name}.labels",
                f"{extra} are not in corpus.labels {config['corpus']['labels']}",
            )


def _check_models(config: dict) -> None:
    for name, model in config["models"].items():
        check_model(model, f"models.{name}")


def _check_front_ends(config: dict) -> None:
    """The checks of each front-end's own keys (features/kinds.py)."""
    check_features(config["features"])


def _check_pairings(config: dict) -> None:
    """Each experiment's model takes what its front-end gives."""
    for _, features, model in experiments(config):
        check_pairing(
            config["features"][features],
            f"features.{features}",
            config["models"][model],
            f"models.{model}",
        )


def _check_benchmark_folds(config: dict) -> None:
    for name, bench in config["benchmarks"].items():
        if bench["folds"] != "all" and max(bench["folds"]) >= config["cv"]["folds"]:
            raise config_error(
                f"benchmarks.{name}.folds",
                f"{bench['folds']} names a fold "
                f"that does not exist (cv.folds is {config['cv']['folds']}, numbered from 0)",
            )


def _check_detect(config: dict) -> None:
    ids = [experiment_id(*e) for e in experiments(config)]
    for name, run in config["detect"].items():
        if run["experiment"] not in ids:
            raise config_error(
                f"detect.{name}.experiment",
                f"{run['experiment']!r} is not an experiment of this config {sorted(ids)}",
            )
        detect_benchmark(config, name)
        if isinstance(run["threshold"], dict):
            _check_class_thresholds(config, name)


def experiment_labels(config: dict, experiment: str) -> list[str]:
    """The classes an experiment's models detect (noise aside): its dataset's labels, or
    corpus.labels where the dataset gives none."""
    dataset = config["datasets"][experiment.split(".")[0]]
    return list(dataset["labels"] or config["corpus"]["labels"])


def _check_class_thresholds(config: dict, name: str) -> None:
    """A {class: number} threshold gives exactly the classes of the run's models, so that
    collect_detections (after the GPU scoring) never finds one missing."""
    run = config["detect"][name]
    dataset = run["experiment"].split(".")[0]
    labels = experiment_labels(config, run["experiment"])
    given = config["datasets"][dataset]["labels"]
    where = f"datasets.{dataset}.labels" if given else "corpus.labels"
    unknown = sorted(set(run["threshold"]) - set(labels))
    missing = [label for label in labels if label not in run["threshold"]]
    problems = []
    if unknown:
        problems.append(f"{unknown} are not in {where} {labels}")
    if missing:
        problems.append(f"no threshold for {missing}")
    if problems:
        raise config_error(
            f"detect.{name}.threshold",
            f"{'; '.join(problems)}; give a number for each class of {run['experiment']} "
            f"{labels} (or one number for all)",
        )


def _check_review(config: dict) -> None:
    """A review names a detect run; fixed bin edges increase; misses go with `uncertain`;
    the verdict folder lies outside results/ (which the workflow owns)."""
    for name, review in config["review"].items():
        key = f"review.{name}"
        if review["detect"] not in config["detect"]:
            raise config_error(
                f"{key}.detect",
                f"{review['detect']!r} is not one of the detect runs {sorted(config['detect'])}",
            )
        edges = review["bins"]
        if isinstance(edges, list) and any(b <= a for a, b in zip(edges, edges[1:])):
            raise config_error(f"{key}.bins", f"{edges}: bin edges must increase")
        if review["include_misses"] and review["strategy"] != "uncertain":
            raise config_error(
                f"{key}.include_misses",
                "likely misses are drawn with strategy `uncertain` only; set it to 0 or use "
                "`uncertain` (a stratified sample estimates precision of detections)",
            )
        folder = Path(review_verdicts(config, name))
        if folder.parts[:1] == ("results",):
            raise config_error(
                f"{key}.verdicts",
                f"{folder} is under results/, which the workflow owns and may delete; "
                "keep verdicts elsewhere (the default is verdicts/NAME)",
            )


def _check_dataset_reviews(config: dict) -> None:
    """Each of a dataset's `reviewed` names a review, and no dataset depends on itself
    through reviews: a review reads a detect run whose experiment trains on a dataset,
    so a dataset taking that review's clips would be an input of its own inputs."""
    for name, variant in config["datasets"].items():
        for review in variant["reviewed"]:
            if review not in config["review"]:
                raise config_error(
                    f"datasets.{name}.reviewed",
                    f"{review!r} is not one of the reviews {sorted(config['review'])}",
                )
    for dataset, _, model in experiments(config):
        fusion = config["models"][model]["metadata"]["fusion"]
        if config["datasets"][dataset]["reviewed"] and fusion != "none":
            raise config_error(
                f"models.{model}.metadata.fusion",
                f"is {fusion!r}, which needs corpus metadata for every recording, but "
                f"datasets.{dataset}.reviewed adds reviewed recordings that have none; "
                "train a model without fusion on this variant",
            )
    for name in config["datasets"]:
        loop = _review_loop(config, [name])
        if loop:
            raise config_error(
                f"datasets.{name}.reviewed",
                "makes a loop (each dataset's clips come from a review of a detect run "
                f"trained on the next): {' -> '.join(loop)}; a dataset cannot take the "
                "reviews of detections made by its own models: review a detect run of "
                "another dataset's experiment, or train the reviewed clips into a new variant",
            )


def reviewed_source_dataset(config: dict, review: str) -> tuple[str, str]:
    """(detect run, dataset its experiment trains on) of a review."""
    detect = config["review"][review]["detect"]
    return detect, config["detect"][detect]["experiment"].split(".")[0]


def _review_loop(config: dict, path: list[str]) -> list[str]:
    """The keys of a chain of reviews from `path[-1]` back to a dataset on `path`, if any."""
    for review in config["datasets"][path[-1]]["reviewed"]:
        detect, source = reviewed_source_dataset(config, review)
        step = [
            f"datasets.{path[-1]}.reviewed: {review}",
            f"review.{review}.detect: {detect}",
            f"detect.{detect}.experiment: {config['detect'][detect]['experiment']}",
        ]
        if source in path[:1]:
            return step
        if source not in path:
            rest = _review_loop(config, [*path, source])
            if rest:
                return step + rest
    return []


def review_verdicts(config: dict, name: str) -> str:
    """The folder a review's verdicts are saved to: `verdicts`, or verdicts/NAME."""
    return config["review"][name]["verdicts"] or f"verdicts/{name}"


def detect_benchmark(config: dict, name: str) -> str | None:
    """The benchmark whose threshold sweep a detection run's `best` threshold reads."""
    run = config["detect"][name]
    if run["threshold"] != "best":
        return None
    benchmark = run["benchmark"]
    if benchmark is None:
        if len(config["benchmarks"]) > 1:
            raise config_error(
                f"detect.{name}.benchmark",
                f"threshold `best` needs a benchmark "
                f"when there are several {sorted(config['benchmarks'])}",
            )
        return next(iter(config["benchmarks"]))
    if benchmark not in config["benchmarks"]:
        raise config_error(
            f"detect.{name}.benchmark",
            f"{benchmark!r} is not one of the benchmarks {sorted(config['benchmarks'])}",
        )
    return benchmark


def _sorted(value):
    """Dicts with their keys sorted, at every level; lists keep their order."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _coerce_text_numbers(config: dict, validator) -> None:
    """`1e-3` that YAML read as text becomes 1e-3 wherever the schema takes a number."""
    for _ in range(100):  # each pass fixes what the validator reports, defaults filled
        found = False
        for error in validator.iter_errors(config):
            value, schema = error.instance, error.schema
            types = schema.get("type", []) if isinstance(schema, dict) else []
            types = [types] if isinstance(types, str) else types
            if (
                isinstance(value, str)
                and error.validator in ("type", "pattern")
                and "number" in types
                and YAML_TEXT_NUMBER.match(value.strip())
                and error.absolute_path
            ):
                *parents, last = error.absolute_path
                target = config
                for part in parents:
                    target = target[part]
                target[last] = float(value)
                log.info("config key %s: %r read as a number", key_path(error), value)
                found = True
        if not found:
            return


def _check_labels(config: dict) -> None:
    places = [("corpus.labels", config["corpus"]["labels"])]
    places += [
        (f"datasets.{name}.labels", v["labels"])
        for name, v in config["datasets"].items()
        if v["labels"]
    ]
    for key, labels in places:
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise config_error(key, f"{repeated} appear more than once; list each label once")
        if key == "corpus.labels" and "case_insensitive" in _label_matches(config):
            folded = [label.casefold() for label in labels]
            alike = sorted({label for label in labels if folded.count(label.casefold()) > 1})
            if alike:
                raise config_error(
                    key,
                    f"{alike} differ only by case, which label_match: case_insensitive "
                    "cannot tell apart; rename one, or use label_match: exact",
                )
        clash = [label for label in labels if label.lower() == NOISE]
        if clash:
            raise config_error(
                key,
                f"{clash[0]!r} is the name of the class of mined noise clips; rename the "
                "label (for example in the annotations, or leave it out: noise is mined anyway)",
            )


def _label_matches(config: dict) -> set[str]:
    """The label_match policies in use: the corpus's and each benchmark's own."""
    own = {b.get("label_match") for b in config["benchmarks"].values()}
    return {config["corpus"]["label_match"], *own} - {None}


def _check_frequency_ranges(config: dict) -> None:
    for name, features in config["features"].items():
        key, nyquist = f"features.{name}", features["sample_rate"] / 2
        if features["fmax"] > nyquist:
            raise config_error(
                f"{key}.fmax",
                f"{features['fmax']} Hz is above half the sample rate ({nyquist:g} Hz at "
                f"{key}.sample_rate {features['sample_rate']}); lower fmax to at most {nyquist:g} "
                "or raise sample_rate",
            )
        if features["fmin"] >= features["fmax"]:
            raise config_error(
                f"{key}.fmin",
                f"{features['fmin']} Hz is not below {key}.fmax {features['fmax']} Hz; "
                "give a frequency range with fmin < fmax",
            )


def _check_splits(config: dict) -> None:
    for name, variant in config["datasets"].items():
        key, split = f"datasets.{name}.split", variant["split"]
        total = sum(split.values())
        if total <= 0:
            raise config_error(
                key, "every share is 0; give train a positive share (for example 0.7/0.15/0.15)"
            )
        if abs(total - 1) > SPLIT_SUM_TOLERANCE:
            raise config_error(
                key,
                f"the shares {split} sum to {total:g}, not 1; scale them "
                f"(for example {', '.join(f'{k}: {v / total:.3g}' for k, v in split.items())})",
            )
        if split["train"] <= 0:
            raise config_error(f"{key}.train", "is 0; training needs a positive train share")


def _check_hops(config: dict) -> None:
    """Each window hop is a whole number of frames of every spectrogram features it is
    scored with (for vector front-ends: of their own hop_s): a benchmark's hop_s with every
    experiment's features, a detection run's hop_s with its experiment's."""
    used = sorted({features for _, features, _ in experiments(config)})
    hops = [
        (f"benchmarks.{name}.hop_s", bench["hop_s"], used)
        for name, bench in config["benchmarks"].items()
    ]
    hops += [
        (f"detect.{name}.hop_s", run["hop_s"], [run["experiment"].split(".")[1]])
        for name, run in config["detect"].items()
    ]
    for hop_key, hop_s, names in hops:
        for name in names:
            _check_hop(config, name, hop_s, hop_key)


def _check_hop(config: dict, name: str, hop_s: float, hop_key: str) -> None:
    features = config["features"][name]
    if is_vector(features):
        resolved = resolved_features(config["features"], name)
        check_hop(resolved, f"features.{name}", hop_s, hop_key)
        return
    frame_s = features["hop_length"] / features["sample_rate"]
    if hop_frames(hop_s, frame_s) is None:
        nearest = max(1, round(hop_s / frame_s)) * frame_s
        raise config_error(
            hop_key,
            f"{hop_s} s is not a whole number of frames of features.{name} "
            f"(one frame is hop_length / sample_rate = {frame_s:g} s); use a multiple "
            f"of {frame_s:g} s, for example {nearest:g}",
        )


def _check_tuning(config: dict) -> None:
    from sonoflow.tuning.space import (  # free of optuna, like this module
        CENTRED,
        FIXED,
        configured_value,
        search_space,
        space_rules,
        unknown_params,
    )

    tuning = config["tuning"]
    ids = {experiment_id(*e): e for e in experiments(config)}
    enabled = tuning["enabled"]
    tuned = list(ids) if enabled is True else (enabled or [])
    for name in tuned:
        if name not in ids:
            raise config_error(
                "tuning.enabled", f"{name!r} is not an experiment of this config {sorted(ids)}"
            )
    choice = tuning["search_space"]
    where = "search_space"
    if isinstance(choice, str):
        where = {CENTRED: "centred_space", FIXED: "fixed_space"}[choice]
    rules = space_rules(tuning)
    for key, spec in rules.items():
        if "low" in spec and not spec["low"] < spec["high"]:
            raise config_error(f"tuning.{where}.{key}", "low must be below high")
    for model in sorted({ids[name][2] for name in tuned}):
        for key in unknown_params(config["models"][model], rules):
            raise config_error(f"tuning.{where}.{key}", f"not a key of models.{model}")
        if choice == CENTRED and not search_space(config["models"][model], tuning):
            values = ", ".join(
                f"{key}: {configured_value(config['models'][model], key)!r}" for key in rules
            )
            raise config_error(
                "tuning.centred_space",
                f"centres nothing for models.{model} ({values} cannot be centred), so every "
                "trial would train the configured values; add a key whose configured value "
                "can be centred, or set tuning.search_space to fixed or a mapping",
            )


def _check_quality_regexes(config: dict) -> None:
    """corpus.quality_regex and each benchmark's compile and have a group `quality` (the
    grade); prepare_dataset met a bad one only as a raw re.error or KeyError."""
    places = [("corpus.quality_regex", config["corpus"]["quality_regex"])]
    places += [
        (f"benchmarks.{name}.quality_regex", bench["quality_regex"])
        for name, bench in config["benchmarks"].items()
    ]
    for key, pattern in places:
        if not pattern:
            continue
        try:
            groups = re.compile(pattern).groupindex
        except re.error as err:
            raise config_error(key, f"{pattern!r} is not a regular expression ({err})") from None
        if "quality" not in groups:
            raise config_error(
                key,
                f"{pattern!r} has no group `quality` for the grade; name it (?P<quality>...), "
                r"for example ^(?P<label>.+?)_?Q(?P<quality>[1-4])$",
            )


# The checks the schema cannot make, in the order validate_config runs them: each takes the
# config with defaults filled and raises ConfigError (through config_error) naming the key.
CHECKS = (
    _check_experiments,
    _check_dataset_labels,
    _check_models,
    _check_front_ends,
    _check_pairings,
    _check_benchmark_folds,
    _check_tuning,
    _check_detect,
    _check_review,
    _check_dataset_reviews,
    _check_labels,
    _check_frequency_ranges,
    _check_splits,
    _check_hops,
    _check_quality_regexes,
)


def export_refusal(config: dict, experiment: str) -> tuple[str, str] | None:
    """(config key, why) when export_model cannot export an experiment's ensemble (the
    conditions of detection.export.export_ensemble, read from the config, so that the dry
    run refuses it rather than the job after training), else None."""
    _, features, model = experiment.split(".")
    if model not in config["models"] or features not in config["features"]:
        return None  # not an experiment of this config: nothing to export from it
    if is_vector(config["features"][features]):
        return (
            f"features.{features}.type",
            f"is {config['features'][features]['type']!r}: experiment {experiment} cannot be "
            "exported, only spectrogram front-ends are (TorchScript cannot trace the others)",
        )
    return None


def experiments(config: dict) -> list[tuple[str, str, str]]:
    """(dataset, features, model) triples the config asks for."""
    if config["experiments"] == "all":
        return list(itertools.product(config["datasets"], config["features"], config["models"]))
    return [(e["dataset"], e["features"], e["model"]) for e in config["experiments"]]


def experiment_id(dataset: str, features: str, model: str) -> str:
    return f"{dataset}.{features}.{model}"
