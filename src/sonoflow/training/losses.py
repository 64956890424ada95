"""Loss registry (cross-entropy, focal, BCE with logits) and class weights for imbalance.

Every loss takes logits (B, C) and soft targets (B, C): one-hot rows, or mixed rows after
mixup.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

LOSSES = ("cross_entropy", "focal", "bce")


def class_counts(targets: np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(targets, minlength=n_classes).astype(float)


def balanced_weights(counts: np.ndarray) -> np.ndarray:
    """n / (k * count_c), scikit-learn's `balanced`; absent classes get weight 0."""
    counts = np.asarray(counts, dtype=float)
    present = counts > 0
    weights = np.zeros_like(counts)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def resolve_weights(setting, counts: np.ndarray, key: str) -> torch.Tensor | None:
    """None, `balanced` (from class frequencies) or an explicit list, one value per class."""
    if setting is None:
        return None
    if setting == "balanced":
        return torch.tensor(balanced_weights(counts), dtype=torch.float32)
    if len(setting) != len(counts):
        raise ValueError(
            f"model key {key}: {len(setting)} values for {len(counts)} classes (labels + noise)"
        )
    return torch.tensor(setting, dtype=torch.float32)


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017) on soft targets; softmax or, for multi-label, sigmoid.

    torchvision's sigmoid_focal_loss covers only the sigmoid case and torchvision is no
    dependency, so both are written here.
    """

    def __init__(self, gamma: float, alpha: torch.Tensor | None, multi_label: bool):
        super().__init__()
        self.gamma, self.multi_label = gamma, multi_label
        self.register_buffer("alpha", alpha)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.multi_label:
            p = torch.sigmoid(logits)
            ce = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
            p_true = p * targets + (1 - p) * (1 - targets)
            loss = ce * (1 - p_true) ** self.gamma
            if self.alpha is not None:
                loss = loss * self.alpha
            return loss.sum(dim=1).mean()
        log_p = logits.log_softmax(dim=1)
        loss = -targets * (1 - log_p.exp()) ** self.gamma * log_p
        if self.alpha is not None:
            loss = loss * self.alpha
        return loss.sum(dim=1).mean()


def build_loss(model_config: dict, counts: np.ndarray) -> nn.Module:
    """The loss `model_config["loss"]` names, weighted by `imbalance.class_weights`."""
    spec = model_config["loss"]
    multi_label = model_config["multi_label"]
    weights = resolve_weights(
        model_config["imbalance"]["class_weights"], counts, "imbalance.class_weights"
    )
    if spec["name"] == "cross_entropy":
        if multi_label:
            raise ValueError("model key loss.name: cross_entropy is single-label; use bce or focal")
        return nn.CrossEntropyLoss(weight=weights, label_smoothing=spec["label_smoothing"])
    if spec["name"] == "bce":
        return nn.BCEWithLogitsLoss(weight=weights)
    if spec["name"] == "focal":
        alpha = resolve_weights(spec["alpha"], counts, "loss.alpha")
        if weights is not None:
            alpha = weights if alpha is None else alpha * weights
        return FocalLoss(spec["gamma"], alpha, multi_label)
    raise ValueError(f"model key loss.name: {spec['name']!r} is not one of {LOSSES}")
