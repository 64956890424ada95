"""Windowed prediction over long recordings: per-window class scores, not decisions.

Recordings are decoded block by block in a background thread (audio_blocks), turned into
spectrogram frames on the device and cut into windows as strided views (streaming), and
scored in full batches that may span blocks and recordings, under inference mode, with
mixed precision and channels-last on CUDA.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch
from torch import nn
from tqdm import tqdm

from sonoflow.common.device import pick_device
from sonoflow.corpus.audio_blocks import prefetch, read_blocks
from sonoflow.corpus.metadata import metadata_vector
from sonoflow.features.frontend import FeatureFrontend, FeatureSettings
from sonoflow.features.frontends import build_frontend
from sonoflow.features.streaming import stream_windows
from sonoflow.features.vectors import VectorSettings
from sonoflow.models.weights import load_weights

log = logging.getLogger(__name__)


def window_step(settings: FeatureSettings | VectorSettings, hop_s: float) -> int:
    """Frames between window starts; `hop_s` must be a whole number of frames."""
    step = hop_s / settings.frame_s
    if step < 1 or abs(step - round(step)) > 1e-6:
        raise ValueError(
            f"hop_s {hop_s} is not a positive multiple of the frame hop {settings.frame_s} s "
            f"(hop_length / sample_rate; features.NAME.hop_s for vector front-ends)"
        )
    return int(round(step))


def load_fold_models(
    model_paths: Sequence[Path], device: torch.device
) -> tuple[list[nn.Module], list[dict], list[str], nn.Module]:
    """The fold models, their checkpoints, classes and front-end (which must agree)."""
    models, checkpoints = zip(*(load_weights(p, device) for p in model_paths))
    classes, features = checkpoints[0]["classes"], checkpoints[0]["features"]
    if any(c["classes"] != classes or c["features"] != features for c in checkpoints):
        raise ValueError(f"fold models disagree on classes or features: {model_paths}")
    return list(models), list(checkpoints), classes, build_frontend(features)


def recording_metadata(
    checkpoint: dict, recordings: list[Path], metadata_csv: str | Path | None, key: str
) -> np.ndarray | None:
    """One metadata vector per recording (rows in order) for a fusion model, else None."""
    vectors = [metadata_vector(checkpoint, p.stem, metadata_csv, key) for p in recordings]
    if not vectors or vectors[0] is None:
        return None
    return np.stack(vectors).astype(np.float32)


def predict_recordings(
    recordings: list[Path],
    model_paths: list[Path],
    hop_s: float,
    batch_size: int = 64,
    threads: int = 1,
    channel: str | int = "mix",
    block_s: float = 30.0,
    metadata_csv: str | Path | None = None,
    metadata_key: str = "benchmarks.NAME.metadata",
) -> pd.DataFrame:
    """Scores per window: recording, start_s, end_s and one column per class, folds averaged.

    Models with metadata fusion read each recording's row of `metadata_csv` (config key
    `metadata_key`)."""
    torch.set_num_threads(max(1, threads))
    device = pick_device()
    models, checkpoints, classes, frontend = load_fold_models(model_paths, device)
    settings = frontend.settings
    metadata = [recording_metadata(c, recordings, metadata_csv, metadata_key) for c in checkpoints]
    scorer = WindowScorer(models, frontend.to(device), device, metadata)
    per_recording = score_recordings(
        recordings, scorer, window_step(settings, hop_s), batch_size, channel, block_s
    )
    return scores_table(recordings, per_recording, classes, settings, hop_s)


class WindowScorer:
    """Probabilities of dB windows (softmax, or sigmoid for multi-label models), averaged over
    the fold models. `metadata`: per model, None or one vector per recording (fusion)."""

    def __init__(
        self,
        models: Sequence[nn.Module],
        frontend: FeatureFrontend,
        device: torch.device,
        metadata: Sequence[np.ndarray | None] | None = None,
    ):
        self.frontend, self.device = frontend, device
        self.cuda = device.type == "cuda"
        self.models = [m.to(memory_format=torch.channels_last) if self.cuda else m for m in models]
        self.metadata = [
            None if m is None else torch.from_numpy(m).to(device)
            for m in (metadata or [None] * len(models))
        ]

    def __call__(self, windows: torch.Tensor, owners: Sequence[tuple[int, int]] = ()) -> np.ndarray:
        """`owners`: (recording index, count) runs of the batch, for metadata fusion."""
        rows = self._metadata_rows(owners) if any(m is not None for m in self.metadata) else None
        with torch.inference_mode(), self._autocast():
            batch = self.frontend.normalize(windows).unsqueeze(1)
            if self.cuda:
                batch = batch.contiguous(memory_format=torch.channels_last)
            probs = torch.stack(
                [
                    m.probabilities(batch, None if meta is None else meta[rows]).float()
                    for m, meta in zip(self.models, self.metadata)
                ]
            )
            return probs.mean(dim=0).cpu().numpy()

    def _metadata_rows(self, owners: Sequence[tuple[int, int]]) -> torch.Tensor:
        """The recording index of each window of the batch."""
        return torch.repeat_interleave(
            torch.tensor([o for o, _ in owners], dtype=torch.long),
            torch.tensor([n for _, n in owners], dtype=torch.long),
        ).to(self.device)

    def _autocast(self):
        if self.cuda:
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()


def score_recordings(
    recordings: list[Path],
    scorer: WindowScorer,
    step: int,
    batch_size: int,
    channel: str | int = "mix",
    block_s: float = 30.0,
) -> list[np.ndarray]:
    """Per recording, its windows' scores (n_windows, n_classes), with a progress bar in the log."""
    settings = scorer.frontend.settings
    chunks = recording_chunks(recordings, scorer, step, channel, block_s)
    scores: list[list[np.ndarray]] = [[] for _ in recordings]
    hop_s = step * settings.frame_s
    total_s = sum(sf.info(str(p)).duration for p in recordings)
    with tqdm(
        total=round(total_s),
        unit="s",
        desc="audio scored",
        file=LogStream(log),
        mininterval=30,
        ascii=True,
    ) as progress:
        for batch, owners in full_batches(chunks, batch_size):
            probs = scorer(batch, owners)
            first = 0
            for owner, count in owners:
                scores[owner].append(probs[first : first + count])
                first += count
            progress.update(round(len(batch) * hop_s))
    for index, path in enumerate(recordings):
        log.info("%s: %d windows scored", path.name, sum(len(s) for s in scores[index]))
    return [np.concatenate(s) if s else np.zeros((0, 0), np.float32) for s in scores]


def recording_chunks(
    recordings: list[Path],
    scorer: WindowScorer,
    step: int,
    channel: str | int,
    block_s: float,
) -> Iterator[tuple[int, torch.Tensor]]:
    """(recording index, window chunk) in order; decoding runs ahead in a background thread."""
    rate = scorer.frontend.settings.sample_rate

    def decoded() -> Iterator[tuple[int, np.ndarray | None]]:
        for index, path in enumerate(recordings):
            for block in read_blocks(path, rate, block_s, channel):
                yield index, block
            yield index, None  # end of recording

    blocks = prefetch(decoded(), depth=3)
    for index in range(len(recordings)):
        own = _blocks_until_end(blocks)
        for windows in stream_windows(own, scorer.frontend, step, scorer.device):
            yield index, windows


def _blocks_until_end(blocks: Iterator[tuple[int, np.ndarray | None]]) -> Iterator[np.ndarray]:
    for _, block in blocks:
        if block is None:
            return
        yield block


def full_batches(
    chunks: Iterable[tuple[int, torch.Tensor]], batch_size: int
) -> Iterator[tuple[torch.Tensor, list[tuple[int, int]]]]:
    """Batches of exactly `batch_size` windows (the last may be short), across chunk and
    recording boundaries, with (owner, count) runs saying whose windows they are."""
    pending: list[tuple[int, torch.Tensor]] = []
    size = 0
    for owner, windows in chunks:
        while len(windows):
            take = min(batch_size - size, len(windows))
            pending.append((owner, windows[:take]))
            size += take
            windows = windows[take:]
            if size == batch_size:
                yield _joined(pending)
                pending, size = [], 0
    if pending:
        yield _joined(pending)


def _joined(pending: list[tuple[int, torch.Tensor]]) -> tuple[torch.Tensor, list[tuple[int, int]]]:
    batch = pending[0][1] if len(pending) == 1 else torch.cat([w for _, w in pending])
    return batch, [(owner, len(w)) for owner, w in pending]


def scores_table(
    recordings: list[Path],
    per_recording: list[np.ndarray],
    classes: list[str],
    settings: FeatureSettings | VectorSettings,
    hop_s: float,
) -> pd.DataFrame:
    """recording, start_s, end_s and one column per class; window i starts at i * hop_s."""
    step = window_step(settings, hop_s)
    parts = []
    for path, scores in zip(recordings, per_recording):
        starts = np.arange(len(scores)) * step * settings.frame_s
        frame = pd.DataFrame(scores.reshape(len(scores), len(classes)), columns=classes)
        frame.insert(0, "end_s", starts + settings.window_s)
        frame.insert(0, "start_s", starts)
        frame.insert(0, "recording", path.stem)
        parts.append(frame)
    empty = pd.DataFrame(columns=["recording", "start_s", "end_s", *classes])
    return pd.concat(
        [empty.astype({c: float for c in empty.columns[1:]}), *parts], ignore_index=True
    )


class LogStream:
    """A file-like target for tqdm that writes each progress line to the log."""

    def __init__(self, logger: logging.Logger):
        self.logger = logger

    def write(self, text: str) -> None:
        text = text.strip("\r\n ")
        if text:
            self.logger.info(text)

    def flush(self) -> None:
        pass
