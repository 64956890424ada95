"""A recording with short tone bursts at known times, and the check that scores peak there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

CENTRES = [1.05, 4.6, 9.35, 12.0]


def write_planted_calls(path: Path, rate: int, hz: float, seconds: float = 14) -> np.ndarray:
    """Faint noise with 40 ms bursts at `hz` centred at CENTRES; returns the samples."""
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.001 * np.random.default_rng(0).standard_normal(len(t))
    for c in CENTRES:
        burst = np.abs(t - c) <= 0.02
        wave[burst] += 0.5 * np.sin(2 * np.pi * hz * t[burst])
    sf.write(path, wave.astype(np.float32), rate)
    return wave


def assert_peaks_at_calls(table: pd.DataFrame, window_s: float) -> None:
    """Near each planted call, the best-scoring window is the one centred on it."""
    centre_s = (table["start_s"] + table["end_s"]) / 2
    for c in CENTRES:
        near = table[(centre_s - c).abs() < 0.5]
        assert near.loc[near["call"].idxmax(), "start_s"] == pytest.approx(
            c - window_s / 2, abs=1e-9
        )
