import numpy as np
import pytest
import soundfile as sf

from sonoflow.corpus.audio import (
    AudioError,
    audio_info,
    list_recordings,
    load_mono,
    read_span,
    write_wav,
)
from sonoflow.corpus.audio_blocks import read_blocks


def test_resamples_to_requested_rate(shared_data):
    audio = load_mono(shared_data / "real-audio/great_plains_toad.wav", 16000)  # 44.1 kHz file
    assert audio.dtype == np.float32
    assert len(audio) == pytest.approx(44.6 * 16000, rel=0.01)


def test_reads_mp3(shared_data):
    audio = load_mono(shared_data / "real-audio/silence_10s.mp3", 8000)
    assert len(audio) == pytest.approx(80000, rel=0.01)


def test_empty_stereo_file_gives_no_samples(shared_data):
    assert load_mono(shared_data / "real-audio/empty_2c.wav", 16000).size == 0


def test_unreadable_file_is_named(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(AudioError, match="broken.wav"):
        load_mono(bad, 16000)


def test_lists_audio_only(shared_data):
    names = [p.name for p in list_recordings(shared_data / "real-audio")]
    assert "silence_10s.mp3" in names and "1min.wav" in names
    assert names == sorted(names)


def _two_channels(n: int = 8000) -> np.ndarray:
    t = np.arange(n) / 8000
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), np.full(n, 0.25)], axis=1)


@pytest.mark.parametrize(
    ("suffix", "subtype", "tolerance"),
    [
        (".wav", "PCM_U8", 0.02),
        (".wav", "PCM_16", 1e-3),
        (".wav", "PCM_24", 1e-5),
        (".wav", "FLOAT", 1e-6),
        (".flac", "PCM_24", 1e-5),
        (".ogg", "VORBIS", 0.1),
    ],
)
def test_formats_and_bit_depths_read_as_float_in_range(tmp_path, suffix, subtype, tolerance):
    stereo = _two_channels()
    path = tmp_path / f"two{suffix}"
    sf.write(path, stereo, 8000, subtype=subtype)
    right = load_mono(path, 8000, channel=1)
    assert right.dtype == np.float32
    assert np.median(right) == pytest.approx(0.25, abs=tolerance)  # the constant channel
    mix = load_mono(path, 8000, channel="mix")
    assert np.median(np.abs(mix - stereo.mean(axis=1))) < max(tolerance, 0.01)
    assert len(load_mono(path, 16000, channel=0)) == pytest.approx(16000, abs=2)  # resampled


def test_channel_picks_one_channel_and_mix_averages(tmp_path):
    path = tmp_path / "two.wav"
    stereo = _two_channels()
    sf.write(path, stereo, 8000, subtype="FLOAT")
    assert np.allclose(load_mono(path, 8000, 0), stereo[:, 0], atol=1e-6)
    assert np.allclose(load_mono(path, 8000, "mix"), stereo.mean(axis=1), atol=1e-6)


def test_channel_that_does_not_exist_is_named(tmp_path, shared_data):
    message = r"1min.wav: channel 1 requested, but the file has 1 channel\(s\) \(set corpus.channel"
    with pytest.raises(AudioError, match=message):
        load_mono(shared_data / "real-audio/1min.wav", 16000, channel=1)


def test_nan_samples_are_reported_with_the_first_position(tmp_path):
    audio = np.zeros(8000, dtype=np.float32)
    audio[4000:4010] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, audio, 8000, subtype="FLOAT")
    with pytest.raises(
        AudioError, match=r"nan.wav: 10 sample\(s\) are NaN .* sample 4000 \(0.500 s\)"
    ):
        load_mono(path, 8000)


def test_header_info_without_decoding(shared_data):
    info = audio_info(shared_data / "real-audio/great_plains_toad.wav")
    assert (info.sample_rate, info.channels) == (44100, 1)
    assert info.duration_s == pytest.approx(44.6, abs=0.1)
    assert audio_info(shared_data / "real-audio/stereo.wav").channels == 2


def test_cache_skips_unusable_recordings_only_when_asked(shared_data, tmp_path):
    from sonoflow.features.cache import build_cache
    from sonoflow.features.spectrogram import FeatureSettings

    settings = FeatureSettings(sample_rate=8000, n_bins=16, fmax=4000)
    files = [shared_data / "real-audio/empty_2c.wav", shared_data / "real-audio/aru_1.wav"]
    with pytest.raises(AudioError, match="empty_2c.wav: no samples"):
        build_cache(files, settings, tmp_path / "strict")
    index = build_cache(files, settings, tmp_path / "lenient", skip_bad=True)
    assert index["recording"].tolist() == ["aru_1"]


def test_a_span_is_the_same_samples_as_the_whole_file_read(tmp_path):
    stereo = _two_channels()
    sf.write(tmp_path / "two.wav", stereo, 8000, subtype="FLOAT")
    whole = load_mono(tmp_path / "two.wav", 8000, 1)
    span, rate = read_span(tmp_path / "two.wav", 0.25, 0.5, channel=1)
    assert rate == 8000 and np.array_equal(span, whole[2000:4000])
    past_end, _ = read_span(tmp_path / "two.wav", 100.0, 101.0)
    assert past_end.size == 0


def test_whole_and_block_reads_select_channels_alike(tmp_path):
    stereo = _two_channels()
    sf.write(tmp_path / "two.wav", stereo, 8000, subtype="FLOAT")
    for channel in ("mix", 0, 1):
        blocks = np.concatenate(list(read_blocks(tmp_path / "two.wav", 8000, 0.1, channel)))
        assert np.array_equal(blocks, load_mono(tmp_path / "two.wav", 8000, channel))
    for read in (
        lambda: load_mono(tmp_path / "two.wav", 8000, 2),
        lambda: list(
            read_blocks(tmp_path / "two.wav", 8000, channel=2, key="benchmarks.b.channel")
        ),
    ):
        with pytest.raises(AudioError, match=r"two.wav: channel 2 requested, but the file has 2"):
            read()


def test_written_wav_reads_back_as_16_bit(tmp_path):
    samples = np.linspace(-0.5, 0.5, 800, dtype=np.float32)
    write_wav(tmp_path / "out" / "x.wav", samples, 8000)
    assert sf.info(str(tmp_path / "out" / "x.wav")).subtype == "PCM_16"
    assert np.allclose(load_mono(tmp_path / "out" / "x.wav", 8000), samples, atol=1 / 2**15)
