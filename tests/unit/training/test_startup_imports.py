"""A vector-MLP training job imports neither timm (seconds, torchvision with it) nor
matplotlib nor optuna nor torch._dynamo nor librosa (numba with it): importing them was most
of a short job's start-up."""

import json
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).parents[3] / "src"

# The imports of workflow/scripts/train_fold.py, then what its job does with an mlp model:
# its statistics front-end (a mel filterbank), the model, its optimiser and schedule, two
# training steps, a checkpoint's optimiser state.
JOB = """
import json, sys
from sonoflow.common.gpu import claim_gpu, describe_device
from sonoflow.common.logs import log_startup_at_first_forward, log_to
from sonoflow.datasets.splits import cv_folds
from sonoflow.models.registry import with_pretrained_file
from sonoflow.training.data import TrainingData
from sonoflow.training.fold import read_tuned_params, train_fold
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.training.schedule import optimizer_and_schedule
from sonoflow.features.registry import build_frontend
import torch

build_frontend({"type": "statistics", "sample_rate": 16000, "window_s": 0.5, "hop_s": 0.1,
                "n_fft": 512, "hop_length": 160, "n_bins": 32})

config = model_with_defaults({"backbone": "mlp", "hidden": [8], "epochs": 2})
model = build_model(config, 3, (12, 1))
optimizer, schedule = optimizer_and_schedule(model, config, 0.01, steps_per_epoch=4)
for _ in range(2):
    optimizer.zero_grad()
    model(torch.randn(5, 1, 12, 1)).sum().backward()
    optimizer.step()
optimizer.load_state_dict(optimizer.state_dict())
heavy = ("timm", "torchvision", "matplotlib", "optuna", "torch._dynamo", "librosa", "numba")
loaded = [m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy)]
print(json.dumps(sorted(loaded)))
"""


def test_vector_mlp_training_job_imports_no_timm_matplotlib_optuna_dynamo_or_librosa():
    result = subprocess.run(
        [sys.executable, "-c", JOB],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_timm_still_knows_sonoflow_models_once_imported_for_a_cnn():
    from sonoflow.models.build import timm_with_sonoflow_models

    timm = timm_with_sonoflow_models()
    assert {"band_mlp", "vector_mlp", "convnext_tiny_cbam"} <= set(timm.list_models())
    backbone = timm.create_model("vector_mlp", img_size=(12, 1), hidden=[4])
    assert backbone.num_features == 4
