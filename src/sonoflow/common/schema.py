"""The config schema: defaults filled in, errors naming the key path.

The schema file (workflow/schemas/config.schema.yaml) is the one home of every default; the
library reads it here so that callers giving only a few keys get the workflow's values.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import jsonschema
import yaml

SCHEMA = Path(__file__).resolve().parents[3] / "workflow/schemas/config.schema.yaml"


class ConfigError(ValueError):
    """An invalid config, with the key path of the offending value."""


def validator_with_defaults(schema: dict) -> jsonschema.protocols.Validator:
    """A validator that also fills each property's `default` into the instance it checks."""
    # jsonschema validates but does not fill defaults; this is its documented extension recipe.
    base = jsonschema.Draft202012Validator
    check_properties = base.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = _copy(sub["default"])
        yield from check_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(base, {"properties": set_defaults})(schema)


def _copy(value):
    return yaml.safe_load(yaml.safe_dump(value))


def key_path(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "(top level)"


@cache
def load_schema(path: str | Path = SCHEMA) -> dict:
    return yaml.safe_load(Path(path).read_text())


# Where each section's schema sits in the whole config's schema.
SECTIONS = {
    "corpus": ("corpus",),
    "dataset": ("datasets", "additionalProperties"),
    "features": ("features", "additionalProperties"),
    "model": ("models", "additionalProperties"),
    "evaluation": ("evaluation",),
}


def section_schema(section: str) -> dict:
    schema = load_schema()
    sub = schema["properties"]
    for name in SECTIONS[section]:
        sub = sub[name]
    return {**sub, "$defs": schema["$defs"]}


def section_with_defaults(section: str, value: dict, key: str | None = None) -> dict:
    """A copy of one config section (`corpus`, a `datasets` entry as `dataset`, a `features`
    entry as `features`, a `models` entry as `model`, `evaluation`), checked and with defaults
    filled in, for library callers that give only a few keys. Errors name `key` (default: the
    section) and the key path below it."""
    validator = validator_with_defaults(section_schema(section))
    filled = copy.deepcopy(value)
    errors = list(validator.iter_errors(filled))
    if errors:
        lines = [f"  {key or section}.{key_path(e)}: {e.message}" for e in errors[:10]]
        raise ConfigError("invalid config:\n" + "\n".join(lines))
    return filled
