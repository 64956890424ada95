"""A study's search space: centred on the model's configured values (the default), the seed
system's fixed ranges, or a mapping given in the config. Free of optuna, so that the config
check at DAG time can resolve it."""

from __future__ import annotations

import math

CENTRED, FIXED = "centred", "fixed"


def space_rules(tuning: dict) -> dict:
    """The entries `search_space` names: centring rules, fixed ranges, or the given mapping."""
    choice = tuning["search_space"]
    if choice == CENTRED:
        return tuning["centred_space"]
    if choice == FIXED:
        return tuning["fixed_space"]
    return choice


def search_space(model_config: dict, tuning: dict) -> dict:
    """Name -> `{choices}` or `{low, high, log}` for one (defaults-filled) model config."""
    if tuning["search_space"] != CENTRED:
        return space_rules(tuning)
    space = {}
    for name, rule in tuning["centred_space"].items():
        spec = centre(configured_value(model_config, name), rule)
        if spec is not None:
            space[name] = spec
    return space


def configured_value(model_config: dict, name: str):
    """The model config's value of a search-space name (dotted names reach nested keys)."""
    node = model_config
    for key in name.split("."):
        node = node[key]
    return node


def centre(value, rule: dict) -> dict | None:
    """One entry around `value`; None where it cannot be centred (`lr: auto`, a log range
    around 0, a range or choice list that collapses to the value itself): not searched."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if "factor" in rule:
        if value <= 0:
            return None
        return {"low": value / rule["factor"], "high": value * rule["factor"], "log": True}
    if "times" in rule:
        choices = sorted({_like(value, value * k) for k in [*rule["times"], 1]})
        return {"choices": choices} if len(choices) > 1 else None
    low = max(rule.get("min", -math.inf), value - rule["plus_minus"])
    high = min(rule.get("max", math.inf), value + rule["plus_minus"])
    low, high = _like(value, low), _like(value, high)
    return {"low": low, "high": high, "log": False} if low < high else None


def _like(value, number):
    """`number` as an int when the configured value is one (epochs, widths)."""
    return int(round(number)) if isinstance(value, int) else float(number)


def unknown_params(model_config: dict, space: dict) -> list[str]:
    """Names of the search space that are not keys of the (defaults-filled) model config."""
    missing = []
    for name in space:
        node = model_config
        for key in name.split("."):
            if not isinstance(node, dict) or key not in node:
                missing.append(name)
                break
            node = node[key]
    return missing
