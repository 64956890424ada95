"""Config that could only fail late, or is meaningless, stops validation naming key and fix."""

import copy
from pathlib import Path

import pytest
import yaml
from config_helpers import tabular_config
from workflow_helpers import reordered_keys

from sonoflow.common.schema import ConfigError
from sonoflow.config import validate_config

ROOT = Path(__file__).resolve().parents[1].parent
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
# The demo config plus the tabular example's statistics front-end and MLP, so that checks
# across every front-end meet a vector one too.
BASE = tabular_config()
# The frame-grid figures below (0.01 s frames) assume mel64 at hop_length 160, whatever the
# demo config chooses for speed.
BASE["features"]["mel64"]["hop_length"] = 160


def _invalid(edit) -> str:
    config = copy.deepcopy(BASE)
    edit(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA)
    return str(err.value)


@pytest.mark.parametrize(
    "edit, key, fix",
    [
        (
            lambda c: c["benchmarks"]["demo"].update(hop_s=0.015),
            "benchmarks.demo.hop_s: 0.015 s is not a whole number of frames of features.mel64",
            "use a multiple of 0.01 s, for example 0.02",
        ),
        (
            lambda c: c["benchmarks"]["demo"].update(hop_s=0.005),
            "benchmarks.demo.hop_s",
            "for example 0.01",
        ),
        (
            lambda c: c["corpus"].update(labels=["hum", "chirp", "hum"]),
            "corpus.labels: ['hum'] appear more than once",
            "list each label once",
        ),
        (
            lambda c: c["datasets"]["default"].update(labels=["chirp", "chirp"]),
            "datasets.default.labels: ['chirp'] appear more than once",
            "list each label once",
        ),
        (
            lambda c: c["corpus"].update(labels=["hum", "Noise"]),
            "corpus.labels: 'Noise' is the name of the class of mined noise clips",
            "rename the label",
        ),
        (
            lambda c: c["features"]["mel64"].update(fmin=4000, fmax=4000),
            "features.mel64.fmin: 4000 Hz is not below features.mel64.fmax 4000 Hz",
            "fmin < fmax",
        ),
        (
            lambda c: c["features"]["mel64"].update(fmax=12000),
            "features.mel64.fmax: 12000 Hz is above half the sample rate (8000 Hz",
            "lower fmax to at most 8000 or raise sample_rate",
        ),
        (
            lambda c: c["datasets"]["default"].update(split={"train": 0, "val": 0, "test": 0}),
            "datasets.default.split: every share is 0",
            "give train a positive share",
        ),
        (
            lambda c: c["datasets"]["default"].update(split={"train": 7, "val": 2, "test": 1}),
            "datasets.default.split: the shares {'train': 7, 'val': 2, 'test': 1} sum to 10, not 1",
            "train: 0.7, val: 0.2, test: 0.1",
        ),
        (
            lambda c: c["datasets"]["default"].update(split={"train": 0, "val": 0.5, "test": 0.5}),
            "datasets.default.split.train: is 0",
            "positive train share",
        ),
    ],
)
def test_late_or_meaningless_settings_stop_validation(edit, key, fix):
    message = _invalid(edit)
    assert key in message and fix in message


def test_fmin_above_fmax_is_named():
    config = copy.deepcopy(BASE)
    config["features"]["mel64"].update(fmin=7000, fmax=6000)
    with pytest.raises(ConfigError, match=r"features\.mel64\.fmin: 7000 Hz is not below"):
        validate_config(config, SCHEMA)


def test_hop_on_the_frame_grid_of_every_features_passes():
    config = copy.deepcopy(BASE)
    config["benchmarks"]["demo"]["hop_s"] = (
        0.3  # on the 0.01 s grid of mel64 and a multiple of stats.hop_s
    )
    validate_config(config, SCHEMA)


def test_numbers_yaml_reads_as_text_are_numbers():
    text = (ROOT / "config.yaml").read_text().replace("lr: 0.001", "lr: 1e-3")
    config = yaml.safe_load(text)
    assert config["models"]["resnet18"]["lr"] == "1e-3"  # YAML 1.1 wants a dot
    config["evaluation"]["min_iou"] = "4E-1"
    config["features"]["mel64"]["fmin"] = "+5e1"
    validate_config(config, SCHEMA)
    assert config["models"]["resnet18"]["lr"] == 1e-3
    assert config["models"]["band_mlp"]["lr"] == 1e-3
    assert config["evaluation"]["min_iou"] == 0.4 and config["features"]["mel64"]["fmin"] == 50
    config = copy.deepcopy(BASE)
    config["models"]["resnet18"]["lr"] = "auto"
    validate_config(config, SCHEMA)
    assert config["models"]["resnet18"]["lr"] == "auto"
    config["datasets"]["default"]["seed"] = "1e3"  # an integer key keeps its clear error
    with pytest.raises(ConfigError, match=r"datasets\.default\.seed: '1e3' is not of type"):
        validate_config(config, SCHEMA)


def test_key_order_does_not_change_the_validated_config():
    plain = validate_config(copy.deepcopy(BASE), SCHEMA)
    reordered = validate_config(reordered_keys(copy.deepcopy(BASE)), SCHEMA)
    assert repr(plain) == repr(reordered)  # params are stored as their repr
    assert list(plain) == sorted(plain)
    assert plain["corpus"]["labels"] == ["hum", "chirp"]  # lists keep their order


def test_a_hop_a_millionth_under_one_frame_fails_at_validation_naming_the_key():
    # One frame of mel64 is 160 / 16000 = 0.01 s; prediction could not step by less.
    message = _invalid(lambda c: c["benchmarks"]["demo"].update(hop_s=0.01 * (1 - 1e-6)))
    assert "benchmarks.demo.hop_s: 0.00999999 s is not a whole number of frames" in message


@pytest.mark.parametrize(
    "hop_s, frames", [(0.01, 1), (0.3, 30), (0.01 * (1 + 1e-7), 1), (0.00999999, None)]
)
def test_validation_and_prediction_share_one_hop_check(hop_s, frames):
    from sonoflow.features.kinds import hop_frames
    from sonoflow.features.spectrogram import FeatureSettings
    from sonoflow.prediction.predict import window_step

    assert hop_frames(hop_s, 0.01) == frames
    settings = FeatureSettings(sample_rate=16000, hop_length=160)
    if frames is None:
        with pytest.raises(ValueError, match="not a positive multiple"):
            window_step(settings, hop_s)
    else:
        assert window_step(settings, hop_s) == frames


def test_every_check_names_the_key_in_one_format():
    from sonoflow.common.schema import config_error, invalid_config

    assert str(config_error("a.b", "is wrong")) == "invalid config:\n  a.b: is wrong"
    assert str(invalid_config([("a", "x"), ("b", "y")])) == "invalid config:\n  a: x\n  b: y"


# --- issue 24: settings that failed late or vaguely, stopped at validation naming the key ---

SEASON = {"recordings": "/data/2024", "experiment": "default.mel64.resnet18"}


def _detect(**entry):
    """An edit that adds detection run `s` (SEASON with `entry`'s keys) to the config."""
    return lambda c: c.update(detect={"s": {**SEASON, **entry}})


@pytest.mark.parametrize(
    "threshold, message",
    [
        ({"hum": 0.5}, "detect.s.threshold: no threshold for ['chirp']"),
        (
            {"hum": 0.5, "chirp": 0.5, "owl": 0.2},
            "detect.s.threshold: ['owl'] are not in corpus.labels ['hum', 'chirp']",
        ),
        (
            {"hum": 0.5, "EATO": 0.5},
            "['EATO'] are not in corpus.labels ['hum', 'chirp']; no threshold for ['chirp']",
        ),
    ],
)
def test_class_thresholds_name_the_missing_and_unknown_classes(threshold, message):
    text = _invalid(_detect(threshold=threshold))
    assert message in text and "give a number for each class of default.mel64.resnet18" in text


def test_class_thresholds_follow_the_dataset_labels():
    def edit(c):
        c["datasets"]["default"]["labels"] = ["chirp"]
        _detect(threshold={"hum": 0.5, "chirp": 0.5})(c)

    assert "['hum'] are not in datasets.default.labels ['chirp']" in _invalid(edit)
    config = copy.deepcopy(BASE)
    config["datasets"]["default"]["labels"] = ["chirp"]
    _detect(threshold={"chirp": 0.5})(config)
    validate_config(config, SCHEMA)


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            {"hop_s": 0.015},
            "detect.s.hop_s: 0.015 s is not a whole number of frames of features.mel64 "
            "(one frame is hop_length / sample_rate = 0.01 s); use a multiple of 0.01 s",
        ),
        (
            {"hop_s": 0.05, "experiment": "default.stats.mlp"},
            "detect.s.hop_s: 0.05 s is not a multiple of features.stats.hop_s (0.1 s)",
        ),
    ],
)
def test_a_detect_hop_off_the_frame_grid_is_named_like_a_benchmark_hop(entry, message):
    assert message in _invalid(_detect(**entry))


def test_a_detect_hop_is_checked_against_its_own_experiment_only():
    config = copy.deepcopy(BASE)
    _detect(hop_s=0.05)(config)  # on mel64's 0.01 s grid; stats (hop 0.1 s) is not scored
    validate_config(config, SCHEMA)


def _centred(space, **model):
    def edit(c):
        c["tuning"] = {"enabled": ["default.mel64.resnet18"], "centred_space": space}
        c["models"]["resnet18"].update(model)

    return edit


def test_a_centred_space_that_centres_nothing_is_named():
    """Trials ran `with {}`: the configured values, again and again (issue 24)."""
    message = _invalid(_centred({"lr": {"factor": 10}}, lr="auto"))
    assert "tuning.centred_space: centres nothing for models.resnet18 (lr: 'auto' cannot" in message
    assert "set tuning.search_space to fixed or a mapping" in message
    space = {"lr": {"factor": 10}, "weight_decay": {"factor": 10}}
    message = _invalid(_centred(space, lr="auto", weight_decay=0.0))
    assert "(lr: 'auto', weight_decay: 0.0 cannot be centred)" in message


def test_a_centred_space_that_centres_one_key_passes():
    config = copy.deepcopy(BASE)
    _centred({"lr": {"factor": 10}, "weight_decay": {"factor": 10}}, lr="auto", weight_decay=1e-4)(
        config
    )
    validate_config(config, SCHEMA)
    config = copy.deepcopy(BASE)
    _centred({"lr": {"factor": 10}}, lr="auto")(config)
    config["tuning"]["enabled"] = False  # nothing tuned, nothing to centre
    validate_config(config, SCHEMA)


def test_exports_that_export_model_would_refuse_are_named_from_the_config():
    from sonoflow.config import export_refusal

    config = copy.deepcopy(BASE)
    config["models"]["band_mlp"]["metadata"] = {"fusion": "gate"}
    validate_config(config, SCHEMA)
    assert export_refusal(config, "default.mel64.band_mlp") is None  # fusion: metadata input
    key, why = export_refusal(config, "default.stats.mlp")
    assert key == "features.stats.type" and "only spectrogram front-ends are" in why
    assert export_refusal(config, "default.mel64.resnet18") is None
    assert export_refusal(config, "default.mel64.nope") is None


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda c: c["corpus"].update(quality_regex="^(?P<label>.+_Q(?P<quality>[1-4])$"),
            "corpus.quality_regex: '^(?P<label>.+_Q(?P<quality>[1-4])$' is not a regular "
            "expression (missing ), unterminated subpattern at position 1)",
        ),
        (
            lambda c: c["benchmarks"]["demo"].update(quality_regex="_Q([1-4])$"),
            "benchmarks.demo.quality_regex: '_Q([1-4])$' has no group `quality` for the grade",
        ),
    ],
)
def test_a_bad_quality_regex_is_named_at_validation(edit, message):
    assert message in _invalid(edit)


def test_a_quality_regex_with_its_groups_passes():
    config = copy.deepcopy(BASE)
    config["corpus"]["quality_regex"] = r"^(?P<label>.+?)_?Q(?P<quality>[1-4])$"
    validate_config(config, SCHEMA)


def test_an_fft_longer_than_the_window_is_named_with_both_keys():
    message = _invalid(lambda c: c["features"]["mel64"].update(window_s=0.02, n_fft=512))
    assert (
        "features.mel64.n_fft: 512 samples is longer than features.mel64.window_s 0.02 s "
        "(320 samples at 16000 Hz); lower n_fft to at most 320 or raise window_s to at least "
        "0.032 s"
    ) in message
    config = copy.deepcopy(BASE)
    config["features"]["mel64"].update(window_s=0.032, n_fft=512)  # exactly one frame
    config["benchmarks"]["demo"]["hop_s"] = 0.1
    validate_config(config, SCHEMA)
