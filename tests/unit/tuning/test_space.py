"""The search space: centred on the configured values by the schema's rules, or fixed."""

import pytest

from sonoflow.common.schema import load_schema
from sonoflow.models.config import model_with_defaults
from sonoflow.tuning.space import centre, search_space
from sonoflow.tuning.study import configured_params


def _tuning(**keys):
    schema = load_schema()["properties"]["tuning"]["properties"]
    defaults = {name: spec.get("default") for name, spec in schema.items()}
    return {**defaults, **keys}


def test_the_default_space_is_centred_on_the_model_and_holds_its_values():
    model = model_with_defaults({"backbone": "resnet18", "lr": 1e-3, "head_width": 256})
    space = search_space(model, _tuning())
    assert space["lr"] == {"low": pytest.approx(1e-4), "high": pytest.approx(1e-2), "log": True}
    assert space["head_width"] == {"choices": [128, 256, 512]}
    assert space["freeze_epochs"] == {"low": 0, "high": 1, "log": False}
    assert set(configured_params(model, space)) == set(space)  # every value is inside


def test_values_that_cannot_be_centred_are_not_searched():
    model = model_with_defaults({"backbone": "resnet18", "lr": "auto", "weight_decay": 0.0})
    space = search_space(model, _tuning())
    assert "lr" not in space and "weight_decay" not in space
    assert "head_width" not in space  # 0: a single linear layer, nothing around it


@pytest.mark.parametrize(
    "value, rule, expected",
    [
        (0.5, {"plus_minus": 0.25, "min": 0.0, "max": 0.6}, {"low": 0.25, "high": 0.6}),
        (0, {"plus_minus": 1, "min": 0}, {"low": 0, "high": 1}),
        (0.0, {"plus_minus": 0.2, "min": 0.0, "max": 0.0}, None),
        (1.0, {"times": [0.5]}, {"choices": [0.5, 1.0]}),
    ],
)
def test_centring_rules(value, rule, expected):
    spec = centre(value, rule)
    if expected is None:
        assert spec is None
    else:
        assert {k: v for k, v in spec.items() if k != "log"} == expected


def test_the_fixed_option_is_the_seed_systems_ranges():
    model = model_with_defaults({"backbone": "resnet18", "lr": 1e-3})
    space = search_space(model, _tuning(search_space="fixed"))
    assert space["lr"] == {"low": 1e-5, "high": 5e-4, "log": True}
    assert "lr" not in configured_params(model, space)  # 1e-3 lies outside the fixed range
