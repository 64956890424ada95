"""Windowed prediction over long recordings: per-window class scores, not decisions."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .features import FeatureFrontend, FeatureSettings, frame_windows
from .metadata import metadata_batch, metadata_vector
from .models import load_weights, pick_device
from .spectrogram_cache import recording_spectrogram

log = logging.getLogger(__name__)


def window_step(settings: FeatureSettings, hop_s: float) -> int:
    """Frames between window starts; `hop_s` must be a whole number of frames."""
    step = hop_s / settings.frame_s
    if step < 1 or abs(step - round(step)) > 1e-6:
        raise ValueError(
            f"hop_s {hop_s} is not a positive multiple of the frame hop {settings.frame_s} s "
            f"(hop_length / sample_rate)"
        )
    return int(round(step))


def predict_recordings(
    recordings: list[Path],
    model_paths: list[Path],
    hop_s: float,
    batch_size: int = 64,
    threads: int = 1,
    metadata_csv: str | Path | None = None,
    metadata_key: str = "benchmarks.NAME.metadata",
) -> pd.DataFrame:
    """Scores per window: recording, start_s, end_s and one column per class, folds averaged.

    Models with metadata fusion read each recording's row of `metadata_csv` (config key
    `metadata_key`)."""
    torch.set_num_threads(max(1, threads))
    device = pick_device()
    models, checkpoints = zip(*(load_weights(p, device) for p in model_paths))
    classes, features = checkpoints[0]["classes"], checkpoints[0]["features"]
    if any(c["classes"] != classes or c["features"] != features for c in checkpoints):
        raise ValueError(f"fold models disagree on classes or features: {model_paths}")
    settings = FeatureSettings.from_config(features)
    frontend = FeatureFrontend(settings).to(device)
    step = window_step(settings, hop_s)
    parts = []
    for path in recordings:
        spectrogram = recording_spectrogram(path, frontend, device)
        windows = frame_windows(spectrogram, settings.frames_per_window, step)
        vectors = [metadata_vector(c, path.stem, metadata_csv, metadata_key) for c in checkpoints]
        scores = score_windows(windows, frontend, models, batch_size, vectors)
        starts = np.arange(len(windows)) * step * settings.frame_s
        frame = pd.DataFrame(scores, columns=classes)
        frame.insert(0, "end_s", starts + settings.window_s)
        frame.insert(0, "start_s", starts)
        frame.insert(0, "recording", path.stem)
        parts.append(frame)
        log.info("%s: %d windows scored", path.name, len(windows))
    empty = pd.DataFrame(columns=["recording", "start_s", "end_s", *classes])
    return pd.concat(
        [empty.astype({c: float for c in empty.columns[1:]}), *parts], ignore_index=True
    )


def score_windows(
    windows: torch.Tensor, frontend: FeatureFrontend, models, batch_size: int, vectors=None
) -> np.ndarray:
    """Probabilities (softmax, or sigmoid for multi-label models) averaged over the fold
    models, batch by batch; `vectors`: each model's metadata vector of the recording, or None."""
    vectors = vectors or [None] * len(models)
    out = []
    with torch.inference_mode():
        for first in range(0, len(windows), batch_size):
            batch = frontend.normalize(windows[first : first + batch_size]).unsqueeze(1)
            probs = torch.stack(
                [
                    m.probabilities(batch, metadata_batch(v, len(batch), batch.device))
                    for m, v in zip(models, vectors)
                ]
            ).mean(dim=0)
            out.append(probs.float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))
