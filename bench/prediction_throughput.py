"""End-to-end prediction throughput against the model alone, and the per-window baseline.

For each model (the demo's resnet18 on 64 mel bins x 1 s, and resnet18 on 128 x 128), on this
machine's device (CUDA when present), it prints windows/s and audio hours per second of:

  sonoflow   predict_recordings on a synthetic 32 kHz recording (decode, resample to 16 kHz,
             spectrogram, windows, batches, softmax)
  model      the same scorer on random windows of the same shape, batch and device
  per-window the older tools' way: for every window, read its audio, resample it, compute its
             spectrogram, score it alone (batch size 1); timed on the first windows only

and the ratios sonoflow / model and sonoflow / per-window. Random weights: speed only.

    PYTHONPATH=src python bench/prediction_throughput.py [--minutes 3] [--batch-size 128]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch

from sonoflow.common.device import pick_device
from sonoflow.features.frontend import FeatureFrontend, FeatureSettings
from sonoflow.models.build import build_model
from sonoflow.models.weights import save_weights
from sonoflow.prediction.predict import WindowScorer, predict_recordings, window_step

MODELS = {
    "demo resnet18, 64 x 100": (
        {"backbone": "resnet18"},
        FeatureSettings(window_s=1.0, n_bins=64),
    ),
    "resnet18, 128 x 128": (
        {"backbone": "resnet18"},
        FeatureSettings(window_s=1.28, n_bins=128, hop_length=160),
    ),
}
CLASSES = ["hum", "chirp", "noise"]
FILE_RATE = 32000


def synthetic_recording(path: Path, minutes: float) -> None:
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", FILE_RATE, 1, subtype="PCM_16") as out:
        for _ in range(int(np.ceil(minutes))):
            t = np.arange(60 * FILE_RATE) / FILE_RATE
            tone = 0.2 * np.sin(2 * np.pi * (1500 + 500 * np.sin(t)) * t)
            out.write((tone + 0.05 * rng.standard_normal(len(t))).astype(np.float32))


def end_to_end(recording: Path, checkpoint: Path, hop_s: float, batch: int, threads: int):
    start = time.perf_counter()
    scores = predict_recordings([recording], [checkpoint], hop_s, batch, threads)
    return len(scores), time.perf_counter() - start


def model_alone(scorer: WindowScorer, settings: FeatureSettings, windows: int, batch: int):
    shape = (batch, settings.n_bins, settings.frames_per_window)
    data = torch.randn(shape, device=scorer.device) * 10 - 40
    scorer(data)  # warm-up
    _sync(scorer.device)
    start = time.perf_counter()
    done = 0
    while done < windows:
        n = min(batch, windows - done)
        scorer(data[:n])
        done += n
    _sync(scorer.device)
    return windows, time.perf_counter() - start


def per_window(recording: Path, scorer: WindowScorer, settings: FeatureSettings, hop_s, count):
    """Older tools: each window read, resampled and transformed on its own, batch size 1."""
    frontend = scorer.frontend
    start = time.perf_counter()
    for i in range(count):
        first = int(i * hop_s * FILE_RATE)
        audio, _ = sf.read(
            str(recording), start=first, frames=int(settings.window_s * FILE_RATE), dtype="float32"
        )
        audio = librosa.resample(audio, orig_sr=FILE_RATE, target_sr=settings.sample_rate)
        spec = frontend(torch.from_numpy(audio).to(scorer.device))
        scorer(spec[:, : settings.frames_per_window].unsqueeze(0))
    _sync(scorer.device)
    return count, time.perf_counter() - start


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="synthetic recording length")
    parser.add_argument("--hop-s", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--baseline-windows", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="rounds; each mode keeps its best")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device()
    print(f"device: {device}, threads: {args.threads}, batch: {args.batch_size}, hop: {args.hop_s}")
    with tempfile.TemporaryDirectory() as tmp:
        recording = Path(tmp) / "synthetic.wav"
        synthetic_recording(recording, args.minutes)
        for name, (model_config, settings) in MODELS.items():
            torch.manual_seed(0)
            shape = (settings.n_bins, settings.frames_per_window)
            model = build_model(model_config, len(CLASSES), shape)
            checkpoint = Path(tmp) / "model.pt"
            meta = {"model": model_config, "classes": CLASSES, "features": settings.__dict__}
            save_weights(checkpoint, model.state_dict(), meta)
            window_step(settings, args.hop_s)
            end_to_end(recording, checkpoint, args.hop_s, args.batch_size, args.threads)  # warm
            scorer = WindowScorer(
                [model.to(device).eval()], FeatureFrontend(settings).to(device), device
            )
            # Modes take turns and each keeps its best round, so that load from other processes
            # on a shared machine does not favour whichever mode ran in a quiet moment.
            rates: dict[str, float] = {}
            for _ in range(args.repeats):
                ours = end_to_end(recording, checkpoint, args.hop_s, args.batch_size, args.threads)
                runs = {
                    "sonoflow": ours,
                    "model alone": model_alone(scorer, settings, ours[0], args.batch_size),
                    "per-window": per_window(
                        recording, scorer, settings, args.hop_s, args.baseline_windows
                    ),
                }
                for mode, (n, seconds) in runs.items():
                    rates[mode] = max(rates.get(mode, 0.0), n / seconds)
            print(f"\n{name} ({ours[0]} windows of {args.minutes:g} min audio)")
            for mode, rate in rates.items():
                print(
                    f"  {mode:<12} {rate:10.1f} windows/s "
                    f"{rate * args.hop_s / 3600:10.4f} audio h/s"
                )
            print(f"  ratio sonoflow / model alone: {rates['sonoflow'] / rates['model alone']:.3f}")
            print(f"  ratio sonoflow / per-window:  {rates['sonoflow'] / rates['per-window']:.1f}")


if __name__ == "__main__":
    main()
