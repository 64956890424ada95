"""The exported ensemble scores audio as the detection pipeline does."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from detection_helpers import CLASSES, SETTINGS, fold_models
from onnx_helpers import score_with_onnxruntime

from sonoflow.corpus.audio import load_mono
from sonoflow.detection import shard
from sonoflow.detection.export import write_export
from sonoflow.detection.shard import ScoringSettings, detect_shard


@pytest.mark.parametrize("backbone", ["band_mlp", "resnet10t"])
def test_exported_file_gives_the_workflows_window_scores(
    shared_data, tmp_path, backbone, monkeypatch
):
    # the exported file is compared in float32; on CUDA detection scores in mixed precision
    monkeypatch.setattr(shard, "pick_device", lambda: torch.device("cpu"))
    models = fold_models(tmp_path / "models", folds=2, backbone=backbone)
    # a real recording at the model's rate, so both paths read the same samples
    wave = load_mono(shared_data / "real-audio/rugr_drum.wav", SETTINGS.sample_rate)
    (tmp_path / "season").mkdir()
    sf.write(tmp_path / "season/rugr.wav", wave, SETTINGS.sample_rate, subtype="FLOAT")
    detect_shard(
        tmp_path / "season",
        ["rugr.wav"],
        models,
        tmp_path / "work",
        tmp_path / "scores.parquet",
        tmp_path / "status.csv",
        ScoringSettings(hop_s=0.1, block_s=3.0, score_dtype="float32"),
    )
    expected = pd.read_parquet(tmp_path / "scores.parquet")[CLASSES].to_numpy()

    metrics = tmp_path / "metrics.csv"
    pd.DataFrame(
        {"threshold": 0.5, "class": ["drum", "song", "all"], "best_f1_threshold": [0.6, 0.4, 0.5]}
    ).to_csv(metrics, index=False)
    info = write_export(
        models,
        {"demo": metrics},
        tmp_path / "d.torchscript",
        tmp_path / "d.json",
        tmp_path / "d.onnx",
    )
    assert json.loads((tmp_path / "d.json").read_text()) == json.loads(json.dumps(info))
    assert info["classes"] == CLASSES and info["labels"] == ["drum", "song"]
    assert info["thresholds"] == {"demo": {"drum": 0.6, "song": 0.4}}
    assert info["sample_rate"] == 16000 and info["features"]["n_bins"] == SETTINGS.n_bins

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(tmp_path / "d.torchscript"))
    hop_frames = round(0.1 / info["frame_s"])
    scores = module(torch.from_numpy(np.ascontiguousarray(wave)), hop_frames).numpy()
    assert scores.shape == expected.shape
    np.testing.assert_allclose(scores, expected, atol=1e-4)
    short = module(torch.zeros(100), hop_frames)  # shorter than one FFT: one padded window
    assert short.shape == (1, len(CLASSES))

    # the ONNX file, with onnxruntime alone: the same window scores
    graph = info["onnx"]
    assert graph["file"] == "d.onnx" and graph["frontend_inside"] is True
    assert graph["input"] == "audio" and graph["output"] == "scores"
    assert graph["output_shape"] == ["batch", len(CLASSES)]
    samples = (SETTINGS.frames_per_window - 1) * SETTINGS.hop_length + SETTINGS.n_fft
    assert graph["input_shape"] == ["batch", samples] == ["batch", graph["window_samples"]]
    onnx_scores = score_with_onnxruntime(
        tmp_path / "d.onnx", tmp_path / "d.json", tmp_path / "season/rugr.wav", 0.1
    )
    assert onnx_scores.shape == expected.shape
    np.testing.assert_allclose(onnx_scores, expected, atol=1e-4)
