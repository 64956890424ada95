import numpy as np
import pandas as pd
import pytest
import torch

from sonoflow.corpus.audio import load_mono
from sonoflow.features.cache import SpectrogramCache, build_cache
from sonoflow.features.spectrogram import (
    FeatureFrontend,
    FeatureSettings,
    frame_windows,
    spectrogram_in_blocks,
)
from sonoflow.features.window_frontend import WindowFrontend, window_samples
from sonoflow.training.clip_windows import ClipWindows

SETTINGS = FeatureSettings(sample_rate=16000, window_s=0.5, n_fft=512, hop_length=160, n_bins=48)


def test_cache_window_equals_window_of_whole_recording(shared_data, tmp_path):
    """The one feature function: a window read from the cache is the window prediction scores."""
    path = shared_data / "real-audio/rugr_drum.wav"
    build_cache([path], SETTINGS, tmp_path)
    frontend = FeatureFrontend(SETTINGS)
    whole = frontend(torch.from_numpy(load_mono(path, SETTINGS.sample_rate)))
    cache = SpectrogramCache(tmp_path, SETTINGS)
    windows = frame_windows(whole, SETTINGS.frames_per_window, step=10)  # what prediction takes
    for i in (0, 7, 31, len(windows) - 1):
        cached = cache.window("rugr_drum", i * 10)
        # float16 storage: dB values agree to float16 resolution
        torch.testing.assert_close(cached, windows[i], atol=0.07, rtol=1e-3)
        normalized = frontend.normalize(cached)
        torch.testing.assert_close(normalized, frontend.normalize(windows[i]), atol=0.01, rtol=1e-3)


def test_training_window_is_a_prediction_window(shared_data, tmp_path):
    path = shared_data / "real-audio/rugr_drum.wav"
    build_cache([path], SETTINGS, tmp_path)
    frontend = FeatureFrontend(SETTINGS)
    # a clip centred at 3.5 s gives the window that starts at 3.25 s
    clips = pd.DataFrame(
        {"recording": ["rugr_drum"], "start_s": [3.4], "end_s": [3.6], "label": ["x"]}
    )
    x, _, _ = ClipWindows(clips, SpectrogramCache(tmp_path, SETTINGS), frontend, ["x"])[0]
    whole = frontend(torch.from_numpy(load_mono(path, SETTINGS.sample_rate)))
    start = SETTINGS.frame_of(3.25)
    expected = frontend.normalize(whole[:, start : start + SETTINGS.frames_per_window])
    torch.testing.assert_close(x[0], expected, atol=0.01, rtol=1e-3)


def test_blocks_join_seamlessly():
    waveform = torch.randn(16000 * 3 + 77)
    frontend = FeatureFrontend(SETTINGS)
    torch.testing.assert_close(
        spectrogram_in_blocks(frontend, waveform, block_frames=37), frontend(waveform)
    )


def test_frame_times_are_exact():
    """A tone starting at 1.2 s first shows in the frame whose start time is just before it."""
    sr = SETTINGS.sample_rate
    t = np.arange(2 * sr) / sr
    wave = np.where(t >= 1.2, np.sin(2 * np.pi * 2000 * t), 0.0).astype(np.float32)
    spec = FeatureFrontend(SETTINGS)(torch.from_numpy(wave))
    loud = (spec.max(dim=0).values > -30).nonzero()[0].item()
    first_frame_start = loud * SETTINGS.frame_s
    assert 1.2 - SETTINGS.n_fft / sr <= first_frame_start <= 1.2


def test_linear_scale_and_short_recording():
    settings = FeatureSettings(scale="linear", n_bins=32, fmin=0, fmax=8000, window_s=0.5)
    frontend = FeatureFrontend(settings)
    spec = frontend(torch.randn(100))  # shorter than one FFT
    assert spec.shape == (32, 1)
    windows = frame_windows(spec, settings.frames_per_window, 5)
    assert windows.shape == (1, 32, settings.frames_per_window)


@pytest.mark.parametrize("scale", ["mel", "linear"])
def test_window_frontend_equals_the_feature_frontend_on_windows(scale):
    settings = FeatureSettings(sample_rate=16000, window_s=0.5, hop_length=160, scale=scale)
    frontend = FeatureFrontend(settings)
    t = torch.arange(3 * window_samples(settings)) / settings.sample_rate
    audio = (0.3 * torch.sin(2 * torch.pi * 1200 * t) + 0.01 * torch.randn(len(t))).reshape(3, -1)
    audio[1] = 0.0  # digital silence: -100 dB everywhere, normalised to zeros
    windows = WindowFrontend(frontend)(audio)
    expected = frontend.normalize(frontend(audio))
    assert windows.shape == (3, settings.n_bins, settings.frames_per_window) == expected.shape
    torch.testing.assert_close(windows, expected, atol=1e-4, rtol=0)
