"""Vector front-ends (statistics, concat): frames that describe exactly their own audio, read
from the cache as prediction computes them, windows placed at the right times."""

import numpy as np
import soundfile as sf
import torch
from planted_calls import assert_peaks_at_calls, write_planted_calls
from torch import nn

from sonoflow.corpus.audio import load_mono
from sonoflow.features.cache import SpectrogramCache, build_cache
from sonoflow.features.kinds import resolved_features
from sonoflow.features.registry import build_frontend, input_shape
from sonoflow.features.spectrogram import FeatureFrontend, FeatureSettings
from sonoflow.prediction.predict import WindowScorer, score_recordings, scores_table
from sonoflow.training.clip_windows import ClipWindows

STATS = {
    "type": "statistics",
    "sample_rate": 16000,
    "window_s": 0.5,
    "hop_s": 0.1,
    "n_fft": 512,
    "hop_length": 160,
    "n_bins": 32,
    "fmin": 50,
    "fmax": 8000,
}
CPU = torch.device("cpu")


def chirpy_recording(path, seconds=6.3, rate=22050):
    """Noise with tones, at another rate than the front-end's (the cache resamples)."""
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.01 * np.random.default_rng(3).standard_normal(len(t))
    wave += 0.3 * np.sin(2 * np.pi * (800 + 300 * t) * t) * (np.sin(2 * np.pi * 0.7 * t) > 0)
    sf.write(path, wave.astype(np.float32), rate)
    return path


def test_statistics_are_the_spectrogram_s_means_and_deviations():
    frontend = build_frontend(STATS)
    wave = torch.randn(STATS["sample_rate"])  # 1 s: frames at 0, 0.1, ... 0.5 s
    vectors = frontend(wave)
    assert vectors.shape == (2 * 257 + 2 * 32, 6) == (input_shape(STATS)[0], 6)
    spectrogram = FeatureSettings.from_config(STATS)
    mel = FeatureFrontend(spectrogram)(wave[1600 : 1600 + 8000])  # frame 1: 0.1 to 0.6 s
    torch.testing.assert_close(vectors[-64:-32, 1], mel.mean(-1))
    torch.testing.assert_close(vectors[-32:, 1], mel.std(-1))
    power = (
        torch.stft(
            wave[1600:9600],
            512,
            160,
            window=torch.hann_window(512),
            center=False,
            return_complex=True,
        ).abs()
        ** 2
    )
    torch.testing.assert_close(vectors[:257, 1], (10 * torch.log10(power + 1e-10)).mean(-1))


def test_cached_window_equals_the_window_of_the_whole_recording(tmp_path):
    path = chirpy_recording(tmp_path / "tape.wav")
    index = build_cache([path], STATS, tmp_path / "cache")
    frontend = build_frontend(STATS)
    wave = torch.from_numpy(load_mono(path, 16000))
    whole = frontend(wave)
    assert index["frames"].item() == 1 + (len(wave) - 8000) // 1600 == whole.shape[1]
    cache = SpectrogramCache(tmp_path / "cache", frontend.settings)
    for frame in (0, 7, whole.shape[1] - 1):
        cached = cache.window("tape", frame)
        assert cached.shape == (whole.shape[0], 1)
        torch.testing.assert_close(cached[:, 0], whole[:, frame], atol=0.05, rtol=1e-3)
        # the vector of frame k describes the samples [k * hop, k * hop + window) alone
        alone = frontend(wave[frame * 1600 : frame * 1600 + 8000])
        torch.testing.assert_close(alone[:, 0], whole[:, frame], atol=1e-3, rtol=1e-4)


def test_clip_window_is_the_vector_of_the_window_around_its_centre(tmp_path):
    import pandas as pd

    path = chirpy_recording(tmp_path / "tape.wav")
    build_cache([path], STATS, tmp_path / "cache")
    frontend = build_frontend(STATS)
    clips = pd.DataFrame({"recording": ["tape"], "start_s": [2.0], "end_s": [3.1], "label": ["x"]})
    cache = SpectrogramCache(tmp_path / "cache", frontend.settings)
    x, _, _ = ClipWindows(clips, cache, frontend, ["x"])[0]
    wave = torch.from_numpy(load_mono(path, 16000))
    expected = frontend(wave[23 * 1600 : 23 * 1600 + 8000])  # 2.3 to 2.8 s: centre 2.55 s
    assert x.shape == (1, expected.shape[0], 1)
    torch.testing.assert_close(x[0], expected, atol=0.05, rtol=1e-3)


def test_concat_joins_its_parts_frame_by_frame():
    other = {**STATS, "n_fft": 256, "n_bins": 16}
    section = {"a": STATS, "b": other, "ab": {"type": "concat", "parts": ["a", "b"]}}
    features = resolved_features(section, "ab")
    wave = torch.randn(20000)
    joined = build_frontend(features)(wave)
    expected = torch.cat([build_frontend(STATS)(wave), build_frontend(other)(wave)])
    torch.testing.assert_close(joined, expected)
    assert input_shape(features) == (joined.shape[0], 1)


class BandLoudness(nn.Module):
    """Scores a statistics vector by the mean level of mel bands `bands` (a planted tone's)."""

    def __init__(self, bands: slice):
        super().__init__()
        self.bands = bands

    def probabilities(self, x: torch.Tensor, metadata=None) -> torch.Tensor:
        loud = x[:, 0, self.bands, 0].mean(-1) / 10
        return torch.stack([loud, -loud], 1).softmax(1)


def test_planted_calls_peak_at_their_windows(tmp_path):
    """Tone bursts centred at known times: the window centred on each scores highest, and
    table times are frame times (window 0.1 s, hop 0.05 s)."""
    features = {**STATS, "window_s": 0.1, "hop_s": 0.05, "n_fft": 256}
    path = tmp_path / "planted.wav"
    wave = write_planted_calls(path, 16000, hz=2500)
    frontend = build_frontend(features)
    mel = 2 * 129
    scorer = WindowScorer([BandLoudness(slice(mel, mel + 32))], frontend, CPU)
    (scores,) = score_recordings([path], scorer, 1, batch_size=16, block_s=1.3)
    table = scores_table([path], [scores], ["call", "noise"], frontend.settings, 0.05)
    assert len(table) == 1 + (len(wave) - 1600) // 800
    np.testing.assert_allclose(table["start_s"], np.arange(len(table)) * 0.05, atol=1e-9)
    assert_peaks_at_calls(table, 0.1)
