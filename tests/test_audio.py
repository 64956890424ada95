import numpy as np
import pytest

from sonoflow.audio import AudioError, list_recordings, load_mono


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
