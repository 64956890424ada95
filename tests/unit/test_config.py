import copy
from pathlib import Path

import pytest
import yaml

from sonoflow.common.schema import ConfigError
from sonoflow.config import experiments, validate_config

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


def default_config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_default_config_is_valid_and_defaults_are_filled():
    config = validate_config(default_config(), SCHEMA)
    assert config["models"]["resnet18"]["weight_decay"] == 0.0001  # not in config.yaml
    assert config["models"]["resnet18"]["dropout"] == 0.2
    assert config["cv"]["seed"] == 0
    assert experiments(config) == [
        ("default", "mel64", "resnet18"),
        ("default", "mel64", "band_mlp"),
    ]  # the tabular stats + mlp experiment: config/examples/tabular.yaml


def test_empty_config_gets_the_demo():
    config = validate_config({}, SCHEMA)
    assert config["corpus"]["recordings"] == "demo"
    assert config["features"]["mel64"]["n_fft"] == 512


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda c: c["models"]["resnet18"].update(lr="fast"),
            r"models\.resnet18\.lr: 'fast' does not match '\^auto\$'",
        ),
        (
            lambda c: c["features"]["mel64"].update(scale="bark"),
            r"features\.mel64\.scale: 'bark' is not one of",
        ),
        (lambda c: c["datasets"].update({"bad name": {}}), r"datasets: 'bad name' does not match"),
        (
            lambda c: c["evaluation"].update(thresholds=[1.5]),
            r"evaluation\.thresholds\.0: 1\.5 is greater",
        ),
        (
            lambda c: c["models"]["resnet18"].update(lrr=0.1),
            r"models\.resnet18: Additional properties",
        ),
        (
            lambda c: c.update(
                experiments=[{"dataset": "default", "features": "mel64", "model": "vgg"}]
            ),
            r"experiments\.0: 'vgg' is not one of the models",
        ),
        (
            lambda c: c["benchmarks"]["demo"].update(folds=[3]),
            r"benchmarks\.demo\.folds: \[3\] names a fold that does not exist",
        ),
    ],
)
def test_bad_values_name_the_key_path(edit, message):
    config = copy.deepcopy(default_config())
    edit(config)
    with pytest.raises(ConfigError, match=message):
        validate_config(config, SCHEMA)


def review_config(**review):
    config = copy.deepcopy(default_config())
    config["detect"] = {"season": {"recordings": ".", "experiment": "default.mel64.resnet18"}}
    config["review"] = {"check": {"detect": "season", **review}}
    return config


def test_a_review_gets_its_defaults_and_verdict_folder():
    from sonoflow.config import review_verdicts

    config = validate_config(review_config(), SCHEMA)
    review = config["review"]["check"]
    assert (review["strategy"], review["size"], review["bins"]) == ("stratified", 50, 4)
    assert (review["stratum"], review["include_misses"], review["padding_s"]) == ("site", 0, 1.0)
    assert review_verdicts(config, "check") == "verdicts/check"


@pytest.mark.parametrize(
    "review, message",
    [
        ({"detect": "spring"}, r"review\.check\.detect: 'spring' is not one of the detect runs"),
        ({"bins": [0.5, 0.9, 0.7]}, r"review\.check\.bins: .*bin edges must increase"),
        ({"include_misses": 5}, r"review\.check\.include_misses: likely misses .* `uncertain`"),
        ({"verdicts": "results/mine"}, r"review\.check\.verdicts: results/mine is under results/"),
        ({"strategy": "random"}, r"review\.check\.strategy: 'random' is not one of"),
    ],
)
def test_bad_review_entries_name_the_key(review, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(review_config(**review), SCHEMA)


def retraining_config(**datasets):
    """The default config with a review of a detect run of default.mel64.resnet18 and
    the given dataset variants."""
    config = review_config()
    config["datasets"].update(datasets)
    return config


def test_a_variant_takes_a_review_of_another_variants_detections():
    config = validate_config(retraining_config(retrained={"reviewed": ["check"]}), SCHEMA)
    assert config["datasets"]["retrained"]["reviewed"] == ["check"]
    assert config["datasets"]["default"]["reviewed"] == []


@pytest.mark.parametrize(
    "datasets, message",
    [
        (
            {"retrained": {"reviewed": ["autumn"]}},
            r"datasets\.retrained\.reviewed: 'autumn' is not one of the reviews \['check'\]",
        ),
        (
            {"retrained": {"reviewed": ["check", "check"]}},
            r"datasets\.retrained\.reviewed: .*non-unique",
        ),
        (
            {"default": {"reviewed": ["check"]}},
            r"datasets\.default\.reviewed: makes a loop .*: datasets\.default\.reviewed: check "
            r"-> review\.check\.detect: season -> detect\.season\.experiment: "
            r"default\.mel64\.resnet18; a dataset cannot",
        ),
    ],
)
def test_bad_reviewed_lists_name_the_key(datasets, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(retraining_config(**datasets), SCHEMA)


def test_a_loop_through_two_variants_names_every_step():
    config = retraining_config(other={"reviewed": ["back"]})
    config["datasets"]["default"]["reviewed"] = ["check"]  # default <- check <- season
    # ... and season's experiment trains on default, back's on other: no loop yet; then
    # season trains on `other`, whose clips come from `back`, a review of default's run
    config["experiments"] = [
        {"dataset": "other", "features": "mel64", "model": "resnet18"},
        {"dataset": "default", "features": "mel64", "model": "resnet18"},
    ]
    config["detect"]["season"]["experiment"] = "other.mel64.resnet18"
    config["detect"]["spring"] = {"recordings": ".", "experiment": "default.mel64.resnet18"}
    config["review"]["back"] = {"detect": "spring"}
    with pytest.raises(ConfigError, match=r"datasets\.default\.reviewed: makes a loop") as err:
        validate_config(config, SCHEMA)
    assert "review.back.detect: spring -> detect.spring.experiment: default." in str(err.value)


def test_a_fusion_model_on_a_variant_with_reviewed_clips_is_refused():
    config = retraining_config(retrained={"reviewed": ["check"]})
    config["experiments"].append({"dataset": "retrained", "features": "mel64", "model": "band_mlp"})
    config["models"]["band_mlp"]["metadata"] = {"fusion": "gate"}
    with pytest.raises(ConfigError, match=r"models\.band_mlp\.metadata\.fusion: .*reviewed"):
        validate_config(config, SCHEMA)
