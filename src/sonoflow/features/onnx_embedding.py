"""The `embedding` front-end with `model: onnx`: any ONNX model that maps (batch, samples)
float waveforms of `window_s` at `sample_rate` to one output per window, run with
onnxruntime on the CPU; the chosen output, flattened, is the window's vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sonoflow.features.vectors import VectorFrontend, VectorSettings

PATH_KEY = "features.NAME.path"  # named in errors; build_cache puts the real name in


class OnnxFrontend(VectorFrontend):
    def __init__(self, features: dict):
        import onnxruntime

        path = Path(features["path"])
        if not path.is_file():
            raise FileNotFoundError(f"ONNX model {path} not found ({PATH_KEY})")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime's own classes (InvalidProtobuf, Fail, ...)
            raise ValueError(
                f"{path}: onnxruntime cannot load this file as an ONNX model ({PATH_KEY}): "
                f"{type(err).__name__}: {err}"
            ) from err
        self.input = self._name(features.get("input"), self.session.get_inputs(), "input", path)
        self.output = self._name(features.get("output"), self.session.get_outputs(), "output", path)
        rate, window_s = int(features["sample_rate"]), float(features["window_s"])
        probe = np.zeros((1, int(round(rate * window_s))), np.float32)
        dims = self._run(probe).shape[1]
        super().__init__(
            VectorSettings("embedding", rate, window_s, float(features["hop_s"]), dims)
        )

    @staticmethod
    def _name(wanted: str | None, nodes, key: str, path: Path) -> str:
        names = [n.name for n in nodes]
        if wanted is None:
            return names[0]
        if wanted not in names:
            raise ValueError(f"{path}: no {key} {wanted!r} (features.NAME.{key}); it has {names}")
        return wanted

    def _run(self, windows: np.ndarray) -> np.ndarray:
        (out,) = self.session.run([self.output], {self.input: windows})
        return out.reshape(len(windows), -1)

    def embed(self, windows: torch.Tensor) -> torch.Tensor:
        out = self._run(windows.detach().cpu().numpy().astype(np.float32, copy=False))
        return torch.from_numpy(out).to(windows.device)
