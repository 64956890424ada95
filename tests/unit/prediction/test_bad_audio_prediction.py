"""Prediction decodes its own audio: NaN or infinite samples stop it naming file and time."""

import numpy as np
import pytest
import soundfile as sf
import torch

from sonoflow.corpus.audio import AudioError
from sonoflow.corpus.audio_blocks import read_blocks
from sonoflow.features.spectrogram import FeatureSettings
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.models.weights import load_weights, save_weights
from sonoflow.prediction.predict import predict_recordings

SETTINGS = FeatureSettings(sample_rate=16000, window_s=0.5, n_fft=512, hop_length=160, n_bins=32)


def _nan_recording(path, rate=16000, seconds=3.0, at_s=2.5, value=np.nan):
    samples = np.zeros(int(seconds * rate), dtype=np.float32)
    samples[int(at_s * rate)] = value
    sf.write(path, samples, rate, subtype="FLOAT")
    return path


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_blocks_with_non_finite_samples_name_file_and_time(tmp_path, value):
    path = _nan_recording(tmp_path / "bad.wav", value=value)
    blocks = read_blocks(path, 16000, block_s=1.0)
    assert len(next(blocks)) == 16000  # the clean first second is delivered
    with pytest.raises(AudioError, match=r"bad\.wav: 1 sample\(s\) are NaN or infinite .*2\.500 s"):
        list(blocks)


def _model(path):
    config = model_with_defaults({"backbone": "band_mlp"})
    classes = ["call", "noise"]
    model = build_model(config, len(classes), (SETTINGS.n_bins, SETTINGS.frames_per_window))
    meta = {"model": config, "classes": classes, "features": SETTINGS.__dict__}
    save_weights(path, model.state_dict(), meta)
    return path


def test_prediction_over_a_nan_recording_fails_naming_it(tmp_path):
    model = _model(tmp_path / "fold0.pt")
    good = tmp_path / "good.wav"
    sf.write(good, np.zeros(16000 * 2, dtype=np.float32), 16000)
    bad = _nan_recording(tmp_path / "bad.wav", rate=8000)  # resampled after the check
    scores = predict_recordings([good], [model], hop_s=0.1)
    assert np.isfinite(scores[["call", "noise"]].to_numpy()).all()
    with pytest.raises(AudioError, match=r"bad\.wav: .*NaN or infinite"):
        predict_recordings([good, bad], [model], hop_s=0.1)


def test_truncated_model_file_is_named(tmp_path):
    model = _model(tmp_path / "fold0.pt")
    data = model.read_bytes()
    model.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"fold0\.pt: model file cannot be read"):
        load_weights(model, torch.device("cpu"))
