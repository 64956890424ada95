"""Backbone names: presets (sonoflow's own timm models among them) and timm's catalogue,
and where their pretrained weights come from.

Config validation runs while Snakemake builds the DAG, so this module never imports timm
(seconds, torch with it) to check a name: it reads the names timm registers from timm's
source files, and imports timm only where those cannot be read.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from functools import cache
from pathlib import Path

# Tested presets: name -> timm model. Any other timm name works as well. `band_mlp`, `mlp`
# (for vector front-ends) and `convnext_tiny_cbam` are sonoflow's own, registered with timm
# in models/band_mlp.py, models/vector_mlp.py and models/cbam.py.
PRESETS = {
    "band_mlp": "band_mlp",
    "mlp": "vector_mlp",
    "resnet18": "resnet18",
    "resnet34": "resnet34",
    "resnet50": "resnet50",
    "efficientnet_b0": "efficientnet_b0",
    "convnext_tiny": "convnext_tiny",
    "convnext_tiny_cbam": "convnext_tiny_cbam",
    "vit_small": "vit_small_patch16_224",
}
BAND_MLP = "band_mlp"
VECTOR_MLP = "vector_mlp"
# Models whose pretrained weights are another model's (the attention is added after loading).
WEIGHTS_SOURCE = {"convnext_tiny_cbam": "convnext_tiny"}


# How timm's model files register an architecture (timm.models._registry.register_model):
# the names timm.list_models() returns. A test compares the two.
_REGISTERED = re.compile(r"^@register_model(?:\(\))?\s*\ndef (\w+)\(", re.M)


def timm_source_names() -> frozenset[str]:
    """The architectures timm registers, read from its installed source without importing it
    (empty when timm is not installed as source files)."""
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    return frozenset(
        name for source in models.glob("*.py") for name in _REGISTERED.findall(source.read_text())
    )


@cache
def _timm_names() -> frozenset[str]:
    names = timm_source_names()
    if names:
        return names
    import timm

    return frozenset(timm.list_models())


def timm_name(backbone: str) -> str:
    return PRESETS.get(backbone, backbone)


def check_backbone(backbone: str) -> None:
    """Raise ValueError naming close matches when `backbone` is neither a preset nor in timm."""
    if backbone in PRESETS or backbone in _timm_names():
        return
    known = sorted({*PRESETS, *_timm_names()})
    close = difflib.get_close_matches(backbone, known, n=5, cutoff=0.6)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise ValueError(f"unknown backbone {backbone!r} (not a preset nor a timm model){hint}")


def weights_name(backbone: str) -> str:
    """The timm model whose pretrained weights a backbone starts from."""
    name = timm_name(backbone)
    return WEIGHTS_SOURCE.get(name, name)


def pretrained_file(model_config: dict, weights_dir: str | Path | None = None) -> Path | None:
    """The weights file a model starts from: None, its timm weights downloaded into
    `weights_dir` (the workflow's download_weights folder), or a PATH."""
    pretrained = model_config["pretrained"]
    if pretrained is False or timm_name(model_config["backbone"]) in (BAND_MLP, VECTOR_MLP):
        return None
    if pretrained is True:
        if weights_dir is None:
            raise ValueError(
                "model key `pretrained`: true names timm's downloaded weights; pass their "
                "folder, or the file itself with with_pretrained_file"
            )
        return Path(weights_dir) / f"{weights_name(model_config['backbone'])}.pth"
    return Path(pretrained)


def with_pretrained_file(model_config: dict, weights_file: str | None) -> dict:
    """The model config with `pretrained: true` replaced by the file a job got as input."""
    if model_config["pretrained"] is True and weights_file is not None:
        return {**model_config, "pretrained": str(weights_file)}
    return model_config
