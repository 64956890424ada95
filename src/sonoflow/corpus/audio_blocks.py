"""Long recordings in blocks: bounded memory whatever their length.

soundfile (opened through audio.py) reads a block at a time; soxr's streaming resampler
carries its filter state from block to block, so the joined output is the whole-file
resampling (up to float rounding); `prefetch` decodes the next blocks in a background thread
while the caller computes, and `decode_recordings` decodes several recordings at once in a
thread pool.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
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


class _Slots:
    """A bounded queue that one producer fills from an iterable; its error reaches the consumer.

    A closed queue stops its producer at the next item (puts time out to look), so a consumer
    that leaves early never leaves a thread blocked on a full queue."""

    _done = object()

    def __init__(self, depth: int):
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()

    def fill(self, items: Iterable) -> None:
        try:
            for item in items:
                if not self._put((item, None)):
                    return
        except BaseException as err:  # handed over to the consumer
            self._put((None, err))
            return
        self._put((self._done, None))

    def _put(self, entry: tuple) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def items(self) -> Iterator:
        while True:
            item, err = self.queue.get()
            if err is not None:
                raise err
            if item is self._done:
                return
            yield item

    def close(self) -> None:
        self.stop.set()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate over `items` produced in a background thread, at most `depth` ahead.

    Decoding (libsndfile, soxr) releases the GIL, so it overlaps with the consumer's
    inference. An exception in the producer is raised in the consumer.
    """
    slots = _Slots(depth)
    worker = threading.Thread(
        target=slots.fill, args=(items,), daemon=True, name="sonoflow-prefetch"
    )
    worker.start()
    try:
        yield from slots.items()
    finally:
        slots.close()
        worker.join()


def decode_recordings(
    paths: Iterable[str | Path],
    sample_rate: int,
    block_s: float = 30.0,
    channel: str | int = "mix",
    workers: int = 2,
    depth: int = 3,
) -> Iterator[Iterator[np.ndarray]]:
    """Per recording, in order, an iterator over its blocks (as `read_blocks`), consumed one
    recording after the other; `workers` recordings decode at once in a thread pool (the one
    being consumed and those after it), each at most `depth` blocks ahead, so memory stays
    bounded by workers x depth blocks whatever the recordings' lengths."""
    upcoming = iter(paths)
    started: deque[_Slots] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sonoflow-decode") as pool:

        def start_next() -> None:
            path = next(upcoming, None)
            if path is not None:
                slots = _Slots(depth)
                started.append(slots)
                pool.submit(slots.fill, read_blocks(path, sample_rate, block_s, channel))

        try:
            for _ in range(workers):
                start_next()
            while started:
                yield started[0].items()
                started.popleft().close()
                start_next()
        finally:
            for slots in started:
                slots.close()
