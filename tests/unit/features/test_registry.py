"""The front-end registry: one entry per kind, read by config checks, the DAG and builders."""

import importlib
import subprocess
import sys

import pytest

from sonoflow.common.schema import ConfigError
from sonoflow.features.kinds import check_features, is_vector, model_files, rate_and_window
from sonoflow.features.registry import EMBEDDING, KINDS, SPECTROGRAM, input_shape, kind_of

SPECTRUM = {"sample_rate": 16000, "window_s": 0.5, "n_fft": 512, "hop_length": 160, "n_bins": 8}


def config_of(kind, **extra):
    """A minimal features config of a kind, with its file (if it needs one) set."""
    config = {"type": kind.type, **SPECTRUM, "hop_s": 0.01, **extra}
    if kind.type == EMBEDDING:
        config["model"] = kind.name
    if kind.file_key:
        config[kind.file_key] = "model.file"
    if kind.joins_parts:
        config["parts"] = [{"type": "statistics", **SPECTRUM, "hop_s": 0.01}]
    return config


@pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
def test_a_config_finds_its_entry(kind):
    config = config_of(kind)
    assert kind_of(config) is kind
    assert is_vector(config) == (kind.type != SPECTROGRAM)


@pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
def test_builders_name_an_existing_callable(kind):
    module, attribute = kind.builder.split(":")
    target = importlib.import_module(module)
    for part in attribute.split("."):
        target = getattr(target, part)
    assert callable(target)


@pytest.mark.parametrize("kind", [k for k in KINDS.values() if k.file_key], ids=lambda k: k.name)
def test_a_missing_model_file_names_the_key(kind):
    config = config_of(kind)
    assert model_files(config) == ["model.file"]
    del config[kind.file_key]
    with pytest.raises(ConfigError, match=rf"features\.x\.{kind.file_key}: model {kind.name}"):
        check_features({"x": config})


@pytest.mark.parametrize("kind", [k for k in KINDS.values() if k.sample_rate], ids=lambda k: k.name)
def test_fixed_kinds_ignore_the_configs_rate_window_and_width(kind):
    config = config_of(kind)
    assert rate_and_window(config) == (kind.sample_rate, kind.window_s)
    # The width comes from the table: nothing is built (the model file does not exist).
    assert input_shape(config) == (kind.dims, 1)


def test_computed_widths():
    statistics = config_of(KINDS["statistics"])
    assert input_shape(statistics) == (2 * 257 + 2 * 8, 1)
    assert input_shape(config_of(KINDS["concat"])) == input_shape(statistics)
    assert input_shape(config_of(KINDS["spectrogram"])) == (8, 50)


def test_an_unknown_model_names_the_key():
    with pytest.raises(ValueError, match=r"features\.NAME\.model"):
        kind_of({"type": "embedding", "model": "nope"})


def test_the_registry_imports_neither_torch_nor_timm():
    code = (
        "import sys, sonoflow.features.registry, sonoflow.features.kinds;"
        "print(sorted({'torch', 'timm'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
