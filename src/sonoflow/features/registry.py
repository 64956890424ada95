"""The front-end registry: one entry per kind of front-end, `features.NAME.type` (and an
embedding's `model`) -> what the kind needs (a file key), what it fixes (sample rate, window,
width) and the torch module that the cache, training and prediction all call. Every module
maps a (samples,) waveform to (n_bins, frames) and has `settings` and `normalize`.

Free of torch: Snakemake reads the table while it builds the DAG, so a builder is named by
module and attribute and imported only when a front-end is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

SPECTROGRAM = "spectrogram"
EMBEDDING = "embedding"


@dataclass(frozen=True)
class FrontendKind:
    """One kind of front-end. `name` is its `type`, or for an embedding its `model`."""

    name: str
    type: str
    builder: str  # "module:attribute", called with the (resolved) features config
    file_key: str | None = None  # the config key of a file the front-end reads
    # Fixed by the model's training (else the config's sample_rate and window_s, and a width
    # computed from the config or from the built front-end):
    sample_rate: int | None = None
    window_s: float | None = None
    dims: int | None = None
    width: Callable[[dict], int] | None = None  # the width computed from the config
    joins_parts: bool = False  # concat: rate, window and hop are its parts'
    min_stft_frames: int = 0  # STFT frames one window must hold (2: a standard deviation)

    @property
    def vector(self) -> bool:
        return self.type != SPECTROGRAM

    def build(self, features: dict):
        module, attribute = self.builder.split(":")
        target = import_module(module)
        for part in attribute.split("."):
            target = getattr(target, part)
        return target(features)


def statistics_dims(features: dict) -> int:
    """Mean and standard deviation of each STFT bin and of each mel band."""
    return 2 * (int(features["n_fft"]) // 2 + 1) + 2 * int(features["n_bins"])


def _parts_dims(features: dict) -> int:
    return sum(vector_dims(part) for part in features["parts"])


_KIND_LIST = (
    FrontendKind(SPECTROGRAM, SPECTROGRAM, "sonoflow.features.spectrogram:spectrogram_frontend"),
    FrontendKind(
        "statistics",
        "statistics",
        "sonoflow.features.statistics:StatisticsFrontend",
        width=statistics_dims,
        min_stft_frames=2,
    ),
    FrontendKind(
        "concat",
        "concat",
        "sonoflow.features.concat:ConcatFrontend.from_config",
        width=_parts_dims,
        joins_parts=True,
    ),
    # VGGish: 96 frames of 25 ms every 10 ms (its "0.96 s" patch spans 0.975 s of audio).
    FrontendKind(
        "vggish",
        EMBEDDING,
        "sonoflow.features.vggish:VGGishFrontend",
        file_key="weights",
        sample_rate=16000,
        window_s=0.975,
        dims=128,
    ),
    FrontendKind(
        "onnx", EMBEDDING, "sonoflow.features.onnx_embedding:OnnxFrontend", file_key="path"
    ),
    FrontendKind(
        "birdnet",
        EMBEDDING,
        "sonoflow.features.birdnet:BirdNETFrontend",
        sample_rate=48000,
        window_s=3.0,
        dims=1024,
    ),
)
KINDS: dict[str, FrontendKind] = {kind.name: kind for kind in _KIND_LIST}


def kind_of(features: dict) -> FrontendKind:
    """The registry entry of a features config."""
    kind_type = features.get("type", SPECTROGRAM)
    name = features.get("model") if kind_type == EMBEDDING else kind_type
    kind = KINDS.get(name)
    if kind is None or kind.type != kind_type:
        field = "model" if kind_type == EMBEDDING else "type"
        raise ValueError(f"unknown {kind_type} {field} {name!r} (features.NAME.{field})")
    return kind


def build_frontend(features):
    """The front-end of a features config (concat parts resolved, see kinds.resolved_features)
    or of spectrogram settings (a FeatureSettings)."""
    if not isinstance(features, dict):
        from sonoflow.features.spectrogram import FeatureFrontend

        return FeatureFrontend(features)
    return kind_of(features).build(features)


PLACEHOLDER = "features.NAME"  # how a front-end's errors name its own config key


def named_frontend(features, key: str):
    """build_frontend, with the front-end's errors naming its config key `key` (for
    example `features.loud`) instead of `features.NAME`. A concat's errors keep the
    placeholder: which of its parts failed shows by the file named."""
    try:
        return build_frontend(features)
    except (ValueError, FileNotFoundError, ImportError) as err:
        text = str(err)
        if PLACEHOLDER not in text or not isinstance(features, dict):
            raise
        if kind_of(features).joins_parts:
            raise
        raise type(err)(text.replace(PLACEHOLDER, key)) from err


def vector_dims(features: dict) -> int:
    """Width of the vectors of a (resolved) vector front-end."""
    kind = kind_of(features)
    if kind.dims is not None:
        return kind.dims
    if kind.width is not None:
        return kind.width(features)
    return kind.build(features).settings.dims  # onnx: the model says


def input_shape(features: dict) -> tuple[int, int]:
    """(n_bins, frames) of one model window: (dims, 1) for vector front-ends."""
    if kind_of(features).vector:
        return vector_dims(features), 1
    from sonoflow.features.spectrogram import FeatureSettings

    settings = FeatureSettings.from_config(features)
    return settings.n_bins, settings.frames_per_window
