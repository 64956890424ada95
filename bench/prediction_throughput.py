"""End-to-end prediction throughput against the model alone, and the per-window baseline.

On this machine's device (CUDA when present), for one feature setting, `--folds` fold models
(resnet18, random weights: speed only) and one or more `--compile` modes side by side (eager,
`none`, always among them), it prints per mode windows/s of:

  end to end   score_recordings on a synthetic 32 kHz recording (decode in a pool, copy to the
               device, spectrogram, windows, batches, fold models, scores back), warm
  model alone  the same scorer (same compiled graph) on a batch of the recording's windows
               already on the device, batch after batch

with each mode's preparation (its first batch's time less a warm batch's: compilation or
export), both rates against eager's, and the largest difference of its end-to-end scores from
eager's. `per-window` is the older tools' way, eager: for every window, read its audio,
resample it, compute its spectrogram, score it alone (batch size 1); timed on the first
windows only. The paths take turns round by round (the order alternating) and each keeps its
best round, so that load from other processes on a shared machine falls on all alike.

Settings: `opensoundscape` is OpenSoundscape's default CNN input (32 kHz, 0.4 s windows,
n_fft 512, hop 256, 257 linear bins = 257 x 50, window hop 0.048 s); `demo` is the demo's
(16 kHz, 1 s, 64 mel bins = 64 x 100, window hop 0.1 s).

    PYTHONPATH=src python bench/prediction_throughput.py [--setting opensoundscape]
        [--minutes 1] [--batch-size 128] [--folds 1] [--compile none jit onnx] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from functools import partial
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch

from sonoflow.common.device import describe_device_short, pick_device
from sonoflow.features.spectrogram import FeatureSettings, frame_windows
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.models.weights import save_weights
from sonoflow.prediction.predict import (
    COMPILE_MODES,
    WindowScorer,
    load_fold_models,
    score_recordings,
    window_step,
)

SETTINGS = {  # name: (features, window hop in seconds)
    "opensoundscape": (
        FeatureSettings(
            sample_rate=32000,
            window_s=0.4,
            n_fft=512,
            hop_length=256,
            scale="linear",
            n_bins=257,
            fmin=0.0,
            fmax=16000.0,
        ),
        0.048,
    ),
    "demo": (FeatureSettings(window_s=1.0, n_bins=64), 0.1),
}
CLASSES = ["hum", "chirp", "noise"]
FILE_RATE = 32000


def synthetic_recording(path: Path, minutes: float) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(int(minutes * 60 * FILE_RATE)) / FILE_RATE
    tone = 0.2 * np.sin(2 * np.pi * (1500 + 500 * np.sin(t)) * t)
    wave = (tone + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    sf.write(path, wave, FILE_RATE, subtype="PCM_16")


def end_to_end(recording: Path, scorer: WindowScorer, step: int, batch: int):
    start = time.perf_counter()
    (scores,) = score_recordings([recording], scorer, step, batch)
    return len(scores), time.perf_counter() - start, scores


def preparation_s(scorer: WindowScorer, data: torch.Tensor) -> float:
    """The first batch's time less a warm batch's: what compiling or exporting costs (0 where
    the two differ by noise alone, as for eager)."""
    times = []
    for _ in range(2):
        start = time.perf_counter()
        scorer.scores(data)
        _sync(scorer.device)
        times.append(time.perf_counter() - start)
    return max(0.0, times[0] - times[1])


def recording_windows(recording: Path, scorer: WindowScorer, step: int, batch: int):
    """A batch of the recording's own windows, on the device, for the model alone."""
    settings = scorer.frontend.settings
    seconds = settings.window_s + batch * step * settings.frame_s
    audio, _ = sf.read(str(recording), frames=int(seconds * FILE_RATE), dtype="float32")
    if settings.sample_rate != FILE_RATE:
        audio = librosa.resample(audio, orig_sr=FILE_RATE, target_sr=settings.sample_rate)
    spectrogram = scorer.frontend(torch.from_numpy(audio).to(scorer.device))
    windows = frame_windows(spectrogram, settings.frames_per_window, step)
    return windows.repeat(-(-batch // len(windows)), 1, 1)[:batch].contiguous()


def model_alone(scorer: WindowScorer, data: torch.Tensor, windows: int, batch: int):
    start = time.perf_counter()
    done = 0
    while done < windows:
        n = min(batch, windows - done)
        scorer.scores(data[:n])
        done += n
    _sync(scorer.device)
    return windows, time.perf_counter() - start


def per_window(recording: Path, scorer: WindowScorer, hop_s: float, count: int):
    """Older tools: each window read, resampled and transformed on its own, batch size 1."""
    settings, frontend = scorer.frontend.settings, scorer.frontend
    start = time.perf_counter()
    for i in range(count):
        first = int(i * hop_s * FILE_RATE)
        audio, _ = sf.read(
            str(recording), start=first, frames=int(settings.window_s * FILE_RATE), dtype="float32"
        )
        if settings.sample_rate != FILE_RATE:
            audio = librosa.resample(audio, orig_sr=FILE_RATE, target_sr=settings.sample_rate)
        spec = frontend(torch.from_numpy(audio).to(scorer.device))
        scorer(spec[:, : settings.frames_per_window].unsqueeze(0))
    _sync(scorer.device)
    return count, time.perf_counter() - start


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def fold_checkpoints(folder: Path, settings: FeatureSettings, folds: int) -> list[Path]:
    paths = []
    for fold in range(folds):
        torch.manual_seed(fold)
        config = model_with_defaults({"backbone": "resnet18"})
        model = build_model(config, len(CLASSES), (settings.n_bins, settings.frames_per_window))
        path = folder / f"fold{fold}.pt"
        meta = {"model": config, "classes": CLASSES, "features": settings.__dict__, "fold": fold}
        save_weights(path, model.state_dict(), meta)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="opensoundscape")
    parser.add_argument("--minutes", type=float, default=1.0, help="synthetic recording length")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--folds", type=int, default=1, help="fold models averaged")
    parser.add_argument(
        "--compile", choices=COMPILE_MODES, nargs="+", default=["none"], help="modes compared"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--baseline-windows", type=int, default=50, help="0 skips per-window")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; each path keeps its best")
    args = parser.parse_args()
    modes = ["none", *(m for m in dict.fromkeys(args.compile) if m != "none")]
    torch.set_num_threads(args.threads)
    device = pick_device()
    settings, hop_s = SETTINGS[args.setting]
    step = window_step(settings, hop_s)
    print(
        f"device: {describe_device_short(device)}, torch {torch.__version__}, "
        f"threads: {args.threads}, setting: {args.setting} ({settings.sample_rate} Hz, "
        f"{settings.window_s} s windows = {settings.n_bins} {settings.scale} bins x "
        f"{settings.frames_per_window} frames, n_fft {settings.n_fft}, hop {settings.hop_length}"
        f", window hop {hop_s} s), resnet18 x {args.folds} folds, batch {args.batch_size}, "
        f"compile: {' '.join(modes)}, {args.minutes:g} min of audio, {args.repeats} rounds"
    )
    with tempfile.TemporaryDirectory() as tmp:
        recording = Path(tmp) / "synthetic.wav"
        synthetic_recording(recording, args.minutes)
        checkpoints = fold_checkpoints(Path(tmp), settings, args.folds)
        models, _, _, frontend = load_fold_models(checkpoints, device)
        frontend = frontend.to(device)
        scorers = {
            mode: WindowScorer(models, frontend, device, compile=mode, threads=args.threads)
            for mode in modes
        }
        data = recording_windows(recording, scorers["none"], step, args.batch_size)
        prepared, scores, paths = {}, {}, {}
        for mode, scorer in scorers.items():
            prepared[mode] = preparation_s(scorer, data)
            print(f"{mode}: preparation {prepared[mode]:.1f} s", flush=True)
            windows, _, scores[mode] = end_to_end(recording, scorer, step, args.batch_size)
            paths[("end to end", mode)] = partial(
                end_to_end, recording, scorer, step, args.batch_size
            )
            paths[("model alone", mode)] = partial(
                model_alone, scorer, data, windows, args.batch_size
            )
        if args.baseline_windows:
            paths[("per-window", "none")] = partial(
                per_window, recording, scorers["none"], hop_s, args.baseline_windows
            )
        rates: dict[tuple[str, str], float] = {}
        for round_ in range(args.repeats):
            order = list(paths) if round_ % 2 == 0 else list(paths)[::-1]
            for name in order:
                n, seconds, *_ = paths[name]()
                rates[name] = max(rates.get(name, 0.0), n / seconds)
    print(f"{windows} windows per end-to-end run (windows/s; x eager; x real time end to end)")
    print(
        f"  {'mode':<6} {'prep s':>7} {'end to end':>11} {'x eager':>8} {'x real t.':>9} "
        f"{'alone':>8} {'x eager':>8} {'max |score - eager|':>20}"
    )
    for mode in modes:
        e2e, alone = rates[("end to end", mode)], rates[("model alone", mode)]
        difference = float(np.abs(scores[mode] - scores["none"]).max())
        print(
            f"  {mode:<6} {prepared[mode]:7.1f} {e2e:11.1f} "
            f"{e2e / rates[('end to end', 'none')]:8.2f} {e2e * hop_s:9.2f} {alone:8.1f} "
            f"{alone / rates[('model alone', 'none')]:8.2f} {difference:20.2e}"
        )
    if ("per-window", "none") in rates:
        baseline = rates[("per-window", "none")]
        print(
            f"  per-window (eager) {baseline:.1f} windows/s; eager end to end / it: "
            f"{rates[('end to end', 'none')] / baseline:.1f}"
        )


if __name__ == "__main__":
    main()
