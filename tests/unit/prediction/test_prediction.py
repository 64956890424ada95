"""Block-wise prediction: the same windows as the whole file, exact window times, bounded memory."""

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from torch import nn

from sonoflow.corpus.audio import AudioError, load_mono
from sonoflow.corpus.audio_blocks import prefetch, read_blocks
from sonoflow.features.spectrogram import FeatureFrontend, FeatureSettings, frame_windows
from sonoflow.features.streaming import stream_windows
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.models.weights import save_weights
from sonoflow.prediction.predict import (
    WindowScorer,
    full_batches,
    predict_recordings,
    score_recordings,
    scores_table,
)

SETTINGS = FeatureSettings(sample_rate=16000, window_s=0.5, n_fft=512, hop_length=160, n_bins=48)
CPU = torch.device("cpu")


def whole_file_windows(path, settings, step, channel=None):
    if channel is None:
        wave = load_mono(path, settings.sample_rate)
    else:
        audio, _ = sf.read(str(path), dtype="float32", always_2d=True)
        wave = np.ascontiguousarray(audio[:, channel])
    spectrogram = FeatureFrontend(settings)(torch.from_numpy(wave))
    return frame_windows(spectrogram, settings.frames_per_window, step)


def streamed_windows(path, settings, step, block_s, channel="mix"):
    blocks = read_blocks(path, settings.sample_rate, block_s, channel)
    return torch.cat(list(stream_windows(blocks, FeatureFrontend(settings), step, CPU)))


@pytest.mark.parametrize("block_s", [0.37, 1.0, 4.0])
def test_blocks_give_the_windows_of_the_whole_file(shared_data, block_s):
    """32 kHz recording resampled to 16 kHz block by block: the whole-file windows, to float
    tolerance (soxr's streaming and one-shot resampling agree to rounding)."""
    path = shared_data / "real-audio/rugr_drum.wav"
    whole = whole_file_windows(path, SETTINGS, step=7)
    streamed = streamed_windows(path, SETTINGS, step=7, block_s=block_s)
    assert streamed.shape == whole.shape
    torch.testing.assert_close(streamed, whole, atol=2e-3, rtol=1e-4)


def test_channel_choice_and_same_rate(tmp_path):
    rate = 16000
    t = np.arange(3 * rate) / rate
    left = 0.1 * np.sin(2 * np.pi * 440 * t)
    right = 0.3 * np.sin(2 * np.pi * 3000 * t) * (t > 1.3)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1).astype(np.float32), rate, subtype="FLOAT")
    for channel in (0, 1):
        torch.testing.assert_close(
            streamed_windows(path, SETTINGS, 5, 0.3, channel),
            whole_file_windows(path, SETTINGS, 5, channel),
        )
    torch.testing.assert_close(
        streamed_windows(path, SETTINGS, 5, 0.3, "mix"), whole_file_windows(path, SETTINGS, 5)
    )
    with pytest.raises(AudioError, match="stereo.wav: channel 2 requested, but the file has 2"):
        list(read_blocks(path, rate, channel=2))


@pytest.mark.parametrize("name", ["veryshort.wav", "empty_2c.wav", "LOCA_2021_09_24_652_3.wav"])
def test_short_and_empty_recordings(shared_data, name):
    path = shared_data / "real-audio" / name
    streamed = streamed_windows(path, SETTINGS, 10, block_s=0.2)
    whole = whole_file_windows(path, SETTINGS, 10)
    assert streamed.shape == whole.shape and len(streamed) >= 1
    torch.testing.assert_close(streamed, whole, atol=2e-3, rtol=1e-4)


def test_mp3_blocks(shared_data):
    """libsndfile decodes mp3 slightly differently at block boundaries (about -70 dB here):
    the waveform agrees to that, the windows in number."""
    path = shared_data / "real-audio/silence_10s.mp3"
    streamed = np.concatenate(list(read_blocks(path, 16000, block_s=2.0)))
    whole = load_mono(path, 16000)
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=5e-4)
    assert (
        streamed_windows(path, SETTINGS, 10, 2.0).shape
        == whole_file_windows(path, SETTINGS, 10).shape
    )


def test_prefetch_keeps_order_and_raises_producer_errors():
    assert list(prefetch(iter(range(100)), depth=2)) == list(range(100))

    def failing():
        yield 1
        raise AudioError("bad.wav: cannot decode audio")

    with pytest.raises(AudioError, match="bad.wav"):
        list(prefetch(failing()))


def test_full_batches_span_chunks_and_recordings():
    chunks = [(0, torch.zeros(5, 2, 3)), (0, torch.ones(4, 2, 3)), (1, torch.full((6, 2, 3), 2.0))]
    batches = list(full_batches(iter(chunks), 4))
    assert [len(b) for b, _ in batches] == [4, 4, 4, 3]
    assert [owners for _, owners in batches] == [
        [(0, 4)],
        [(0, 1), (0, 3)],
        [(0, 1), (1, 3)],
        [(1, 3)],
    ]
    joined = torch.cat([b for b, _ in batches])
    torch.testing.assert_close(joined, torch.cat([c for _, c in chunks]))


class CentreEnergy(nn.Module):
    """Scores a window by the loudness of its centre: a Gaussian-weighted mean over frames."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = x.shape[-1]
        position = torch.arange(frames, dtype=torch.float32) - (frames - 1) / 2
        weight = torch.exp(-0.5 * (position / 2.0) ** 2)
        loudness = (x.mean(dim=(1, 2)) * weight).sum(-1) / weight.sum()
        return torch.stack([loudness / 50, torch.zeros_like(loudness)], dim=1)

    def probabilities(self, x: torch.Tensor, metadata=None) -> torch.Tensor:
        return self(x).softmax(dim=1)


def test_planted_calls_peak_at_their_windows(tmp_path):
    """Short tone bursts centred at known times: the window centred on each scores highest."""
    settings = FeatureSettings(
        sample_rate=16000, window_s=0.5, n_fft=256, hop_length=160, n_bins=32, norm="none"
    )
    rate, hop_s = 16000, 0.05
    centres = [1.05, 4.6, 9.35, 12.0]  # multiples of hop_s, from the start of a window centre
    t = np.arange(int(14 * rate)) / rate
    wave = 0.001 * np.random.default_rng(0).standard_normal(len(t))
    for c in centres:
        burst = np.abs(t - c) <= 0.02
        wave[burst] += 0.5 * np.sin(2 * np.pi * 2500 * t[burst])
    path = tmp_path / "planted.wav"
    sf.write(path, wave.astype(np.float32), rate)
    scorer = WindowScorer([CentreEnergy()], FeatureFrontend(settings), CPU)
    step = round(hop_s / settings.frame_s)
    (scores,) = score_recordings([path], scorer, step, batch_size=16, block_s=1.3)
    table = scores_table([path], [scores], ["call", "noise"], settings, hop_s)
    frames = 1 + (len(wave) - settings.n_fft) // settings.hop_length  # no centre padding
    assert len(table) == 1 + (frames - settings.frames_per_window) // step
    centre_s = (table["start_s"] + table["end_s"]) / 2
    for c in centres:
        near = table[(centre_s - c).abs() < 0.5]
        best = near.loc[near["call"].idxmax()]
        assert best["start_s"] == pytest.approx(c - settings.window_s / 2, abs=1e-9)


def tiny_checkpoint(path, seed, classes, settings):
    torch.manual_seed(seed)
    config = model_with_defaults({"backbone": "resnet10t"})
    model = build_model(config, len(classes), (settings.n_bins, settings.frames_per_window))
    meta = {"model": config, "classes": classes, "features": settings.__dict__, "fold": seed}
    save_weights(path, model.state_dict(), meta)


def test_predict_recordings_averages_folds(shared_data, tmp_path):
    classes = ["drum", "noise"]
    paths = [tmp_path / f"fold{k}.pt" for k in (0, 1)]
    for k, p in enumerate(paths):
        tiny_checkpoint(p, k, classes, SETTINGS)
    recordings = [shared_data / "real-audio/rugr_drum.wav", shared_data / "real-audio/aru_1.wav"]
    both = predict_recordings(recordings, paths, hop_s=0.1, batch_size=32, block_s=2.0)
    single = [predict_recordings(recordings, [p], hop_s=0.1, batch_size=7) for p in paths]
    assert list(both.columns) == ["recording", "start_s", "end_s", *classes]
    assert both.groupby("recording").size().to_dict() == {"rugr_drum": 95, "aru_1": 25}
    np.testing.assert_allclose(both[classes].sum(axis=1), 1, atol=1e-5)
    mean = (single[0][classes] + single[1][classes]) / 2
    np.testing.assert_allclose(both[classes], mean, atol=1e-5)
    starts = both[both["recording"] == "aru_1"]["start_s"].to_numpy()
    np.testing.assert_allclose(starts, np.arange(25) * 0.1, atol=1e-9)
    assert isinstance(both, pd.DataFrame)


MEMORY_PROBE = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    import torch
    from sonoflow.corpus.audio_blocks import read_blocks
    from sonoflow.features.spectrogram import FeatureFrontend, FeatureSettings
    from sonoflow.features.streaming import stream_windows
    settings = FeatureSettings(sample_rate=16000, window_s=1.0, n_bins=64)
    frontend = FeatureFrontend(settings)
    blocks = read_blocks(Path(sys.argv[1]), 16000, block_s=10.0)
    count = sum(len(w) for w in stream_windows(blocks, frontend, 10, torch.device("cpu")))
    print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def synthetic_recording(path, minutes, rate=22050):
    rng = np.random.default_rng(1)
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as out:
        for _ in range(minutes):
            out.write((0.1 * rng.standard_normal(rate * 60)).astype(np.float32))


def test_peak_memory_does_not_grow_with_length(tmp_path):
    """1 and 12 minutes, resampled 22.05 -> 16 kHz: the whole 12-minute waveform and its
    spectrogram alone would take 65 MB; the streamed peak grows by far less."""
    peaks = {}
    for minutes in (1, 12):
        path = tmp_path / f"{minutes}min.wav"
        synthetic_recording(path, minutes)
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        frames = 1 + (minutes * 60 * 16000 - 512) // 160
        assert int(out[0]) == 1 + (frames - 100) // 10
        peaks[minutes] = int(out[1]) / 1024  # MB (ru_maxrss is in kB on Linux)
    assert peaks[12] - peaks[1] < 20, peaks
