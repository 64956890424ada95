"""Front-end config errors stop the run at DAG time and name the keys."""

import copy
from pathlib import Path

import pytest
from config_helpers import tabular_config

from sonoflow.common.schema import ConfigError
from sonoflow.config import validate_config

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


def config_with(edit):
    """The demo config with the statistics front-end and the MLP (config/examples/tabular.yaml),
    edited."""
    config = copy.deepcopy(tabular_config())
    edit(config)
    return config


def pair(config, features, model):
    config["experiments"] = [{"dataset": "default", "features": features, "model": model}]


def add(config, name, features):
    config["features"][name] = features


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda c: pair(c, "stats", "resnet18"),
            "models.resnet18.backbone: resnet18 does not fit features.stats.type statistics",
        ),
        (lambda c: pair(c, "stats", "band_mlp"), "models.band_mlp.backbone"),
        (
            lambda c: pair(c, "mel64", "mlp"),
            "models.mlp.backbone: mlp does not fit features.mel64.type spectrogram",
        ),
        (
            lambda c: c["models"]["mlp"].update(augment={"spec_augment": {"enabled": True}}),
            "models.mlp.augment.spec_augment.enabled",
        ),
        (lambda c: c["features"]["stats"].update(hop_s=0.10003), "features.stats.hop_s"),
        (lambda c: c["features"]["stats"].update(window_s=0.02), "features.stats.window_s"),
        (lambda c: add(c, "vg", {"type": "embedding", "model": "vggish"}), "features.vg.weights"),
        (lambda c: add(c, "ox", {"type": "embedding", "model": "onnx"}), "features.ox.path"),
        (
            lambda c: add(c, "both", {"type": "concat", "parts": ["stats", "nope"]}),
            "features.both.parts: 'nope'",
        ),
        (
            lambda c: add(c, "both", {"type": "concat", "parts": ["stats", "mel64"]}),
            "'mel64' is a spectrogram",
        ),
        (lambda c: add(c, "both", {"type": "concat"}), "features.both.parts"),
        (
            lambda c: (
                add(c, "both", {"type": "concat", "parts": ["stats", "bird"]})
                or add(c, "bird", {"type": "embedding", "model": "birdnet", "hop_s": 0.5})
            ),
            "stats: 16000 Hz, window 1.0 s, hop 0.1 s, bird: 48000 Hz, window 3.0 s, hop 0.5 s",
        ),
        (lambda c: c["features"]["stats"].update(type="spectral"), "features.stats.type"),
        (
            lambda c: c["features"]["stats"].update(hop_s=0.04),
            "benchmarks.demo.hop_s: 0.1 s is not a multiple of features.stats.hop_s (0.04 s)",
        ),
    ],
)
def test_bad_front_ends_name_the_keys(edit, message):
    with pytest.raises(ConfigError) as error:
        validate_config(config_with(edit), SCHEMA)
    assert message in str(error.value)


def test_a_concat_of_matching_parts_is_valid():
    def edit(config):
        add(
            config, "vg", {"type": "embedding", "model": "vggish", "weights": "w.pt", "hop_s": 0.48}
        )
        add(
            config,
            "tab",
            {
                "type": "statistics",
                "window_s": 0.975,
                "hop_s": 0.48,
                "n_fft": 2048,
                "hop_length": 512,
            },
        )
        add(config, "both", {"type": "concat", "parts": ["vg", "tab"]})
        pair(config, "both", "mlp")
        config["benchmarks"]["demo"]["hop_s"] = 0.96  # two vectors

    validate_config(config_with(edit), SCHEMA)
