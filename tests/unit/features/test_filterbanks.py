"""sonoflow's mel filterbanks equal librosa's (norm=None), so that a job need not import it."""

import librosa
import numpy as np
import pytest

from sonoflow.features.filterbanks import fft_frequencies, mel_filterbank


@pytest.mark.parametrize(
    ("rate", "n_fft", "n_mels", "fmin", "fmax", "htk"),
    [
        (16000, 512, 64, 0.0, 8000.0, False),  # the default front-end
        (16000, 1024, 32, 50.0, 6000.0, False),
        (32000, 512, 128, 500.0, 16000.0, False),  # bands narrower than an STFT bin
        (22050, 2048, 40, 1200.0, 9000.0, False),  # all above Slaney's 1 kHz break
        (16000, 512, 64, 125.0, 7500.0, True),  # VGGish
    ],
)
def test_mel_filterbank_equals_librosa(rate, n_fft, n_mels, fmin, fmax, htk):
    theirs = librosa.filters.mel(
        sr=rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=None
    )
    ours = mel_filterbank(rate, n_fft, n_mels, fmin, fmax, htk=htk)
    assert ours.shape == theirs.shape == (n_mels, n_fft // 2 + 1)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert ours.max() > 0.5  # triangles, not an all-zero matrix that would match too easily


def test_fft_frequencies_equal_librosa():
    np.testing.assert_allclose(
        fft_frequencies(32000, 512), librosa.fft_frequencies(sr=32000, n_fft=512), rtol=0, atol=0
    )
