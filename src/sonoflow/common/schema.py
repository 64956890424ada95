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


def invalid_config(problems: list[tuple[str, str]]) -> ConfigError:
    """The error for bad config keys: `invalid config:`, then one `key: what is wrong` line
    per problem. Every config check raises through this (or `config_error`)."""
    return ConfigError("invalid config:\n" + "\n".join(f"  {k}: {m}" for k, m in problems))


def config_error(key: str, message: str) -> ConfigError:
    """The error for one bad config key."""
    return invalid_config([(key, message)])


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


# libyaml's safe loader where PyYAML has it: the same safe constructor, with the schema
# parsed in C (about 0.14 s of every job's and DAG's start-up in Python, 0.02 s in C)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load_schema(path: str | Path = SCHEMA) -> dict:
    return yaml.load(Path(path).read_text(), Loader=_SAFE_LOADER)  # noqa: S506 (safe loader)


# Where each section's schema sits in the whole config's schema.
SECTIONS = {
    "corpus": ("corpus",),
    "demo": ("demo",),
    "dataset": ("datasets", "additionalProperties"),
    "features": ("features", "additionalProperties"),
    "model": ("models", "additionalProperties"),
    "benchmark": ("benchmarks", "additionalProperties"),
    "evaluation": ("evaluation",),
}


def section_schema(section: str) -> dict:
    schema = load_schema()
    sub = schema["properties"]
    for name in SECTIONS[section]:
        sub = sub[name]
    return {**sub, "$defs": schema["$defs"]}


def section_with_defaults(section: str, value: dict, key: str | None = None) -> dict:
    """A copy of one config section (`corpus`, `demo`, a `datasets` entry as `dataset`, a
    `features` entry as `features`, a `models` entry as `model`, a `benchmarks` entry as
    `benchmark`, `evaluation`), checked and with defaults
    filled in, for library callers that give only a few keys. Errors name `key` (default: the
    section) and the key path below it."""
    validator = validator_with_defaults(section_schema(section))
    filled = copy.deepcopy(value)
    errors = list(validator.iter_errors(filled))
    if errors:
        raise invalid_config([(f"{key or section}.{key_path(e)}", e.message) for e in errors[:10]])
    return filled


def read_config_file(path: str | Path) -> dict:
    """A YAML config file as a dict; a missing or unreadable file raises ConfigError naming
    it, and for a YAML syntax error the line and column (Snakemake's own message has none)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: config file not found") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: config file is not UTF-8 text ({err})") from err
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{path}{where}: not valid YAML: {problem}") from err
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: a config is a mapping of keys, not {type(config).__name__}")
    return config
