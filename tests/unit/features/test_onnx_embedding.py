"""The onnx embedding front-end, with a tiny model exported by the test (no network)."""

import numpy as np
import pytest
import soundfile as sf
import torch
from planted_calls import assert_peaks_at_calls, write_planted_calls
from torch import nn

from sonoflow.corpus.audio import load_mono
from sonoflow.features.cache import SpectrogramCache, build_cache
from sonoflow.features.registry import build_frontend, input_shape
from sonoflow.prediction.predict import WindowScorer, score_recordings, scores_table

pytest.importorskip("onnxruntime", reason="the onnx front-end needs onnxruntime")
# torch's legacy exporter, the one that works without onnxscript, warns that it is legacy
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class Loudness(nn.Module):
    """Two outputs per window: (log energy, mean, peak) and a learned projection."""

    def __init__(self):
        super().__init__()
        self.project = nn.Linear(400, 5)

    def forward(self, audio: torch.Tensor):
        stats = torch.stack(
            [torch.log(audio.pow(2).mean(-1) + 1e-8), audio.mean(-1), audio.abs().amax(-1)], 1
        )
        return stats, self.project(audio[:, :400])


def export(path, seconds, rate=8000):
    torch.manual_seed(0)
    model = Loudness().eval()
    dummy = torch.randn(2, int(seconds * rate))
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["audio"],
        output_names=["stats", "projection"],
        dynamic_axes={"audio": {0: "batch"}, "stats": {0: "batch"}, "projection": {0: "batch"}},
        dynamo=False,  # the legacy exporter: the default one needs onnxscript
    )
    return model, path


def onnx_features(path, window_s=0.25, hop_s=0.05, output=None):
    return {
        "type": "embedding",
        "model": "onnx",
        "path": str(path),
        "sample_rate": 8000,
        "window_s": window_s,
        "hop_s": hop_s,
        "input": None,
        "output": output,
    }


def test_embedding_window_from_the_cache_equals_the_whole_recording_s(tmp_path):
    model, path = export(tmp_path / "tiny.onnx", 0.25)
    rate = 8000
    wave = np.random.default_rng(1).standard_normal(int(3.33 * rate)).astype(np.float32) * 0.1
    sf.write(tmp_path / "tape.wav", wave, rate)
    features = onnx_features(path, output="projection")
    build_cache([tmp_path / "tape.wav"], features, tmp_path / "cache")
    frontend = build_frontend(features)
    assert input_shape(features) == (5, 1) == (frontend.settings.dims, 1)
    whole = frontend(torch.from_numpy(load_mono(tmp_path / "tape.wav", rate)))
    assert whole.shape == (5, 1 + (len(wave) - 2000) // 400)
    cache = SpectrogramCache(tmp_path / "cache", frontend.settings)
    with torch.no_grad():
        for frame in (0, 11, whole.shape[1] - 1):
            torch.testing.assert_close(
                cache.window("tape", frame)[:, 0], whole[:, frame], atol=2e-3, rtol=2e-3
            )
            audio = torch.from_numpy(wave[frame * 400 : frame * 400 + 2000])[None]
            torch.testing.assert_close(whole[:, frame], model(audio)[1][0], atol=1e-4, rtol=1e-4)


def test_unknown_output_names_the_key(tmp_path):
    _, path = export(tmp_path / "tiny.onnx", 0.25)
    with pytest.raises(ValueError, match=r"no output 'logits' \(features.NAME.output\).*stats"):
        build_frontend(onnx_features(path, output="logits"))
    with pytest.raises(FileNotFoundError, match="features.NAME.path"):
        build_frontend(onnx_features(tmp_path / "missing.onnx"))


class FirstDimension(nn.Module):
    def probabilities(self, x, metadata=None):
        return torch.stack([x[:, 0, 0, 0], -x[:, 0, 0, 0]], 1).softmax(1)


def test_prediction_places_embedding_windows_at_planted_calls(tmp_path):
    """Bursts centred at known times: the window that holds a whole burst (window 0.1 s,
    hop 0.05 s) has the most energy and starts 0.05 s before the burst's centre."""
    _, path = export(tmp_path / "tiny.onnx", 0.1)
    features = onnx_features(path, window_s=0.1, hop_s=0.05, output="stats")
    recording = tmp_path / "planted.wav"
    wave = write_planted_calls(recording, 8000, hz=1500)
    frontend = build_frontend(features)
    scorer = WindowScorer([FirstDimension()], frontend, torch.device("cpu"))
    (scores,) = score_recordings([recording], scorer, 1, 16, block_s=1.3)
    table = scores_table([recording], [scores], ["call", "noise"], frontend.settings, 0.05)
    assert len(table) == 1 + (len(wave) - 800) // 400
    assert_peaks_at_calls(table, 0.1)
