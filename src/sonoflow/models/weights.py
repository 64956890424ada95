"""Model files: timm's pretrained weights fetched once, trained detectors saved and loaded."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from sonoflow.common.atomic import atomic_path
from sonoflow.features.registry import input_shape
from sonoflow.models.build import build_model
from sonoflow.models.detector import Detector


def download_weights(backbone_weights: str, path: str | Path) -> None:
    """Fetch timm's pretrained weights for a model and store its state dict at `path`."""
    import timm  # seconds to import; only this job and CNN builds need it

    model = timm.create_model(backbone_weights, pretrained=True)
    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)


def save_weights(path, state_dict: dict, model_info: dict) -> None:
    """Weights plus the plain-data description needed to rebuild the model (weights_only-safe).

    `model_info` holds `classes`, `model` (its config), `features` and, for fusion models,
    `metadata_encoder` (see metadata.py).
    """
    with atomic_path(path) as tmp:
        torch.save({"state_dict": state_dict, **model_info}, tmp)


def input_shape_of(features: dict) -> tuple[int, int]:
    return input_shape(features)


def load_weights(path, device: torch.device) -> tuple[Detector, dict]:
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as err:
        raise ValueError(
            f"{path}: model file cannot be read, truncated or corrupt ({err}); delete it and "
            "rerun the job that writes it"
        ) from err
    encoder = checkpoint.get("metadata_encoder")
    model = build_model(
        checkpoint["model"],
        len(checkpoint["classes"]),
        input_shape_of(checkpoint["features"]),
        metadata_width=encoder["width"] if encoder else 0,
        load_pretrained=False,
    )
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval(), checkpoint
