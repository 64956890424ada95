"""Defaults live in the schema only: the library's settings classes take theirs from it."""

import dataclasses

import pytest

from sonoflow.common.schema import section_with_defaults
from sonoflow.corpus.demo import DemoSettings
from sonoflow.features.spectrogram import FeatureSettings

# Keys of a `features` entry that only vector front-ends (features/vectors.py) read.
VECTOR_ONLY = {"type", "hop_s", "model", "weights", "path", "input", "output", "parts"}


@pytest.mark.parametrize(
    ("settings", "section", "elsewhere"),
    [(FeatureSettings, "features", VECTOR_ONLY), (DemoSettings, "demo", set())],
)
def test_settings_defaults_are_the_schema_defaults(settings, section, elsewhere):
    schema = section_with_defaults(section, {})
    defaults = {f.name: f.default for f in dataclasses.fields(settings)}
    # every schema key is a setting (or read by the vector front-ends), and no more
    assert set(defaults) == set(schema) - elsewhere
    schema = {k: v for k, v in schema.items() if k not in elsewhere}
    for name, value in schema.items():
        expected = tuple(value) if isinstance(value, list) else value
        assert defaults[name] == expected, name


def test_settings_from_a_config_section_fill_what_is_missing():
    assert FeatureSettings.from_config({"n_bins": 32}) == dataclasses.replace(
        FeatureSettings(), n_bins=32
    )
    demo = DemoSettings.from_config({"snr_db": [-3, 3], "seed": 1})
    assert demo.snr_db == (-3, 3) and demo.seed == 1
    assert demo.train_tapes == section_with_defaults("demo", {})["train_tapes"]
