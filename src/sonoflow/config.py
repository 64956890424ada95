"""Config validation: JSON schema with defaults filled in, errors naming the key path."""

from __future__ import annotations

import copy
import itertools
from functools import cache
from pathlib import Path

import jsonschema
import yaml

# The workflow's schema; the library reads it to fill defaults into partial config sections.
SCHEMA = Path(__file__).resolve().parents[2] / "workflow/schemas/config.schema.yaml"


class ConfigError(ValueError):
    """An invalid config, with the key path of the offending value."""


def _with_defaults(validator_class):
    # jsonschema validates but does not fill defaults; this is its documented extension recipe.
    check_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = _copy(sub["default"])
        yield from check_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _copy(value):
    return yaml.safe_load(yaml.safe_dump(value))


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Fill defaults into `config` in place and check it; raise ConfigError naming the key."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"  {_key(e)}: {e.message}" for e in errors[:10]]
        raise ConfigError("invalid config:\n" + "\n".join(lines))
    for i, experiment in enumerate(experiments(config)):
        for kind, name in zip(("datasets", "features", "models"), experiment):
            if name not in config[kind]:
                raise ConfigError(
                    f"invalid config:\n  experiments.{i}: {name!r} is not one of the "
                    f"{kind} defined in the config {sorted(config[kind])}"
                )
    for name, variant in config["datasets"].items():
        extra = sorted(set(variant["labels"] or []) - set(config["corpus"]["labels"]))
        if extra:
            raise ConfigError(
                f"invalid config:\n  datasets.{name}.labels: {extra} are not in corpus.labels "
                f"{config['corpus']['labels']}"
            )
    for name, model in config["models"].items():
        check_model(model, f"models.{name}")
    for name, bench in config["benchmarks"].items():
        if bench["folds"] != "all" and max(bench["folds"]) >= config["cv"]["folds"]:
            raise ConfigError(
                f"invalid config:\n  benchmarks.{name}.folds: {bench['folds']} names a fold "
                f"that does not exist (cv.folds is {config['cv']['folds']}, numbered from 0)"
            )
    _check_tuning(config)
    return config


# Where each section's schema sits in the whole config's schema.
SECTIONS = {
    "corpus": ("corpus",),
    "dataset": ("datasets", "additionalProperties"),
    "model": ("models", "additionalProperties"),
}


def section_with_defaults(section: str, value: dict, key: str | None = None) -> dict:
    """A copy of one config section (`corpus`, a `datasets` entry as `dataset`, a `models`
    entry as `model`), checked and with defaults filled in, for library callers that give
    only a few keys. Errors name `key` (default: the section) and the key path below it."""
    validator = _with_defaults(jsonschema.Draft202012Validator)(_section_schema(section))
    filled = copy.deepcopy(value)
    errors = list(validator.iter_errors(filled))
    if errors:
        lines = [f"  {key or section}.{_key(e)}: {e.message}" for e in errors[:10]]
        raise ConfigError("invalid config:\n" + "\n".join(lines))
    return filled


@cache
def _section_schema(section: str) -> dict:
    schema = yaml.safe_load(SCHEMA.read_text())
    sub = schema["properties"]
    for name in SECTIONS[section]:
        sub = sub[name]
    return {**sub, "$defs": schema["$defs"]}


def _check_tuning(config: dict) -> None:
    from sonoflow.tuning import unknown_params  # optuna is only imported when tuning is checked

    tuning = config["tuning"]
    ids = {experiment_id(*e): e for e in experiments(config)}
    enabled = tuning["enabled"]
    tuned = list(ids) if enabled is True else (enabled or [])
    for name in tuned:
        if name not in ids:
            raise ConfigError(
                f"invalid config:\n  tuning.enabled: {name!r} is not an experiment of this "
                f"config {sorted(ids)}"
            )
    for key, spec in tuning["search_space"].items():
        if "low" in spec and not spec["low"] < spec["high"]:
            raise ConfigError(
                f"invalid config:\n  tuning.search_space.{key}: low must be below high"
            )
    for model in sorted({ids[name][2] for name in tuned}):
        for key in unknown_params(config["models"][model], tuning["search_space"]):
            raise ConfigError(
                f"invalid config:\n  tuning.search_space.{key}: not a key of models.{model}"
            )


def _key(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "(top level)"


def experiments(config: dict) -> list[tuple[str, str, str]]:
    """(dataset, features, model) triples the config asks for."""
    if config["experiments"] == "all":
        return list(itertools.product(config["datasets"], config["features"], config["models"]))
    return [(e["dataset"], e["features"], e["model"]) for e in config["experiments"]]


def experiment_id(dataset: str, features: str, model: str) -> str:
    return f"{dataset}.{features}.{model}"


def check_model(model: dict, key: str) -> None:
    """Checks the schema cannot make: the backbone exists, the loss suits the outputs."""
    from .models import check_backbone

    try:
        check_backbone(model["backbone"])
    except ValueError as error:
        raise ConfigError(f"invalid config:\n  {key}.backbone: {error}") from None
    if model["multi_label"] and model["loss"]["name"] == "cross_entropy":
        raise ConfigError(
            f"invalid config:\n  {key}.loss.name: cross_entropy is single-label; "
            "multi_label needs bce or focal"
        )


def model_with_defaults(model: dict, key: str = "model") -> dict:
    """A copy of one model's config with the schema's defaults filled in, checked.

    Training takes its hyperparameters from this, so that a caller (tests, tuning trials)
    may give only the keys it sets.
    """
    model = section_with_defaults("model", model, key)
    check_model(model, key)
    return model
