"""Detector models: a registry of backbones on one-channel spectrograms, and a shared head.

Every model takes a spectrogram batch (B, 1, n_bins, frames), plus a metadata batch
(B, width) for fusion models, and returns logits (B, n_classes). Backbones are timm models
(any name timm lists, built with `in_chans=1`), the `convnext_tiny_cbam` registered in
`attention`, or `band_mlp`, an MLP over per-band means and standard deviations.
"""

from __future__ import annotations

import difflib
import math
from functools import cache
from pathlib import Path

import timm
import torch
from torch import nn

from . import attention  # noqa: F401  (registers convnext_tiny_cbam with timm)

# Tested presets: name -> timm model. Any other timm name works as well.
PRESETS = {
    "resnet18": "resnet18",
    "resnet34": "resnet34",
    "resnet50": "resnet50",
    "efficientnet_b0": "efficientnet_b0",
    "convnext_tiny": "convnext_tiny",
    "convnext_tiny_cbam": "convnext_tiny_cbam",
    "vit_small": "vit_small_patch16_224",
}
BAND_MLP = "band_mlp"
# Models whose pretrained weights are another model's (the attention is added after loading).
WEIGHTS_SOURCE = {"convnext_tiny_cbam": "convnext_tiny"}
WEIGHTS_DIR = Path("resources/weights")
# CNNs downsample by up to 32; smaller windows (few bins or frames) are padded to this.
MIN_SIDE = 32


@cache
def _timm_names() -> frozenset[str]:
    return frozenset(timm.list_models())


def timm_name(backbone: str) -> str:
    return PRESETS.get(backbone, backbone)


def check_backbone(backbone: str) -> None:
    """Raise ValueError naming close matches when `backbone` is neither a preset nor in timm."""
    if backbone == BAND_MLP or backbone in PRESETS or backbone in _timm_names():
        return
    known = sorted({BAND_MLP, *PRESETS, *_timm_names()})
    close = difflib.get_close_matches(backbone, known, n=5, cutoff=0.6)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise ValueError(f"unknown backbone {backbone!r} (not a preset nor a timm model){hint}")


def weights_name(backbone: str) -> str:
    """The timm model whose pretrained weights a backbone starts from."""
    name = timm_name(backbone)
    return WEIGHTS_SOURCE.get(name, name)


def pretrained_file(model_config: dict) -> Path | None:
    """The weights file a model starts from: None, its downloaded timm weights, or a PATH."""
    pretrained = model_config.get("pretrained", False)
    if pretrained is False or model_config["backbone"] == BAND_MLP:
        return None
    if pretrained is True:
        return WEIGHTS_DIR / f"{weights_name(model_config['backbone'])}.pth"
    return Path(pretrained)


def download_weights(backbone_weights: str, path: str | Path) -> None:
    """Fetch timm's pretrained weights for a model and store its state dict at `path`."""
    from .atomic import atomic_path

    model = timm.create_model(backbone_weights, pretrained=True)
    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)


class BandStats(nn.Module):
    """Per-band mean and standard deviation over time: (B, 1, bins, frames) -> (B, 2 * bins)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1, 2)  # (B, bins, frames)
        return torch.cat([x.mean(dim=-1), x.std(dim=-1)], dim=1)


def band_mlp(n_bins: int, hidden: list[int], dropout: float) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = [BandStats()]
    width = 2 * n_bins
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
        width = size
    return nn.Sequential(*layers), width


class Detector(nn.Module):
    """Backbone -> pooled features -> (optional metadata fusion) -> classifier head."""

    def __init__(
        self,
        backbone: nn.Module,
        n_features: int,
        n_classes: int,
        head_width: int = 0,
        dropout: float = 0.0,
        multi_label: bool = False,
        pad_to: tuple[int, int] | None = None,
        metadata_width: int = 0,
        metadata_hidden: int = 32,
        fusion: str = "none",
    ):
        super().__init__()
        self.backbone, self.multi_label, self.pad_to = backbone, multi_label, pad_to
        self.fusion = fusion if metadata_width else "none"
        head_in = n_features
        if self.fusion != "none":
            self.metadata_net = nn.Sequential(
                nn.Linear(metadata_width, metadata_hidden),
                nn.ReLU(),
                nn.Linear(metadata_hidden, metadata_hidden),
                nn.ReLU(),
            )
            if self.fusion == "concat":
                head_in += metadata_hidden
            else:  # gate: metadata scales each backbone feature by a learned factor in (0, 1)
                self.gate = nn.Linear(metadata_hidden, n_features)
        if head_width:
            self.head = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(head_in, head_width),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(head_width, n_classes),
            )
        else:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(head_in, n_classes))

    @property
    def uses_metadata(self) -> bool:
        return self.fusion != "none"

    def forward(self, x: torch.Tensor, metadata: torch.Tensor | None = None) -> torch.Tensor:
        if self.pad_to is not None:  # whole ViT patches, or a CNN's least size; 0 is the mean
            x = nn.functional.pad(
                x, (0, self.pad_to[1] - x.shape[-1], 0, self.pad_to[0] - x.shape[-2])
            )
        features = self.backbone(x)
        if self.uses_metadata:
            if metadata is None:
                raise ValueError("this model fuses recording metadata; none was given")
            encoded = self.metadata_net(metadata.to(features.dtype))
            if self.fusion == "concat":
                features = torch.cat([features, encoded], dim=1)
            else:
                features = features * torch.sigmoid(self.gate(encoded))
        return self.head(features)

    def probabilities(self, x: torch.Tensor, metadata: torch.Tensor | None = None) -> torch.Tensor:
        """Sigmoid scores for multi-label models, softmax otherwise."""
        logits = self(x, metadata)
        return torch.sigmoid(logits) if self.multi_label else logits.softmax(dim=1)


def build_model(
    model_config: dict,
    n_classes: int,
    input_shape: tuple[int, int],
    metadata_width: int = 0,
    load_pretrained: bool = True,
) -> Detector:
    """The model a config describes, for inputs of (n_bins, frames) = `input_shape`.

    With `load_pretrained` (training), the backbone starts from `pretrained_file`; prediction
    passes False because the trained weights follow.
    """
    backbone_name = model_config["backbone"]
    check_backbone(backbone_name)
    dropout = float(model_config.get("dropout", 0.0))
    pad_to = None
    if backbone_name == BAND_MLP:
        backbone, n_features = band_mlp(
            input_shape[0], list(model_config.get("hidden", [200, 100])), dropout
        )
    else:
        name = timm_name(backbone_name)
        kwargs: dict = {"in_chans": 1, "num_classes": 0}
        if name.startswith(("vit_", "deit_")):
            patch = 16 if "patch16" in name else 32 if "patch32" in name else 8
            pad_to = tuple(math.ceil(n / patch) * patch for n in input_shape)
            kwargs["img_size"] = pad_to
        elif min(input_shape) < MIN_SIDE:
            pad_to = tuple(max(n, MIN_SIDE) for n in input_shape)
        weights = pretrained_file(model_config) if load_pretrained else None
        if weights is not None:
            if not weights.exists():
                raise FileNotFoundError(
                    f"pretrained weights {weights} not found (model key `pretrained`; with "
                    "`true` the workflow's download_weights rule fetches them)"
                )
            kwargs.update(pretrained=True, pretrained_cfg_overlay={"file": str(weights)})
        backbone = timm.create_model(name, **kwargs)
        n_features = backbone.num_features
    metadata = model_config.get("metadata") or {}
    return Detector(
        backbone,
        n_features,
        n_classes,
        head_width=int(model_config.get("head_width", 0)),
        dropout=dropout,
        multi_label=bool(model_config.get("multi_label", False)),
        pad_to=pad_to,
        metadata_width=metadata_width,
        metadata_hidden=int(metadata.get("hidden", 32)),
        fusion=metadata.get("fusion", "none"),
    )


def pick_device() -> torch.device:
    """CUDA when present, else CPU; never anything else."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe_device_short(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def save_weights(path, state_dict: dict, meta: dict) -> None:
    """Weights plus the plain-data description needed to rebuild the model (weights_only-safe).

    `meta` holds `classes`, `model` (its config), `features` and, for fusion models,
    `metadata_encoder` (see metadata.py).
    """
    from .atomic import atomic_path

    with atomic_path(path) as tmp:
        torch.save({"state_dict": state_dict, **meta}, tmp)


def input_shape_of(features: dict) -> tuple[int, int]:
    from .features import FeatureSettings

    settings = FeatureSettings.from_config(features)
    return settings.n_bins, settings.frames_per_window


def load_weights(path, device: torch.device) -> tuple[Detector, dict]:
    checkpoint = torch.load(path, map_location=device, weights_only=True)
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
