"""A vector front-end through the workflow: statistics + mlp from cache to evaluation, with
a concat (ONNX embedding beside the statistics) whose model file is an input of its cache."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from workflow_helpers import TINY_CONFIG, copy_project, scheduled_jobs, snakemake

EXPERIMENT = "default.stats_onnx.mlp"
# torch's legacy ONNX exporter, the one that works without onnxscript, warns that it is legacy
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
STATS = {"type": "statistics", "window_s": 0.5, "hop_s": 0.1, "n_bins": 32, "hop_length": 320}


class Loudness(torch.nn.Module):
    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = scale

    def forward(self, audio):
        loudness = [torch.log(audio.pow(2).mean(-1) + 1e-8), audio.abs().amax(-1)]
        return self.scale * torch.stack(loudness, 1)


def export(path, scale=1.0):
    torch.onnx.export(
        Loudness(scale),
        (torch.randn(2, 8000),),
        str(path),
        input_names=["audio"],
        output_names=["stats"],
        dynamic_axes={"audio": {0: "batch"}, "stats": {0: "batch"}},
        dynamo=False,  # the legacy exporter: the default one needs onnxscript
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = tmp_path_factory.mktemp("frontends")
    onnx = project / "loudness.onnx"
    export(onnx)
    config = copy.deepcopy(TINY_CONFIG)
    config["features"] = {
        "stats": STATS,
        "loud": {"type": "embedding", "model": "onnx", "path": str(onnx), "window_s": 0.5},
        "stats_onnx": {"type": "concat", "parts": ["stats", "loud"]},
    }
    config["models"] = {"mlp": {"backbone": "mlp", "epochs": 2, "batch_size": 16, "lr": 0.003}}
    config["experiments"] = [{"dataset": "default", "features": "stats_onnx", "model": "mlp"}]
    copy_project(project, config)
    snakemake(project, f"results/evaluation/{EXPERIMENT}/demo/metrics.csv")
    return project


def test_statistics_and_onnx_concat_train_predict_and_evaluate(project):
    index = pd.read_csv(project / "results/cache/stats_onnx/index.csv")
    assert (index["bins"] == 2 * 257 + 2 * 32 + 2).all()
    shards = sorted((project / f"results/predictions/{EXPERIMENT}/demo").glob("*.parquet"))
    scores = pd.concat([pd.read_parquet(p) for p in shards])
    steps = scores["start_s"].to_numpy() / 0.1  # windows start on the cached vectors
    assert len(scores) and np.allclose(steps, np.round(steps), atol=1e-4)
    np.testing.assert_allclose(scores["end_s"] - scores["start_s"], 0.5, atol=1e-4)
    metrics = pd.read_csv(project / f"results/evaluation/{EXPERIMENT}/demo/metrics.csv")
    assert set(metrics["class"]) >= {"hum", "chirp", "all"}
    export(project / "loudness.onnx", scale=2.0)  # a replaced model reruns its cache onwards
    jobs = scheduled_jobs(project)
    assert jobs.get("cache_spectrograms") == 1 and "train_fold" in jobs
