"""Training throughput: the real data path (memory-mapped cache -> ClipWindows -> DataLoader)
against the same model fed batches already in memory, same device, batch size and steps.

    PYTHONPATH=src python bench/train_throughput.py [--backbone resnet18] [--batch 32]
        [--epochs 2] [--workers 0] [--threads 2] [--tapes 8]

Prints samples/s of both, their ratio, and the share of the real path's time spent waiting
for batches (a figure that load from other processes on the machine hardly moves). The
corpus is the synthetic demo, made in a temporary folder (features as the default config:
64 mel bins, 1 s windows).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from torch.utils.data import DataLoader

from sonoflow.common.device import describe_device_short, pick_device
from sonoflow.corpus.audio import list_recordings
from sonoflow.corpus.demo import DemoSettings, make_demo_corpus
from sonoflow.datasets.build import prepare_dataset
from sonoflow.features.cache import SpectrogramCache, build_cache
from sonoflow.features.frontend import FeatureFrontend, FeatureSettings
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.training.clip_windows import ClipWindows
from sonoflow.training.epoch import Precision, run_epoch
from sonoflow.training.fit import class_names
from sonoflow.training.losses import build_loss, class_counts

FEATURES = {"sample_rate": 16000, "window_s": 1.0, "n_fft": 512, "hop_length": 160, "n_bins": 64}
LABELS = ["hum", "chirp"]


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


class Feed:
    """Endless batches of one path, epoch after epoch, with the time spent fetching them."""

    def __init__(self, batches):
        self.batches, self.iterator, self.fetching = batches, iter(batches), 0.0

    def next(self):
        started = time.perf_counter()
        try:
            batch = next(self.iterator)
        except StopIteration:  # a new epoch (for the DataLoader: a fresh shuffle)
            self.iterator = iter(self.batches)
            batch = next(self.iterator)
        self.fetching += time.perf_counter() - started
        return batch


def one_step(feed: Feed, model, loss_fn, device, precision, optimizer) -> tuple[int, float]:
    """(samples, seconds) of fetching one batch and a training step on it (training's loop)."""
    started = time.perf_counter()
    samples = run_epoch(
        model,
        [feed.next()],
        loss_fn,
        device,
        multi_label=False,
        precision=precision,
        optimizer=optimizer,
    )["samples"]
    if device.type == "cuda":
        torch.cuda.synchronize()
    return samples, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tapes", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device()
    config = model_with_defaults({"backbone": args.backbone, "batch_size": args.batch})
    with tempfile.TemporaryDirectory() as tmp:
        clips = corpus(Path(tmp), args.tapes)
        settings = FeatureSettings.from_config(FEATURES)
        classes = class_names(LABELS)
        windows = ClipWindows(
            clips,
            SpectrogramCache(Path(tmp) / "cache", settings),
            FeatureFrontend(settings),
            classes,
            config["augment"],
        )
        loader = DataLoader(
            windows,
            batch_size=args.batch,
            shuffle=True,
            num_workers=args.workers,
            pin_memory=device.type == "cuda",
        )
        # The same windows, inputs already on the device; labels stay on the host, where
        # training's epoch loop gathers them (on CUDA, `.numpy()` of device labels fails).
        in_memory = [(x.to(device), meta.to(device), y) for x, meta, y in loader]
        precision = Precision(device, config["precision"], config["channels_last"])
        feeds = {"in-memory tensors": Feed(in_memory), "real data path": Feed(loader)}
        runs = {}
        for name, feed in feeds.items():
            torch.manual_seed(0)
            model = build_model(config, len(classes), (settings.n_bins, settings.frames_per_window))
            model = model.to(device, memory_format=precision.memory_format)
            loss_fn = build_loss(config, class_counts(windows.targets, len(classes))).to(device)
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
            runs[name] = (model, loss_fn, device, precision, optimizer)
            for _ in range(3):  # warm-up
                one_step(feed, *runs[name])
            feed.fetching = 0.0
        # The two paths take turns batch by batch (in alternating order), so that load from
        # other processes on the machine falls on both alike.
        seconds, samples = dict.fromkeys(feeds, 0.0), dict.fromkeys(feeds, 0)
        steps = args.epochs * len(loader)
        for step in range(steps):
            order = list(feeds) if step % 2 == 0 else list(feeds)[::-1]
            for name in order:
                n, elapsed = one_step(feeds[name], *runs[name])
                samples[name] += n
                seconds[name] += elapsed
        figures = {name: samples[name] / seconds[name] for name in feeds}
        waited = feeds["real data path"].fetching / seconds["real data path"]
    print(
        f"{args.backbone}, batch {args.batch}, {steps} batches ({args.epochs} epochs) per path, "
        f"{describe_device_short(device)}, {args.threads} threads, {args.workers} workers"
    )
    for name, rate in figures.items():
        print(f"  {name:18s} {rate:8.1f} samples/s")
    print(f"  the real path spent fetching batches {100 * waited:.1f}% of its time")
    print(
        f"  ratio real / in-memory: {figures['real data path'] / figures['in-memory tensors']:.3f}"
    )


if __name__ == "__main__":
    main()
