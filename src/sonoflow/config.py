"""The whole workflow config: schema defaults, then the checks that span sections.

Snakemake calls `validate_config` while it builds the DAG, so this module and what it
imports stay free of torch and timm.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from sonoflow.common.schema import ConfigError, key_path, load_schema, validator_with_defaults
from sonoflow.features.kinds import check_features, check_hop, check_pairing, resolved_features
from sonoflow.models.config import check_model


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Fill defaults into `config` in place and check it; raise ConfigError naming the key."""
    validator = validator_with_defaults(load_schema(schema_path))
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"  {key_path(e)}: {e.message}" for e in errors[:10]]
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
    check_features(config["features"])
    for _, features, model in experiments(config):
        check_pairing(
            config["features"][features],
            f"features.{features}",
            config["models"][model],
            f"models.{model}",
        )
        for name, bench in config["benchmarks"].items():
            resolved = resolved_features(config["features"], features)
            check_hop(resolved, f"features.{features}", bench["hop_s"], f"benchmarks.{name}.hop_s")
    for name, bench in config["benchmarks"].items():
        if bench["folds"] != "all" and max(bench["folds"]) >= config["cv"]["folds"]:
            raise ConfigError(
                f"invalid config:\n  benchmarks.{name}.folds: {bench['folds']} names a fold "
                f"that does not exist (cv.folds is {config['cv']['folds']}, numbered from 0)"
            )
    _check_tuning(config)
    return config


def _check_tuning(config: dict) -> None:
    from sonoflow.tuning.study import (
        unknown_params,  # optuna is only imported when tuning is checked
    )

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


def experiments(config: dict) -> list[tuple[str, str, str]]:
    """(dataset, features, model) triples the config asks for."""
    if config["experiments"] == "all":
        return list(itertools.product(config["datasets"], config["features"], config["models"]))
    return [(e["dataset"], e["features"], e["model"]) for e in config["experiments"]]


def experiment_id(dataset: str, features: str, model: str) -> str:
    return f"{dataset}.{features}.{model}"
