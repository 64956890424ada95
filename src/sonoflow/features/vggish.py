"""The `embedding` front-end with `model: vggish`: VGGish (Hershey et al. 2017, "CNN
architectures for large-scale audio classification") written in PyTorch, 128-d per patch of
96 log-mel frames (25 ms every 10 ms, so 0.975 s of audio at 16 kHz) with 64 mel bands
125-7500 Hz. Weights come from `weights: PATH`, a state dict of `VGGish`; nothing is fetched.

The log-mel patch is computed here, not with the spectrogram front-end: VGGish was trained
on magnitude (not power) spectra of 400-sample frames zero-padded to a 512-point FFT, with
natural log(mel + 0.01), which the weights expect.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from sonoflow.features.filterbanks import mel_filterbank
from sonoflow.features.registry import KINDS
from sonoflow.features.vectors import VectorFrontend, VectorSettings

RATE, FRAME, HOP, FFT, BANDS, PATCH = 16000, 400, 160, 512, 64, 96


class VGGish(nn.Module):
    """(B, 1, 96, 64) log-mel patches -> (B, 128) embeddings (no PCA or quantisation)."""

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = []
        width = 1
        for widths in ([64], [128], [256, 256], [512, 512]):
            for out in widths:
                layers += [nn.Conv2d(width, out, 3, padding=1), nn.ReLU()]
                width = out
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(
            nn.Linear(512 * (PATCH // 16) * (BANDS // 16), 4096),
            nn.ReLU(),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, 128),
        )

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        return self.embeddings(self.features(patches).flatten(1))


class LogMelPatches(nn.Module):
    """(n, 15600) waveforms -> (n, 1, 96, 64) VGGish log-mel patches."""

    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.hann_window(FRAME, periodic=True), persistent=False)
        bank = mel_filterbank(RATE, FFT, BANDS, fmin=125, fmax=7500, htk=True)
        self.register_buffer("bank", torch.from_numpy(bank).T.contiguous(), persistent=False)

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        frames = waveforms.unfold(-1, FRAME, HOP) * self.window  # (n, 96, 400)
        magnitude = torch.fft.rfft(frames, n=FFT).abs()  # (n, 96, 257)
        return torch.log(magnitude @ self.bank + 0.01).unsqueeze(1)


class VGGishFrontend(VectorFrontend):
    def __init__(self, features: dict):
        kind = KINDS["vggish"]
        super().__init__(
            VectorSettings(
                kind.type, kind.sample_rate, kind.window_s, float(features["hop_s"]), kind.dims
            )
        )
        self.patches = LogMelPatches()
        self.model = VGGish().eval()
        self.model.load_state_dict(load_vggish_weights(features["weights"]))
        self.model.requires_grad_(False)

    def embed(self, windows: torch.Tensor) -> torch.Tensor:
        return self.model(self.patches(windows))


def load_vggish_weights(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"VGGish weights {path} not found (features.NAME.weights)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    expected = VGGish().state_dict()
    wrong = sorted(
        k for k in expected if k not in state or state[k].shape != expected[k].shape
    ) + sorted(set(state) - set(expected))
    if wrong:
        raise ValueError(
            f"{path}: not a state dict of sonoflow's VGGish (features.NAME.weights); "
            f"missing, misshapen or unknown: {wrong[:5]}"
        )
    return state
