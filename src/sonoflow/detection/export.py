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
alone. Models with metadata fusion are exported in neither format.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from sonoflow.common.atomic import atomic_path, write_json
from sonoflow.datasets.noise_mining import NOISE
from sonoflow.detection.thresholds import best_thresholds
from sonoflow.features.spectrogram import FeatureFrontend, frame_windows
from sonoflow.features.window_frontend import WindowFrontend, window_samples
from sonoflow.prediction.onnx_graphs import OPSET, onnx_bytes
from sonoflow.prediction.predict import FoldEnsemble, load_fold_models

CPU = torch.device("cpu")


class Probabilities(nn.Module):
    """A fold model's class probabilities as its forward, for tracing."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model.probabilities(batch)


class ExportedEnsemble(nn.Module):
    """forward(waveform, hop_frames): mono float32 audio at the model's sample rate ->
    (windows, classes) probabilities averaged over the folds; window i starts at
    i * hop_frames * frame_s seconds."""

    def __init__(self, frontend: nn.Module, folds: nn.ModuleList, n_fft: int, frames: int):
        super().__init__()
        self.frontend, self.folds = frontend, folds
        self.n_fft, self.frames, self.batch_size = n_fft, frames, 256

    def forward(self, waveform: torch.Tensor, hop_frames: int) -> torch.Tensor:
        if waveform.size(-1) < self.n_fft:  # the traced front-end has no branch for this
            waveform = nn.functional.pad(waveform, [0, self.n_fft - waveform.size(-1)])
        parts: list[torch.Tensor] = []
        with torch.no_grad():
            windows = frame_windows(self.frontend(waveform), self.frames, hop_frames)
            for first in range(0, windows.size(0), self.batch_size):
                batch = self.frontend.normalize(windows[first : first + self.batch_size])
                batch = batch.unsqueeze(1)
                total = torch.zeros(0)
                for index, fold in enumerate(self.folds):
                    probs = fold(batch)
                    total = probs if index == 0 else total + probs
                parts.append(total / len(self.folds))
        return torch.cat(parts)


class _Channel(nn.Module):
    """(batch, bins, frames) -> (batch, 1, bins, frames), the models' input."""

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return windows.unsqueeze(1)


def onnx_ensemble(
    models: list[nn.Module], frontend: FeatureFrontend, classes: int
) -> tuple[bytes, dict]:
    """Audio windows -> averaged fold probabilities as an ONNX model, and its description."""
    samples = window_samples(frontend.settings)
    graph = nn.Sequential(WindowFrontend(frontend), _Channel(), FoldEnsemble(models))
    model = onnx_bytes(graph.eval(), torch.randn(2, samples) * 0.1, "audio", "scores")
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
    if any(checkpoint.get("metadata_encoder") for checkpoint in checkpoints):
        raise ValueError(
            f"{model_paths[0]}: models with metadata fusion cannot be exported (they need "
            "per-recording metadata besides audio)"
        )
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
        folds = nn.ModuleList([torch.jit.trace(Probabilities(m).eval(), batch) for m in models])
        ensemble = ExportedEnsemble(
            traced_frontend, folds, settings.n_fft, settings.frames_per_window
        )
        scripted = torch.jit.script(ensemble.eval())
    onnx_model, onnx_info = onnx_ensemble(models, frontend, len(classes))
    info = {
        "format": "torchscript",
        "call": "torch.jit.load(file)(waveform, hop_frames) -> (windows, classes)",
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
