"""Preparation time of a dataset variant for 1k, 10k and 100k annotations.

Synthetic corpus: 100 annotations per 10-minute recording (48 kHz, 16-bit WAV), one Raven
table each. The recordings are sparse files, a real WAV header and a hole where the
samples would be, because preparation reads headers only; nothing is decoded.

    PYTHONPATH=src python bench/prepare_dataset.py [--sizes 1000 10000 100000]

Prints the wall time per size, the time per annotation and the growth relative to the
smallest size (linear growth keeps the time per annotation flat).
"""

from __future__ import annotations

import argparse
import logging
import struct
import tempfile
import time
from pathlib import Path

import numpy as np

from sonoflow.datasets.build import prepare_dataset

RATE, SECONDS, PER_RECORDING = 48000, 600, 100


def sparse_wav(path: Path, rate: int, seconds: int) -> None:
    # A 44-byte PCM header, then the file is extended without writing: the data stay a hole.
    data = rate * seconds * 2
    header = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    header += b"data" + struct.pack("<I", data)
    with open(path, "wb") as handle:
        handle.write(header)
        handle.truncate(len(header) + data)


def make_corpus(root: Path, annotations: int, rng: np.random.Generator) -> None:
    (root / "audio").mkdir(parents=True)
    (root / "raven").mkdir()
    columns = ["Selection", "View", "Channel", "Begin Time (s)", "End Time (s)"]
    header = "\t".join([*columns, "Low Freq (Hz)", "High Freq (Hz)", "Annotation"]) + "\n"
    for r in range(annotations // PER_RECORDING):
        name = f"rec{r:05d}"
        sparse_wav(root / "audio" / f"{name}.wav", RATE, SECONDS)
        slots = np.sort(rng.choice(SECONDS // 5, size=PER_RECORDING, replace=False)) * 5.0
        starts = slots + rng.uniform(0, 2, PER_RECORDING)
        lengths = rng.uniform(0.1, 1.5, PER_RECORDING)
        labels = rng.choice(["hum", "chirp"], PER_RECORDING)
        lines = [
            f"{i + 1}\tSpectrogram 1\t1\t{s:.6f}\t{s + d:.6f}\t100\t1000\t{lab}\n"
            for i, (s, d, lab) in enumerate(zip(starts, lengths, labels))
        ]
        (root / "raven" / f"{name}.Table.1.selections.txt").write_text(header + "".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(0)
    corpus = {"labels": ["hum", "chirp"]}
    variant = {"noise_per_target": 1, "split": {"train": 0.7, "val": 0.15, "test": 0.15}}
    heads = ("annotations", "recordings", "clips", "seconds", "us/annot", "x time")
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, (11, 10, 8, 8, 9, 7))))
    first = None
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_corpus(root / "corpus", size, rng)
            start = time.perf_counter()
            clips = prepare_dataset(
                root / "corpus/audio", root / "corpus/raven", corpus, variant, root / "out"
            )
            seconds = time.perf_counter() - start
        first = first or seconds
        print(
            f"{size:>11} {size // PER_RECORDING:>10} {len(clips):>8} {seconds:>8.2f} "
            f"{seconds / size * 1e6:>9.1f} {seconds / first:>7.1f}"
        )


if __name__ == "__main__":
    main()
