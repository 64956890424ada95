"""The workflow tests' tiny config is a file that validates like any user's config.yaml."""

from pathlib import Path

from sonoflow.common.schema import read_config_file
from sonoflow.config import validate_config

ROOT = Path(__file__).resolve().parents[2]


def test_tiny_config_file_validates_and_keeps_the_test_sizes():
    config = read_config_file(ROOT / ".test/config.yaml")
    assert config["cv"]["folds"] == 2 and set(config["models"]) == {"tiny", "tiny_b"}
    validate_config(config, ROOT / "workflow/schemas/config.schema.yaml")
    assert config["demo"]["train_tapes"] == 5  # validation fills defaults, keeps the given
