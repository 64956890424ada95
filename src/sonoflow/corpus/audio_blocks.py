"""Long recordings in blocks: bounded memory whatever their length.

soundfile (opened through audio.py) reads a block at a time; soxr's streaming resampler
carries its filter state from block to block, so the joined output is the whole-file
resampling (up to float rounding); `prefetch` decodes the next blocks in a background thread
while the caller computes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import soxr

from sonoflow.corpus.audio import DECODE_ERRORS, AudioError, Channel, open_audio, select_channel

T = TypeVar("T")


def check_finite(samples: np.ndarray, path: str | Path, offset: int, rate: int) -> None:
    """Raise naming the file and the first NaN or infinite sample (`offset`: the block's start)."""
    bad = ~np.isfinite(samples)
    if bad.any():
        first = offset + int(np.argmax(bad))
        raise AudioError(
            f"{path}: {int(bad.sum())} sample(s) are NaN or infinite in the block from "
            f"{offset / rate:.3f} s, the first at sample {first} ({first / rate:.3f} s); "
            "scores over them would be NaN. Repair or remove the recording"
        )


def read_blocks(
    path: str | Path,
    sample_rate: int,
    block_s: float = 30.0,
    channel: Channel = "mix",
    key: str = "channel",
) -> Iterator[np.ndarray]:
    """float32 mono blocks of the recording at `sample_rate`; joined, they are the whole file.
    `key` is the config key that chose `channel`, named when the file lacks that channel.
    A block with NaN or infinite samples raises AudioError naming the file and the time."""
    with open_audio(path) as handle:
        rate = handle.samplerate
        resampler = None if rate == sample_rate else soxr.ResampleStream(rate, sample_rate, 1)
        block_frames = max(1, int(block_s * rate))
        try:
            while True:
                block = handle.read(block_frames, dtype="float32", always_2d=True)
                if not len(block):
                    break
                mono = select_channel(block, channel, path, key)
                check_finite(mono, path, handle.tell() - len(block), rate)
                yield mono if resampler is None else resampler.resample_chunk(mono)
        except DECODE_ERRORS as err:
            raise AudioError(f"{path}: cannot decode audio ({err})") from err
        if resampler is not None:
            yield resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate over `items` produced in a background thread, at most `depth` ahead.

    Decoding (libsndfile, soxr) releases the GIL, so it overlaps with the consumer's
    inference. An exception in the producer is raised in the consumer.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                slots.put((item, None))
        except BaseException as err:  # handed over to the consumer
            slots.put((None, err))
            return
        slots.put((done, None))

    worker = threading.Thread(target=produce, daemon=True, name="sonoflow-prefetch")
    worker.start()
    try:
        while True:
            item, err = slots.get()
            if err is not None:
                raise err
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                slots.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
