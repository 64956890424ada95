"""A trained fold ensemble as one TorchScript file and one ONNX file that take audio, plus a
JSON of what they need (sample rate, feature settings, classes, recommended thresholds).

The file holds the workflow's own pieces, traced or scripted: the feature front-end
(`FeatureFrontend`: STFT, filterbank, dB, per-window normalisation), the window cutting of
`frame_windows`, and each fold model's probabilities, averaged as `WindowScorer` does.
The TorchScript file loads with torch alone (Python or C++ libtorch) and needs neither
sonoflow nor timm. The ONNX file (`detector.onnx`) takes a batch of audio windows
(batch, window_samples) and returns their scores (batch, classes): the STFT as a
convolution (features.window_frontend), the filterbank, dB and normalisation, and the fold
models' probabilities averaged, all inside the graph; it runs with onnxruntime and numpy
alone. Models with metadata fusion take a second input, one metadata vector per recording
(TorchScript) or per window (ONNX), in a layout all folds share (`corpus.metadata.
shared_encoder`: numeric columns raw, since each fold standardises with its own means); each
fold's own encoding is a fixed affine map of it inside the file.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from sonoflow.common.atomic import atomic_path, write_json
from sonoflow.corpus.metadata import encoded_columns, encoder_map, shared_encoder
from sonoflow.datasets.noise_mining import NOISE
from sonoflow.detection.thresholds import best_thresholds
from sonoflow.features.spectrogram import FeatureFrontend, frame_windows
from sonoflow.features.window_frontend import WindowFrontend, window_samples
from sonoflow.prediction.onnx_graphs import OPSET, onnx_bytes
from sonoflow.prediction.predict import FoldEnsemble, load_fold_models

CPU = torch.device("cpu")


class Probabilities(nn.Module):
    """A fold model's class probabilities from windows and each window's row of the shared
    metadata vector (mapped to the fold's own encoding; ignored without fusion), for tracing."""

    def __init__(self, model: nn.Module, metadata_map: nn.Module | None = None):
        super().__init__()
        self.model, self.metadata_map = model, metadata_map

    def forward(self, batch: torch.Tensor, metadata: torch.Tensor) -> torch.Tensor:
        if self.metadata_map is None:
            return self.model.probabilities(batch)
        return self.model.probabilities(batch, self.metadata_map(metadata))


class ExportedEnsemble(nn.Module):
    """forward(waveform, hop_frames): mono float32 audio at the model's sample rate ->
    (windows, classes) probabilities averaged over the folds; window i starts at
    i * hop_frames * frame_s seconds."""

    def __init__(self, frontend: nn.Module, folds: nn.ModuleList, n_fft: int, frames: int):
        super().__init__()
        self.frontend, self.folds = frontend, folds
        self.n_fft, self.frames, self.batch_size = n_fft, frames, 256

    def forward(self, waveform: torch.Tensor, hop_frames: int) -> torch.Tensor:
        return self.scores(waveform, hop_frames, torch.zeros(0))

    def scores(
        self, waveform: torch.Tensor, hop_frames: int, metadata: torch.Tensor
    ) -> torch.Tensor:
        if waveform.size(-1) < self.n_fft:  # the traced front-end has no branch for this
            waveform = nn.functional.pad(waveform, [0, self.n_fft - waveform.size(-1)])
        parts: list[torch.Tensor] = []
        with torch.no_grad():
            windows = frame_windows(self.frontend(waveform), self.frames, hop_frames)
            for first in range(0, windows.size(0), self.batch_size):
                batch = self.frontend.normalize(windows[first : first + self.batch_size])
                batch = batch.unsqueeze(1)
                rows = metadata.unsqueeze(0).expand(batch.size(0), -1)
                total = torch.zeros(0)
                for index, fold in enumerate(self.folds):
                    probs = fold(batch, rows)
                    total = probs if index == 0 else total + probs
                parts.append(total / len(self.folds))
        return torch.cat(parts)


class FusionEnsemble(ExportedEnsemble):
    """forward(waveform, hop_frames, metadata): as ExportedEnsemble, with the recording's
    shared metadata vector (1-D) given to every window."""

    def forward(
        self, waveform: torch.Tensor, hop_frames: int, metadata: torch.Tensor
    ) -> torch.Tensor:
        return self.scores(waveform, hop_frames, metadata)


class MetadataMap(nn.Module):
    """The exported `metadata` input -> one fold model's encoded metadata vector: the fixed
    affine map of `corpus.metadata.encoder_map`."""

    def __init__(self, weight, bias):
        super().__init__()
        self.register_buffer("weight", torch.as_tensor(weight))
        self.register_buffer("bias", torch.as_tensor(bias))

    def forward(self, metadata: torch.Tensor) -> torch.Tensor:
        return metadata @ self.weight.T + self.bias


class _AudioGraph(nn.Module):
    """(audio windows[, metadata rows]) -> averaged fold probabilities, for ONNX."""

    def __init__(self, frontend: FeatureFrontend, models: list[nn.Module], maps: list[MetadataMap]):
        super().__init__()
        self.windows = WindowFrontend(frontend)
        self.ensemble = FoldEnsemble(models)
        self.maps = nn.ModuleList(maps)

    def forward(self, audio: torch.Tensor, metadata: torch.Tensor | None = None) -> torch.Tensor:
        batch = self.windows(audio).unsqueeze(1)
        if metadata is None:
            return self.ensemble(batch)
        return self.ensemble(batch, [each(metadata) for each in self.maps])


def metadata_maps(checkpoints: list[dict]) -> tuple[dict | None, list[MetadataMap]]:
    """The shared metadata encoder of fusion fold models and each fold's map from it (None
    and no maps for models without fusion)."""
    encoders = [checkpoint.get("metadata_encoder") for checkpoint in checkpoints]
    if not any(encoders):
        return None, []
    shared = shared_encoder(encoders)
    return shared, [MetadataMap(*encoder_map(encoder, shared)) for encoder in encoders]


def metadata_info(shared: dict) -> dict:
    """What the `metadata` input holds, for the JSON (docs/detect.md says how to compute it)."""
    return {
        "input": "metadata",
        "columns": encoded_columns(shared),
        "latitude": shared["spec"].get("latitude"),
        "longitude": shared["spec"].get("longitude"),
        "datetime": shared["spec"].get("datetime"),
    }


def onnx_ensemble(
    models: list[nn.Module],
    frontend: FeatureFrontend,
    classes: int,
    maps: list[MetadataMap] = (),
) -> tuple[bytes, dict]:
    """Audio windows (and, for fusion models, each window's shared metadata vector) ->
    averaged fold probabilities as an ONNX model, and its description."""
    samples = window_samples(frontend.settings)
    graph = _AudioGraph(frontend, models, list(maps)).eval()
    audio = torch.randn(2, samples) * 0.1
    if maps:
        metadata = torch.randn(2, maps[0].weight.shape[1])
        model = onnx_bytes(graph, (audio, metadata), ["audio", "metadata"], "scores")
    else:
        model = onnx_bytes(graph, audio, "audio", "scores")
    info = {
        "input": "audio",
        "input_shape": ["batch", samples],
        "output": "scores",
        "output_shape": ["batch", classes],
        "window_samples": samples,
        "frontend_inside": True,
        "inside": "STFT (as a convolution), filterbank, dB, per-window normalisation, "
        "fold models' probabilities averaged",
        "window_start_s": "window i of a recording starts at sample i * hop_frames * "
        "hop_length (i * hop_frames * frame_s seconds)",
        "opset": OPSET,
    }
    return model, info


def export_ensemble(model_paths: list[Path]) -> tuple[torch.jit.ScriptModule, dict]:
    """The fold models at `model_paths` as one TorchScript module, and their description
    (with the ONNX model's bytes under `onnx_model`)."""
    models, checkpoints, classes, frontend = load_fold_models(model_paths, CPU)
    shared, maps = metadata_maps(checkpoints)
    if not isinstance(frontend, FeatureFrontend):
        raise ValueError(
            f"{model_paths[0]}: only spectrogram front-ends are exported; this model reads "
            f"{frontend.settings.type} vectors, whose front-end TorchScript cannot trace"
        )
    settings = frontend.settings
    frontend = frontend.eval()
    wave = torch.randn(settings.sample_rate * 2 + settings.n_fft)
    windows = torch.randn(3, settings.n_bins, settings.frames_per_window)
    batch = torch.randn(3, 1, settings.n_bins, settings.frames_per_window)
    with warnings.catch_warnings():
        # torch marks TorchScript deprecated, but it is what loads without Python (libtorch)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced_frontend = torch.jit.trace_module(frontend, {"forward": wave, "normalize": windows})
        rows = torch.randn(len(batch), shared["width"] if maps else 0)
        wrapped = [Probabilities(m, f).eval() for m, f in zip(models, maps or [None] * len(models))]
        folds = nn.ModuleList([torch.jit.trace(fold, (batch, rows)) for fold in wrapped])
        kind = FusionEnsemble if maps else ExportedEnsemble
        ensemble = kind(traced_frontend, folds, settings.n_fft, settings.frames_per_window)
        scripted = torch.jit.script(ensemble.eval())
    onnx_model, onnx_info = onnx_ensemble(models, frontend, len(classes), maps)
    call = "(waveform, hop_frames, metadata)" if maps else "(waveform, hop_frames)"
    info = {
        "format": "torchscript",
        "call": f"torch.jit.load(file){call} -> (windows, classes)",
        "waveform": "1-D float32 mono audio in [-1, 1] at sample_rate",
        "window_start_s": "i * hop_frames * frame_s",
        "sample_rate": settings.sample_rate,
        "window_s": settings.window_s,
        "frame_s": settings.frame_s,
        "features": asdict(settings),
        "classes": classes,
        "labels": [c for c in classes if c != NOISE],
        "multi_label": bool(getattr(models[0], "multi_label", False)),
        "folds": [int(c.get("fold", i)) for i, c in enumerate(checkpoints)],
        "model": checkpoints[0]["model"],
        "onnx": onnx_info,
    }
    if shared:
        info["metadata"] = metadata_info(shared)
        info["onnx"]["inputs"] = ["audio", "metadata"]
    return scripted, {**info, "onnx_model": onnx_model}


def write_export(
    model_paths: list[Path],
    metrics: dict[str, str | Path],
    module_path: str | Path,
    info_path: str | Path,
    onnx_path: str | Path,
) -> dict:
    """Write the TorchScript file, the ONNX file and their JSON; `metrics`: benchmark ->
    metrics.csv whose best-F1 thresholds are recommended."""
    scripted, info = export_ensemble(model_paths)
    onnx_model = info.pop("onnx_model")
    info["onnx"]["file"] = Path(onnx_path).name
    info["thresholds"] = {
        benchmark: best_thresholds(path, info["labels"]) for benchmark, path in metrics.items()
    }
    info["file"] = Path(module_path).name
    with atomic_path(module_path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # see export_ensemble
        torch.jit.save(scripted, str(tmp))
    with atomic_path(onnx_path) as tmp:
        Path(tmp).write_bytes(onnx_model)
    write_json(info_path, info)
    return info
