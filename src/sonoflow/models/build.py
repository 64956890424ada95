"""Build the detector a model config describes around a timm backbone: any name timm lists,
sonoflow's own `band_mlp` and `convnext_tiny_cbam` included, built with `in_chans=1`.

The MLPs (`band_mlp`, `mlp`) are built without timm: importing timm (torchvision with it)
takes seconds, most of a vector-MLP job's start-up. timm is imported for other backbones
only, and then also lists the MLPs (`timm_with_sonoflow_models`)."""

from __future__ import annotations

import math
from functools import cache
from types import ModuleType

from sonoflow.models.band_mlp import band_mlp
from sonoflow.models.detector import Detector
from sonoflow.models.registry import (
    BAND_MLP,
    VECTOR_MLP,
    check_backbone,
    pretrained_file,
    timm_name,
)
from sonoflow.models.vector_mlp import vector_mlp

# CNNs downsample by up to 32; smaller windows (few bins or frames) are padded to this.
MIN_SIDE = 32
OWN_MODELS = {BAND_MLP: band_mlp, VECTOR_MLP: vector_mlp}


@cache
def timm_with_sonoflow_models() -> ModuleType:
    """timm, with sonoflow's models registered: convnext_tiny_cbam (models/cbam.py) and the
    MLPs, so that timm.create_model and timm.list_models know them too."""
    import timm
    from timm.models import register_model

    from sonoflow.models import cbam  # noqa: F401  (registers itself)

    known = set(timm.list_models())
    for name, constructor in OWN_MODELS.items():
        if name not in known:
            register_model(constructor)
    return timm


def build_model(
    model_config: dict,
    n_classes: int,
    input_shape: tuple[int, int],
    metadata_width: int = 0,
    load_pretrained: bool = True,
) -> Detector:
    """The model a config describes, for inputs of (n_bins, frames) = `input_shape`.
    `model_config` has the schema's defaults filled in (models.config.model_with_defaults).

    With `load_pretrained` (training), the backbone starts from `pretrained_file`; prediction
    passes False because the trained weights follow.
    """
    backbone_name = model_config["backbone"]
    check_backbone(backbone_name)
    dropout = float(model_config["dropout"])
    name = timm_name(backbone_name)
    kwargs: dict = {"in_chans": 1, "num_classes": 0}
    pad_to = None
    if name in (BAND_MLP, VECTOR_MLP):
        kwargs.update(
            img_size=input_shape,
            hidden=list(model_config["hidden"]),
            drop_rate=dropout,
        )
    elif name.startswith(("vit_", "deit_")):
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
    if name in OWN_MODELS:
        backbone = OWN_MODELS[name](**kwargs)
    else:
        backbone = timm_with_sonoflow_models().create_model(name, **kwargs)
    metadata = model_config["metadata"]
    return Detector(
        backbone,
        backbone.num_features,
        n_classes,
        head_width=int(model_config["head_width"]),
        dropout=dropout,
        multi_label=bool(model_config["multi_label"]),
        pad_to=pad_to,
        metadata_width=metadata_width,
        metadata_hidden=int(metadata["hidden"]),
        fusion=metadata["fusion"],
    )
