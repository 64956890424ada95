"""One model's config: schema defaults, the checks the schema cannot make, tuned values."""

from __future__ import annotations

import copy

from sonoflow.common.schema import config_error, section_with_defaults
from sonoflow.models.registry import check_backbone


def check_model(model: dict, key: str) -> None:
    """Checks the schema cannot make: the backbone exists, the loss suits the outputs."""
    try:
        check_backbone(model["backbone"])
    except ValueError as error:
        raise config_error(f"{key}.backbone", str(error)) from None
    if model["multi_label"] and model["loss"]["name"] == "cross_entropy":
        raise config_error(
            f"{key}.loss.name", "cross_entropy is single-label; multi_label needs bce or focal"
        )


def model_with_defaults(model: dict, key: str = "model") -> dict:
    """A copy of one model's config with the schema's defaults filled in, checked.

    Training takes its hyperparameters from this, so that a caller (tests, tuning trials)
    may give only the keys it sets.
    """
    model = section_with_defaults("model", model, key)
    check_model(model, key)
    return model


def apply_params(model_config: dict, params: dict) -> dict:
    """A copy of `model_config` with tuned values set; dotted names reach nested keys."""
    merged = copy.deepcopy(model_config)
    for name, value in params.items():
        *parents, leaf = name.split(".")
        node = merged
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return merged
