"""A damaged or deleted spectrogram cache file is named, never a bare numpy or KeyError."""

import numpy as np
import pytest
import soundfile as sf

from sonoflow.features.cache import CacheFileError, SpectrogramCache, build_cache
from sonoflow.features.cache_index import missing_cache_files
from sonoflow.features.spectrogram import FeatureSettings

SETTINGS = FeatureSettings(sample_rate=8000, window_s=0.5, n_fft=256, hop_length=80, n_bins=16)


@pytest.fixture
def cache(tmp_path):
    recordings = []
    for name in ("a", "b"):
        path = tmp_path / "audio" / f"{name}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(path, np.random.default_rng(0).normal(0, 0.1, 8000).astype(np.float32), 8000)
        recordings.append(path)
    build_cache(recordings, SETTINGS, tmp_path / "cache")
    return tmp_path / "cache"


def test_truncated_cache_file_is_named(cache):
    target = cache / "spectrograms/a.npy"
    target.write_bytes(target.read_bytes()[:200])
    with pytest.raises(CacheFileError, match=r"a\.npy: spectrogram cache file .*delete"):
        SpectrogramCache(cache, SETTINGS).window("a", 0)
    assert SpectrogramCache(cache, SETTINGS).window("b", 0).shape[0] == SETTINGS.n_bins


def test_deleted_cache_file_is_found_from_the_index_and_named(cache):
    assert missing_cache_files(cache / "index.csv") == []
    (cache / "spectrograms/b.npy").unlink()
    assert missing_cache_files(cache / "index.csv") == [str(cache / "spectrograms/b.npy")]
    with pytest.raises(CacheFileError, match=r"b\.npy: spectrogram cache file missing"):
        SpectrogramCache(cache, SETTINGS).window("b", 0)


def test_nan_recording_is_skipped_by_the_cache_with_the_policy(tmp_path):
    good, bad = tmp_path / "good.wav", tmp_path / "bad.wav"
    sf.write(good, np.zeros(8000, dtype=np.float32), 8000)
    samples = np.zeros(8000, dtype=np.float32)
    samples[5] = np.nan
    sf.write(bad, samples, 8000, subtype="FLOAT")
    index = build_cache([good, bad], SETTINGS, tmp_path / "cache", skip_bad=True)
    assert index["recording"].tolist() == ["good"]
    with pytest.raises(CacheFileError, match=r"bad: not in the spectrogram cache .*bad audio"):
        SpectrogramCache(tmp_path / "cache", SETTINGS).window("bad", 0)


def test_a_window_longer_than_every_recording_warns_naming_the_key(tmp_path, caplog):
    """Accepted silently before (issue 24): every window was padded."""
    recordings = []
    for name, seconds in (("short", 0.3), ("shorter", 0.2)):
        path = tmp_path / f"{name}.wav"
        sf.write(path, np.zeros(int(seconds * 8000), np.float32), 8000)
        recordings.append(path)
    with caplog.at_level("WARNING", logger="sonoflow.features.cache"):
        build_cache(recordings, SETTINGS, tmp_path / "cache", key="features.mel16")
    assert (
        "features.mel16.window_s 0.5 s is longer than every recording (the longest, short.wav, "
        "lasts 0.3 s): every window is padded with silence; lower features.mel16.window_s to "
        "at most 0.3"
    ) in caplog.text
    caplog.clear()
    sf.write(tmp_path / "long.wav", np.zeros(8000, np.float32), 8000)
    with caplog.at_level("WARNING", logger="sonoflow.features.cache"):
        build_cache([*recordings, tmp_path / "long.wav"], SETTINGS, tmp_path / "c2")
    assert "longer than every recording" not in caplog.text


def test_reviewed_recordings_are_cached_under_their_names_and_read_beside_the_corpus(cache):
    """A review's recordings (nested paths) get their own cache folder; a SpectrogramCache
    given it as an extra folder reads them by their dataset names (reviewed/REVIEW/...)."""
    root = cache.parent / "season"
    (root / "siteA").mkdir(parents=True)
    sf.write(root / "siteA/r1.wav", np.zeros(12000, np.float32), 8000)
    extra = cache / "reviewed/spring"
    index = build_cache(
        [root / "siteA/r1.wav"], SETTINGS, extra, names=["siteA/r1"], prefix="reviewed/spring"
    )
    assert index["recording"].tolist() == ["reviewed/spring/siteA/r1"]
    assert (extra / "spectrograms/siteA/r1.npy").is_file()
    assert missing_cache_files(extra / "index.csv") == []
    both = SpectrogramCache(cache, SETTINGS, [extra])
    assert both.array("reviewed/spring/siteA/r1").shape[-1] == index["frames"][0]
    assert both.window("a", 0).shape == (SETTINGS.n_bins, SETTINGS.frames_per_window)
    with pytest.raises(CacheFileError, match="reviewed/spring/siteA/r1: not in the spectrogram"):
        SpectrogramCache(cache, SETTINGS).window("reviewed/spring/siteA/r1", 0)
    with pytest.raises(CacheFileError, match=r"recording 'a' is also in .*cache/index\.csv"):
        SpectrogramCache(cache, SETTINGS, [cache])
