"""Mel filterbanks (triangular, unnormalised) as librosa.filters.mel(norm=None) builds them.

Written out here because librosa's filters module imports numba and loads its compiled
functions, one to two seconds of every training and prediction job's start-up for a
matrix of a few kilobytes. tests/unit/features/test_filterbanks.py checks these equal
librosa's, Slaney and HTK mel scales, for the settings the front-ends use.
"""

from __future__ import annotations

import numpy as np

# Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above.
_SLANEY_HZ_PER_MEL = 200.0 / 3
_SLANEY_BREAK_HZ = 1000.0
_SLANEY_BREAK_MEL = _SLANEY_BREAK_HZ / _SLANEY_HZ_PER_MEL
_SLANEY_LOG_STEP = np.log(6.4) / 27.0


def fft_frequencies(sample_rate: float, n_fft: int) -> np.ndarray:
    """The centre frequency of each one-sided STFT bin."""
    return np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)


def hz_to_mel(hz: np.ndarray, htk: bool = False) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + hz / 700.0)
    linear = hz / _SLANEY_HZ_PER_MEL
    logarithmic = _SLANEY_BREAK_MEL + np.log(np.maximum(hz, 1e-10) / _SLANEY_BREAK_HZ) / (
        _SLANEY_LOG_STEP
    )
    return np.where(hz >= _SLANEY_BREAK_HZ, logarithmic, linear)


def mel_to_hz(mel: np.ndarray, htk: bool = False) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    linear = mel * _SLANEY_HZ_PER_MEL
    logarithmic = _SLANEY_BREAK_HZ * np.exp(_SLANEY_LOG_STEP * (mel - _SLANEY_BREAK_MEL))
    return np.where(mel >= _SLANEY_BREAK_MEL, logarithmic, linear)


def mel_filterbank(
    sample_rate: float, n_fft: int, n_mels: int, fmin: float, fmax: float, htk: bool = False
) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) float32: band i rises from edge i to peak i + 1 and falls to
    edge i + 2, the n_mels + 2 edges equally spaced in mels from fmin to fmax."""
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    widths = np.diff(edges)
    offsets = edges[:, None] - fft_frequencies(sample_rate, n_fft)[None, :]
    rising = -offsets[:-2] / widths[:-1, None]
    falling = offsets[2:] / widths[1:, None]
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
