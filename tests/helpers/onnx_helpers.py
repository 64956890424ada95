"""Scoring a recording with an exported detector.onnx in a fresh Python that imports only
onnxruntime, numpy, json and soundfile (as a user without sonoflow or torch would)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

# argv: model, detector.json, recording, hop_s, output .npy
SCORE_WITH_ONNXRUNTIME = """
import json, sys
import numpy as np, onnxruntime, soundfile
model, info_path, recording, hop_s, out = sys.argv[1:]
info = json.load(open(info_path))
graph = info["onnx"]
wave, rate = soundfile.read(recording, dtype="float32")
assert rate == info["sample_rate"], rate
step = round(float(hop_s) / info["frame_s"]) * info["features"]["hop_length"]
size = graph["window_samples"]
windows = np.stack([wave[s : s + size] for s in range(0, len(wave) - size + 1, step)])
session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
scores = np.concatenate(
    [session.run([graph["output"]], {graph["input"]: windows[i : i + 64]})[0]
     for i in range(0, len(windows), 64)]
)
np.save(out, scores)
loaded = [name for name in ("torch", "sonoflow") if name in sys.modules]
assert not loaded, loaded
"""


def score_with_onnxruntime(model: Path, info: Path, recording: Path, hop_s: float) -> np.ndarray:
    """Window scores (windows, classes) of `recording` from `model`, computed in a subprocess
    that fails if torch or sonoflow was imported."""
    out = Path(model).with_suffix(".scores.npy")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCORE_WITH_ONNXRUNTIME,
            str(model),
            str(info),
            str(recording),
            str(hop_s),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(model).parent,
    )
    assert done.returncode == 0, done.stderr
    return np.load(out)
