"""The prediction pipeline: decoding pool, side copies, scores gathered in chunks, compilation."""

import logging

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from sonoflow.common.device import SideCopies
from sonoflow.common.logs import log_startup_at_first_forward
from sonoflow.corpus.audio import AudioError
from sonoflow.corpus.audio_blocks import decode_recordings, read_blocks
from sonoflow.features.spectrogram import FeatureFrontend, FeatureSettings
from sonoflow.prediction import predict
from sonoflow.prediction.onnx_graphs import OnnxModule
from sonoflow.prediction.predict import (
    ScoreGather,
    WindowScorer,
    auto_compile,
    score_recordings,
)

SETTINGS = FeatureSettings(sample_rate=16000, window_s=0.5, n_fft=512, hop_length=160, n_bins=48)
CPU = torch.device("cpu")


def noise_recording(path, seconds, seed, rate=16000):
    wave = 0.1 * np.random.default_rng(seed).standard_normal(int(seconds * rate))
    sf.write(path, wave.astype(np.float32), rate)
    return path


def test_decode_pool_gives_each_recordings_blocks_in_order(shared_data, tmp_path):
    paths = [noise_recording(tmp_path / f"r{i}.wav", 1 + i, i) for i in range(4)]
    paths.insert(2, shared_data / "real-audio/rugr_drum.wav")  # 32 kHz, resampled
    pooled = [list(blocks) for blocks in decode_recordings(paths, 16000, 0.3, workers=3, depth=2)]
    assert len(pooled) == len(paths)
    for path, blocks in zip(paths, pooled):
        alone = list(read_blocks(path, 16000, 0.3))
        assert len(blocks) == len(alone)
        for a, b in zip(blocks, alone):
            np.testing.assert_array_equal(a, b)


def test_decode_pool_raises_at_the_bad_recording_and_stops_early(tmp_path):
    good = noise_recording(tmp_path / "good.wav", 2, 0)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    recordings = decode_recordings([good, bad, good], 16000, 0.1, workers=2, depth=1)
    assert sum(len(b) for b in next(recordings)) == 32000
    with pytest.raises(AudioError, match="bad.wav: cannot read audio"):
        list(next(recordings))
    recordings.close()  # the pool's threads stop although their queues are full
    long = [noise_recording(tmp_path / f"long{i}.wav", 20, i) for i in range(3)]
    recordings = decode_recordings(long, 16000, 0.05, workers=3, depth=1)
    next(next(recordings))
    recordings.close()


def test_side_copies_on_cpu_are_the_plain_tensors():
    copies = SideCopies(CPU)
    array = np.arange(6, dtype=np.float32)
    np.testing.assert_array_equal(copies.to_device(array).numpy(), array)
    np.testing.assert_array_equal(copies.to_host(torch.ones(2, 3)).numpy(), np.ones((2, 3)))


def test_score_gather_splits_chunks_among_recordings():
    gather = ScoreGather(SideCopies(CPU), recordings=3, chunk=5)
    batches = [
        (torch.arange(8.0).reshape(4, 2), [(0, 3), (1, 1)]),
        (torch.arange(8.0, 14.0).reshape(3, 2), [(1, 3)]),
        (torch.arange(14.0, 18.0).reshape(2, 2), [(1, 1), (2, 1)]),
    ]
    for probs, owners in batches:
        gather.add(probs, owners)
    scores = gather.finish()
    flat = torch.arange(18.0).reshape(9, 2).numpy()
    np.testing.assert_array_equal(scores[0], flat[:3])
    np.testing.assert_array_equal(scores[1], flat[3:8])
    np.testing.assert_array_equal(scores[2], flat[8:])


class TinyDetector(nn.Module):
    """A small convolutional detector: cheap to compile, yet convolutions, pooling and a head."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(8, 3)
        self.eval()

    def forward(self, x, metadata=None):
        return self.head(self.body(x))

    def probabilities(self, x, metadata=None):
        return self(x).softmax(dim=1)


@pytest.mark.parametrize("mode", ["torch", "jit"])
def test_compiled_scores_equal_eager(tmp_path, mode):
    """Two recordings, a short last batch (padded to the compiled batch): within 1e-3. One
    small model keeps compilation cheap (torch.compile on CPU runs gcc)."""
    recordings = [noise_recording(tmp_path / f"r{i}.wav", s, i) for i, s in enumerate((2.6, 1.1))]
    frontend = FeatureFrontend(SETTINGS)
    models = [TinyDetector()]
    eager = score_recordings(recordings, WindowScorer(models, frontend, CPU), 7, batch_size=8)
    compiled_scorer = WindowScorer(models, frontend, CPU, compile=mode)
    compiled = score_recordings(recordings, compiled_scorer, 7, batch_size=8)
    assert [len(s) for s in compiled] == [len(s) for s in eager] == [30, 9]
    assert compiled_scorer.fixed_batch == 8
    for c, e in zip(compiled, eager):
        np.testing.assert_allclose(c, e, atol=1e-3)


def test_onnx_scores_equal_eager_with_the_fold_spread(tmp_path):
    """Two folds through onnxruntime, exported once at the first batch, any batch size."""
    recordings = [noise_recording(tmp_path / f"r{i}.wav", s, i) for i, s in enumerate((2.6, 1.1))]
    frontend = FeatureFrontend(SETTINGS)
    models = [TinyDetector(), TinyDetector()]
    with torch.no_grad():
        models[1].head.weight.mul_(-2.0)  # folds that disagree: a spread that is not zero
    eager = WindowScorer(models, frontend, CPU, spread=True)
    onnx = WindowScorer(models, frontend, CPU, compile="onnx", spread=True, threads=2)
    expected = score_recordings(recordings, eager, 7, batch_size=8)
    got = score_recordings(recordings, onnx, 7, batch_size=8)
    session = onnx.run.session
    assert session.get_session_options().intra_op_num_threads == 2
    assert session.get_providers() == ["CPUExecutionProvider"]
    assert [len(s) for s in got] == [30, 9] and got[0].shape[1] == 6
    assert got[0][:, 3:].max() > 1e-3  # the spread columns carry the folds' disagreement
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-3)
    score_recordings(recordings[1:], onnx, 7, batch_size=3)  # other batch sizes: same graph
    assert onnx.run.session is session


class TinyFusion(TinyDetector):
    """TinyDetector whose scores also depend on a 3-wide metadata vector."""

    def __init__(self):
        super().__init__()
        self.meta = nn.Linear(3, 3)

    def forward(self, x, metadata=None):
        return self.head(self.body(x)) + self.meta(metadata)

    def probabilities(self, x, metadata=None):
        return self(x, metadata).softmax(dim=1)


def test_onnx_scores_of_a_fusion_model_equal_eager(tmp_path):
    """Each fold's metadata rows (its own encoding of each recording) are inputs of the
    graph; two recordings with other metadata in one batch."""
    recordings = [noise_recording(tmp_path / f"r{i}.wav", s, i) for i, s in enumerate((2.6, 1.1))]
    frontend, models = FeatureFrontend(SETTINGS), [TinyFusion(), TinyFusion()]
    rng = np.random.default_rng(0)
    metadata = [rng.standard_normal((2, 3)).astype(np.float32) for _ in models]
    eager = WindowScorer(models, frontend, CPU, metadata)
    onnx = WindowScorer(models, frontend, CPU, metadata, compile="onnx")
    expected = score_recordings(recordings, eager, 7, batch_size=16)
    got = score_recordings(recordings, onnx, 7, batch_size=16)
    assert isinstance(onnx.run, OnnxModule) and len(onnx.run.inputs) == 3
    assert not np.allclose(expected[0][:1], expected[1][:1], atol=1e-2)  # metadata matters
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, atol=1e-3)


def test_jit_refuses_metadata_fusion():
    metadata = [np.zeros((1, 3), np.float32)]
    with pytest.raises(ValueError, match="compile `jit` cannot trace metadata fusion"):
        WindowScorer([TinyFusion()], FeatureFrontend(SETTINGS), CPU, metadata, compile="jit")


def test_auto_runs_onnx_on_the_cpu_with_eager_scores(tmp_path, caplog):
    recordings = [noise_recording(tmp_path / f"r{i}.wav", s, i) for i, s in enumerate((2.6, 1.1))]
    frontend, models = FeatureFrontend(SETTINGS), [TinyDetector(), TinyDetector()]
    expected = score_recordings(recordings, WindowScorer(models, frontend, CPU), 7, batch_size=8)
    auto = WindowScorer(models, frontend, CPU, compile="auto", threads=2)
    with caplog.at_level(logging.INFO, logger="sonoflow.prediction.predict"):
        got = score_recordings(recordings, auto, 7, batch_size=8)
    assert auto.compile == "onnx" and isinstance(auto.run, OnnxModule)
    assert "ONNX export and session: " in caplog.text
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, atol=1e-3)


def test_auto_runs_eagerly_on_a_gpu_and_onnx_on_the_cpu():
    assert auto_compile(torch.device("cuda")) == "none"
    assert auto_compile(CPU) == "onnx"
    metadata = [np.zeros((1, 3), np.float32)]
    scorer = WindowScorer([TinyFusion()], FeatureFrontend(SETTINGS), CPU, metadata, "auto")
    assert scorer.compile == "onnx"  # fusion models too


def test_auto_falls_back_to_eager_when_the_export_fails(tmp_path, monkeypatch, caplog):
    def unsupported(*args, **kwargs):
        raise RuntimeError("Exporting the operator 'aten::weird' to ONNX is not supported")

    monkeypatch.setattr(predict, "OnnxModule", unsupported)
    recordings = [noise_recording(tmp_path / "r.wav", 2.0, 3)]
    frontend, models = FeatureFrontend(SETTINGS), [TinyDetector()]
    expected = score_recordings(recordings, WindowScorer(models, frontend, CPU), 7, batch_size=8)
    auto = WindowScorer(models, frontend, CPU, compile="auto")
    with caplog.at_level(logging.INFO, logger="sonoflow.prediction.predict"):
        got = score_recordings(recordings, auto, 7, batch_size=8)
    assert auto.compile == "none"
    assert "cannot be exported to ONNX (Exporting the operator 'aten::weird'" in caplog.text
    np.testing.assert_array_equal(got[0], expected[0])
    with pytest.raises(RuntimeError, match="aten::weird"):  # asked for onnx: no fallback
        score_recordings(recordings, WindowScorer(models, frontend, CPU, compile="onnx"), 7, 8)


def test_unknown_compile_mode_is_named():
    with pytest.raises(ValueError, match="compile 'tensorrt' is not one of auto, none, torch"):
        WindowScorer([TinyDetector()], FeatureFrontend(SETTINGS), CPU, compile="tensorrt")


def test_startup_is_logged_at_the_first_model_batch(caplog):
    log_startup_at_first_forward(logging.getLogger("sonoflow.test"))
    model = TinyDetector()
    with caplog.at_level(logging.INFO, logger="sonoflow.test"):
        nn.Identity()(torch.zeros(1))  # not a model: no line
        assert not caplog.records
        model(torch.zeros(2, 1, 8, 8))
        model(torch.zeros(2, 1, 8, 8))
    (record,) = caplog.records
    assert record.getMessage().startswith("start-up: ")
    assert record.getMessage().endswith(" s from process start to first batch")
