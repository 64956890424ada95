"""The default config and the example configs under config/examples/, as Snakemake reads them."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from snakemake.utils import update_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "config/examples"


def default_config() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def example_config(name: str) -> dict:
    """config.yaml with config/examples/NAME.yaml on top, merged as `--configfile` merges it:
    mappings key by key, anything else (lists) replaced."""
    config = copy.deepcopy(default_config())
    update_config(config, yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text()))
    return config


# The default config plus the statistics front-end and the MLP over it.
def tabular_config() -> dict:
    return example_config("tabular")
