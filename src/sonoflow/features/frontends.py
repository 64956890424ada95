"""The front-end registry: `features.NAME.type` (and an embedding's `model`) -> the torch
module that the cache, training and prediction all call. Every module maps a (samples,)
waveform to (n_bins, frames) and has `settings` and `normalize`."""

from __future__ import annotations

from torch import nn

from sonoflow.features.frontend import FeatureFrontend, FeatureSettings
from sonoflow.features.kinds import FIXED_EMBEDDINGS, SPECTROGRAM, is_vector
from sonoflow.features.statistics import StatisticsFrontend, statistics_dims
from sonoflow.features.vectors import VectorFrontend


def build_frontend(features: dict | FeatureSettings) -> nn.Module:
    """The front-end of a features config (concat parts resolved, see kinds.resolved_features)
    or of spectrogram settings."""
    if isinstance(features, FeatureSettings):
        return FeatureFrontend(features)
    if not is_vector(features):
        return FeatureFrontend(FeatureSettings.from_config(features))
    return _vector_frontend(features)


def _vector_frontend(features: dict) -> VectorFrontend:
    kind = features["type"]
    if kind == "statistics":
        return StatisticsFrontend(features)
    if kind == "concat":
        from sonoflow.features.concat import ConcatFrontend

        return ConcatFrontend([_vector_frontend(part) for part in features["parts"]])
    model = features["model"]
    if model == "vggish":
        from sonoflow.features.vggish import VGGishFrontend

        return VGGishFrontend(features)
    if model == "onnx":
        from sonoflow.features.onnx_embedding import OnnxFrontend

        return OnnxFrontend(features)
    if model == "birdnet":
        from sonoflow.features.birdnet import BirdNETFrontend

        return BirdNETFrontend(features)
    raise ValueError(f"unknown embedding model {model!r} (features.NAME.model)")


def input_shape(features: dict) -> tuple[int, int]:
    """(n_bins, frames) of one model window: (dims, 1) for vector front-ends."""
    if not is_vector(features):
        settings = FeatureSettings.from_config(features)
        return settings.n_bins, settings.frames_per_window
    return _dims(features), 1


def _dims(features: dict) -> int:
    kind = features.get("type", SPECTROGRAM)
    if kind == "statistics":
        return statistics_dims(features)
    if kind == "concat":
        return sum(_dims(part) for part in features["parts"])
    if features["model"] in FIXED_EMBEDDINGS:
        return FIXED_EMBEDDINGS[features["model"]][2]
    return _vector_frontend(features).settings.dims  # onnx: the model says
