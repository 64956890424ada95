"""The assessment's configured-vs-tuned comparison, from a study's best_params.json."""

import json

import pandas as pd
import pytest

from sonoflow.evaluation.assessment import tuning_comparison

CV = pd.DataFrame({"fold": ["0", "1", "mean", "std"], "val_macro_f1": [0.8, 0.9, 0.85, 0.07]})


def test_an_untuned_experiment_reports_only_its_folds():
    assert tuning_comparison(None, CV) == {"tuned": False, "folds_val_macro_f1": 0.85}


@pytest.mark.parametrize("searched, chosen", [(0.95, "tuned"), (0.5, "configured")])
def test_configured_against_tuned(tmp_path, searched, chosen):
    path = tmp_path / "best_params.json"
    best = {
        "chosen": chosen,
        "note": "...",
        "value": max(searched, 0.9),
        "configured": {"trial": 0, "value": 0.9, "params": {}},
        "best_searched": {"trial": 3, "value": searched, "params": {"lr": 0.01}},
        "margin": searched - 0.9,
    }
    path.write_text(json.dumps(best))
    comparison = tuning_comparison(path, CV)
    assert comparison["configured_val_macro_f1"] == 0.9
    assert comparison["tuned_val_macro_f1"] == searched
    assert comparison["folds_trained_with"] == chosen
    assert comparison["chosen_val_macro_f1"] >= comparison["configured_val_macro_f1"]
    assert comparison["folds_val_macro_f1"] == 0.85
