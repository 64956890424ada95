"""Training throughput: the real data path (cached frames held as `--input` places them ->
windows cut, time-shifted and augmented as batches -> training steps) against the same model
fed batches already on the device, same device, batch size and batches per epoch.

    PYTHONPATH=src python bench/train_throughput.py [--backbone resnet18] [--batch 32]
        [--input device|pinned|mmap] [--augment] [--repeats 3] [--threads 2] [--tapes 8]

The two paths take turns epoch by epoch (in alternating order, `--repeats` epochs each after
one warm-up epoch), so that load from other processes on the machine falls on both alike.
Prints the device and settings, samples/s of both and their ratio. The corpus is the
synthetic demo, made in a temporary folder (features as the default config: 64 mel bins,
1 s windows).
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from sonoflow.common.device import describe_device_short, pick_device
from sonoflow.corpus.audio import list_recordings
from sonoflow.corpus.demo import DemoSettings, make_demo_corpus
from sonoflow.datasets.build import prepare_dataset
from sonoflow.features.cache import SpectrogramCache, build_cache
from sonoflow.features.spectrogram import FeatureFrontend, FeatureSettings
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.training.epoch import PassSetup, Precision, training_pass
from sonoflow.training.fit import class_names
from sonoflow.training.loaders import loaders
from sonoflow.training.losses import build_loss, class_counts

FEATURES = {"sample_rate": 16000, "window_s": 1.0, "n_fft": 512, "hop_length": 160, "n_bins": 64}
LABELS = ["hum", "chirp"]
EVERY_AUGMENTATION = {
    "spec_augment": {"enabled": True},
    "gain": {"enabled": True},
    "noise": {"enabled": True},
    "mixup": {"enabled": True},
}


def corpus(work: Path, tapes: int) -> pd.DataFrame:
    make_demo_corpus(work / "corpus", DemoSettings(seed=3, train_tapes=tapes, benchmark_tapes=1))
    variant = {
        "noise_per_target": 2,
        "margin_s": 0.1,
        "neighbourhood_s": 3,
        "seed": 1,
        "split": {"train": 1.0, "val": 0.0, "test": 0.0},
    }
    corpus = {"label_column": "Annotation", "labels": LABELS, "metadata": None}
    audio = work / "corpus/train/audio"
    clips = prepare_dataset(audio, work / "corpus/train/annotations", corpus, variant, work / "ds")
    build_cache(list_recordings(audio), FeatureSettings.from_config(FEATURES), work / "cache")
    return clips


class Fed:
    """One fed model: its batches, weights, optimiser, and the samples and seconds so far."""

    def __init__(self, batches, config: dict, classes: list[str], targets, device, mix=None):
        settings = FeatureSettings.from_config(FEATURES)
        torch.manual_seed(0)
        self.precision = Precision(device, config["precision"], config["channels_last"])
        model = build_model(config, len(classes), (settings.n_bins, settings.frames_per_window))
        self.model = model.to(device, memory_format=self.precision.memory_format)
        self.loss_fn = build_loss(config, class_counts(targets, len(classes))).to(device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-3)
        self.batches, self.device, self.mix = batches, device, mix
        self.samples, self.seconds = 0, 0.0

    def epoch(self) -> tuple[int, float]:
        """(samples, seconds) of one training epoch, as training runs it."""
        started = time.perf_counter()
        setup = PassSetup(
            model=self.model,
            loss_fn=self.loss_fn,
            device=self.device,
            multi_label=False,
            precision=self.precision,
        )
        samples = training_pass(setup, self.batches, self.optimizer, mix=self.mix)["samples"]
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return samples, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--input", choices=["device", "pinned", "mmap"], default="device")
    parser.add_argument("--augment", action="store_true", help="every augmentation and mixup")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per path")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tapes", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device()
    model = {"backbone": args.backbone, "batch_size": args.batch, "input": args.input}
    if args.augment:
        model["augment"] = EVERY_AUGMENTATION
    config = model_with_defaults(model)
    classes = class_names(LABELS)
    with tempfile.TemporaryDirectory() as tmp:
        clips = corpus(Path(tmp), args.tapes)
        settings = FeatureSettings.from_config(FEATURES)
        cache = SpectrogramCache(Path(tmp) / "cache", settings)
        generator = torch.Generator().manual_seed(0)
        train, _ = loaders(
            clips, clips.iloc[:0], cache, FeatureFrontend(settings), classes, config,
            device, generator, 0, None,
        )  # fmt: skip
        in_memory = list(train)  # one epoch's batches, already on the device
        mixup = config["augment"]["mixup"]
        mix = functools.partial(train.mixup, alpha=mixup["alpha"]) if mixup["enabled"] else None
        paths = {
            "in-memory tensors": Fed(in_memory, config, classes, train.targets, device),
            "real data path": Fed(train, config, classes, train.targets, device, mix),
        }
        for path in paths.values():
            path.epoch()  # warm-up
        for repeat in range(args.repeats):
            order = list(paths) if repeat % 2 == 0 else list(paths)[::-1]
            for name in order:
                samples, seconds = paths[name].epoch()
                paths[name].samples += samples
                paths[name].seconds += seconds
        placement = train.store.placement
    figures = {name: path.samples / path.seconds for name, path in paths.items()}
    precision = config["precision"] if device.type == "cuda" else "fp32"
    print(
        f"{args.backbone}, batch {args.batch}, input {args.input} ({placement}), "
        f"augment {'all' if args.augment else 'time shift'}, {len(train)} batches per epoch, "
        f"{args.repeats} epochs per path, {describe_device_short(device)}, "
        f"{args.threads} threads, precision {precision}"
    )
    for name, rate in figures.items():
        print(f"  {name:18s} {rate:8.1f} samples/s")
    print(
        f"  ratio real / in-memory: {figures['real data path'] / figures['in-memory tensors']:.3f}"
    )


if __name__ == "__main__":
    main()
