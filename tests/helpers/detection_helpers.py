"""A season of recordings in nested folders (real recordings and broken files) and tiny fold
models, for the detection tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from sonoflow.features.spectrogram import FeatureSettings
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.models.weights import save_weights

SETTINGS = FeatureSettings(sample_rate=16000, window_s=0.5, n_fft=512, hop_length=160, n_bins=32)
CLASSES = ["drum", "song", "noise"]
# relative path in the season -> file of ../shared/data/real-audio
REAL = {
    "siteA/20240501_053000.wav": "rugr_drum.wav",
    "siteA/day2/20240502_061500.wav": "birds_10s.wav",
    "siteB/20240501_230000.wav": "aru_1.wav",
    "siteB/toad.wav": "great_plains_toad.wav",
    "siteB/quiet.mp3": "silence_10s.mp3",
    "siteC/stub.wav": "veryshort.wav",
    "siteC/empty_2c.wav": "empty_2c.wav",
    "siteC/stereo_header_only.wav": "stereo.wav",
}
BROKEN = {
    "siteC/not_audio.wav": "cannot read audio header",  # a text file
    "siteC/truncated_header.wav": "cannot read audio header",
    "siteC/nan_samples.wav": "NaN or infinite",
}
SCORED = [
    "siteA/20240501_053000.wav",
    "siteA/day2/20240502_061500.wav",
    "siteB/20240501_230000.wav",
    "siteB/quiet.mp3",
    "siteB/toad.wav",
    "siteC/stub.wav",
]


def make_season(root: Path, shared_data: Path) -> Path:
    """Copies of real recordings in nested folders, plus broken and hidden files."""
    for relative, name in REAL.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(shared_data / "real-audio" / name, root / relative)
    (root / "siteC/not_audio.wav").write_text("field notes, not audio\n" * 20)
    header = (shared_data / "real-audio/aru_1.wav").read_bytes()[:30]
    (root / "siteC/truncated_header.wav").write_bytes(header)
    wave = np.zeros(16000, dtype=np.float32)
    wave[4000] = np.nan
    sf.write(root / "siteC/nan_samples.wav", wave, 16000, subtype="FLOAT")
    (root / ".trash").mkdir()
    shutil.copy2(shared_data / "real-audio/aru_2.wav", root / ".trash/old.wav")
    (root / "siteA/._20240501_053000.wav").write_bytes(b"\x00\x05\x16\x07")
    (root / "siteA/notes.txt").write_text("not a recording")
    return root


def fold_models(folder: Path, folds: int = 2, backbone: str = "band_mlp") -> list[Path]:
    paths = []
    for fold in range(folds):
        torch.manual_seed(fold)
        config = model_with_defaults({"backbone": backbone, "hidden": [16]})
        model = build_model(config, len(CLASSES), (SETTINGS.n_bins, SETTINGS.frames_per_window))
        meta = {"model": config, "classes": CLASSES, "features": SETTINGS.__dict__, "fold": fold}
        path = folder / f"fold{fold}/model.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_weights(path, model.state_dict(), meta)
        paths.append(path)
    return paths
