"""Detector models: timm backbones on one-channel spectrograms."""

from __future__ import annotations

import timm
import torch
from torch import nn


def build_model(model_config: dict, n_classes: int) -> nn.Module:
    """A timm backbone with `in_chans=1` and a fresh classifier for `n_classes`."""
    return timm.create_model(
        model_config["backbone"],
        pretrained=False,
        in_chans=1,
        num_classes=n_classes,
        drop_rate=model_config.get("dropout", 0.0),
    )


def pick_device() -> torch.device:
    """CUDA when present, else CPU; never anything else."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def save_weights(path, model: nn.Module, state_dict: dict, meta: dict) -> None:
    """Weights plus the plain-data description needed to rebuild the model (weights_only-safe)."""
    from .atomic import atomic_path

    with atomic_path(path) as tmp:
        torch.save({"state_dict": state_dict, **meta}, tmp)


def load_weights(path, device: torch.device) -> tuple[nn.Module, dict]:
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model = build_model(checkpoint["model"], len(checkpoint["classes"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval(), checkpoint
