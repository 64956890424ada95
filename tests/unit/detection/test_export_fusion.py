"""Export of metadata fusion models: the shared metadata vector is a second input of both
files, and each fold's own encoding (fitted on different training recordings) happens
inside them, so the files give the workflow's scores."""

import json
import warnings

import numpy as np
import onnxruntime
import pandas as pd
import torch
from detection_helpers import CLASSES, SETTINGS

from sonoflow.corpus.metadata import (
    encode,
    encoded_columns,
    encoder_map,
    fit_encoder,
    shared_encoder,
)
from sonoflow.detection.export import write_export
from sonoflow.features.spectrogram import frame_windows
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.models.weights import save_weights
from sonoflow.prediction.predict import WindowScorer, load_fold_models

SPEC = {
    "fusion": "concat",
    "latitude": "lat",
    "longitude": "lon",
    "datetime": "time",
    "numeric": ["temperature"],
    "categorical": ["habitat"],
}
RECORDINGS = pd.DataFrame(
    {
        "lat": [52.1, 48.3, 60.2, 45.0],
        "lon": [13.4, 11.0, 24.9, -73.5],
        "time": ["2024-05-01 05:30", "2024-06-11 21:00", "2024-07-02 03:15", "2024-05-20 12:00"],
        "temperature": [9.5, 17.0, 12.25, 22.0],
        "habitat": ["forest", "wetland", "meadow", "forest"],
    },
    index=["r1", "r2", "r3", "r4"],
)


def fusion_folds(folder):
    """Two fold models whose encoders were fitted on different recordings: other means, and
    categories that one fold never saw."""
    config = model_with_defaults({"backbone": "band_mlp", "hidden": [16], "metadata": SPEC})
    paths = []
    for fold, training in enumerate([["r1", "r2"], ["r2", "r3", "r4"]]):
        encoder = fit_encoder(RECORDINGS.loc[training], SPEC)
        torch.manual_seed(fold)
        shape = (SETTINGS.n_bins, SETTINGS.frames_per_window)
        model = build_model(config, len(CLASSES), shape, metadata_width=encoder["width"])
        meta = {
            "model": config,
            "classes": CLASSES,
            "features": SETTINGS.__dict__,
            "fold": fold,
            "metadata_encoder": encoder,
        }
        paths.append(folder / f"fold{fold}/model.pt")
        paths[-1].parent.mkdir(parents=True)
        save_weights(paths[-1], model.state_dict(), meta)
    return paths


def test_each_folds_encoding_is_an_affine_map_of_the_shared_vector():
    encoders = [fit_encoder(RECORDINGS.loc[rows], SPEC) for rows in (["r1", "r2"], ["r3", "r4"])]
    shared = shared_encoder(encoders)
    assert encoded_columns(shared)[-3:] == ["habitat=forest", "habitat=meadow", "habitat=wetland"]
    vectors = encode(RECORDINGS, shared)
    for encoder in encoders:
        weight, bias = encoder_map(encoder, shared)
        np.testing.assert_allclose(
            vectors @ weight.T + bias, encode(RECORDINGS, encoder), atol=1e-5
        )


def test_exported_fusion_models_take_metadata_and_give_the_workflows_scores(tmp_path):
    paths = fusion_folds(tmp_path)
    metrics = tmp_path / "metrics.csv"
    pd.DataFrame({"threshold": 0.5, "class": ["all"], "best_f1_threshold": [0.5]}).to_csv(
        metrics, index=False
    )
    info = write_export(
        paths, {"b": metrics}, tmp_path / "d.pt", tmp_path / "d.json", tmp_path / "d.onnx"
    )
    assert json.loads((tmp_path / "d.json").read_text())["metadata"] == info["metadata"]
    assert info["onnx"]["inputs"] == ["audio", "metadata"]
    assert info["metadata"]["columns"][:7] == [
        "geo_x", "geo_y", "geo_z", "day_sin", "day_cos", "hour_sin", "hour_cos",
    ]  # fmt: skip
    assert "numeric:temperature" in info["metadata"]["columns"]

    # the workflow's scores: each fold with its own encoding of the recording's metadata
    models, checkpoints, _, frontend = load_fold_models(paths, torch.device("cpu"))
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(SETTINGS.sample_rate * 2)).astype(np.float32)
    windows = frame_windows(frontend(torch.from_numpy(wave)), SETTINGS.frames_per_window, 10)
    recording = RECORDINGS.loc[["r3"]]
    per_fold = [encode(recording, c["metadata_encoder"]) for c in checkpoints]  # (1, width)
    scorer = WindowScorer(models, frontend, torch.device("cpu"), metadata=per_fold)
    expected = scorer(windows, [(0, len(windows))])

    shared = encode(recording, shared_encoder([c["metadata_encoder"] for c in checkpoints]))
    assert shared.shape[1] == len(info["metadata"]["columns"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(tmp_path / "d.pt"))
    scores = module(torch.from_numpy(wave), 10, torch.from_numpy(shared[0])).numpy()
    np.testing.assert_allclose(scores, expected, atol=1e-4)

    session = onnxruntime.InferenceSession(
        str(tmp_path / "d.onnx"), providers=["CPUExecutionProvider"]
    )
    size, step = info["onnx"]["window_samples"], 10 * SETTINGS.hop_length
    audio = np.stack([wave[s : s + size] for s in range(0, len(wave) - size + 1, step)])
    rows = np.repeat(shared, len(audio), axis=0)
    (onnx_scores,) = session.run(["scores"], {"audio": audio, "metadata": rows})
    assert onnx_scores.shape == expected.shape
    np.testing.assert_allclose(onnx_scores, expected, atol=1e-4)


def test_the_shared_layout_names_every_column_once():
    shared = shared_encoder([fit_encoder(RECORDINGS, SPEC)])
    columns = encoded_columns(shared)
    assert len(columns) == len(set(columns)) == shared["width"]
    assert shared["numeric"] == {"temperature": [0.0, 1.0]}  # raw: folds standardise their own
