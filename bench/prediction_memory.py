"""Peak memory of prediction against recording length: a 1-hour and an 8-hour recording.

Each length is predicted end to end (predict_recordings with a small random-weight model) in
its own subprocess, which reports its maximum resident set size; the script prints both and
their ratio. The recordings are synthetic 16-bit WAV files (8 kHz by default, to keep the 8-hour
file near 460 MB), resampled to the 16 kHz features on the way, as field recordings often are.

    PYTHONPATH=src python bench/prediction_memory.py [--hours 1 8] [--hop-s 1.0]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from sonoflow.features.spectrogram import FeatureSettings
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.models.weights import save_weights

CHILD = """
import resource, sys, time
from pathlib import Path
from sonoflow.prediction.predict import predict_recordings
start = time.perf_counter()
scores = predict_recordings([Path(sys.argv[1])], [Path(sys.argv[2])], float(sys.argv[3]), 256, 2)
print(len(scores), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - start)
"""


def synthetic_recording(path: Path, hours: float, rate: int) -> None:
    rng = np.random.default_rng(0)
    minute = (0.05 * rng.standard_normal(60 * rate)).astype(np.float32)
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as out:
        for _ in range(int(round(hours * 60))):
            out.write(minute)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[1.0, 8.0])
    parser.add_argument("--hop-s", type=float, default=1.0)
    parser.add_argument("--file-rate", type=int, default=8000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = FeatureSettings(window_s=1.0, n_bins=32, n_fft=256, hop_length=160)
        config = model_with_defaults({"backbone": "resnet10t"})
        torch.manual_seed(0)
        model = build_model(config, 2, (settings.n_bins, settings.frames_per_window))
        checkpoint = Path(tmp) / "model.pt"
        meta = {"model": config, "classes": ["call", "noise"], "features": settings.__dict__}
        save_weights(checkpoint, model.state_dict(), meta)
        peaks = {}
        for hours in args.hours:
            recording = Path(tmp) / f"{hours:g}h.wav"
            synthetic_recording(recording, hours, args.file_rate)
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(recording), str(checkpoint), str(args.hop_s)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            windows, peak_kb, seconds = int(out[0]), int(out[1]), float(out[2])
            peaks[hours] = peak_kb / 1024
            print(
                f"{hours:g} h: {windows} windows in {seconds:.0f} s "
                f"(wall {time.perf_counter() - start:.0f} s), peak RSS {peaks[hours]:.0f} MB"
            )
            recording.unlink()
        first, last = args.hours[0], args.hours[-1]
        print(f"peak RSS ratio {last:g} h / {first:g} h: {peaks[last] / peaks[first]:.3f}")


if __name__ == "__main__":
    main()
