"""The torch device a job computes on."""

from __future__ import annotations

import torch


def pick_device() -> torch.device:
    """CUDA when present, else CPU; never anything else."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe_device_short(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
