"""The `statistics` front-end: per window, the mean and standard deviation over time of each
dB STFT bin and of each dB mel band (the tabular features of the VGGish + tabular system)."""

from __future__ import annotations

import torch

from sonoflow.features.registry import statistics_dims
from sonoflow.features.spectrogram import FeatureFrontend, FeatureSettings
from sonoflow.features.vectors import VectorFrontend, VectorSettings


class StatisticsFrontend(VectorFrontend):
    def __init__(self, features: dict):
        spectrum = FeatureSettings.from_config({**features, "scale": "mel"})
        super().__init__(
            VectorSettings(
                "statistics",
                spectrum.sample_rate,
                spectrum.window_s,
                float(features["hop_s"]),
                statistics_dims(features),
            )
        )
        # Both are the spectrogram front-end itself; the STFT bins are its output through an
        # identity filterbank, so the statistics describe exactly what a spectrogram shows.
        self.mel = FeatureFrontend(spectrum)
        self.bins = FeatureFrontend(spectrum)
        self.bins.filterbank = torch.eye(spectrum.n_fft // 2 + 1)

    def embed(self, windows: torch.Tensor) -> torch.Tensor:
        bins, mel = self.bins(windows), self.mel(windows)  # (n, bins, time)
        return torch.cat([bins.mean(-1), bins.std(-1), mel.mean(-1), mel.std(-1)], dim=1)
