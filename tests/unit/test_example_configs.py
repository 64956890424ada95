"""Every example under config/examples/ is a valid config on top of config.yaml."""

import pytest
from config_helpers import EXAMPLES, example_config

from sonoflow.common.schema import SCHEMA
from sonoflow.config import experiments, validate_config

NAMES = sorted(path.stem for path in EXAMPLES.glob("*.yaml"))


def test_there_are_examples():
    assert "tabular" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_an_example_validates_on_top_of_the_default_config(name):
    validate_config(example_config(name), SCHEMA)


def test_the_tabular_example_adds_the_stats_mlp_experiment_to_the_demos():
    config = validate_config(example_config("tabular"), SCHEMA)
    assert experiments(config) == [
        ("default", "mel64", "resnet18"),
        ("default", "mel64", "band_mlp"),
        ("default", "stats", "mlp"),
    ]
    assert config["features"]["stats"]["type"] == "statistics"
    assert config["features"]["mel64"]["n_bins"] == 64  # the default's, kept by the merge
