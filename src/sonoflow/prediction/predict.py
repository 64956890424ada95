"""Windowed prediction over long recordings: per-window class scores, not decisions.

Recordings are decoded block by block, several at once in a thread pool (audio_blocks), copied
to the device on a side stream, turned into spectrogram frames there and cut into windows as
strided views (streaming), and scored in full batches that may span blocks and recordings,
under inference mode, with mixed precision and channels-last on CUDA, optionally through a
compiled graph; scores stay on the device until a large chunk is copied back.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from sonoflow.common.device import HostCopy, SideCopies, pick_device
from sonoflow.common.logs import log_startup
from sonoflow.corpus.audio import audio_info, check_channel, duration_s
from sonoflow.corpus.audio_blocks import decode_recordings
from sonoflow.corpus.metadata import metadata_vector
from sonoflow.features.kinds import hop_frames
from sonoflow.features.registry import build_frontend
from sonoflow.features.spectrogram import FeatureFrontend, FeatureSettings
from sonoflow.features.streaming import stream_windows
from sonoflow.features.vectors import VectorSettings
from sonoflow.models.weights import load_weights
from sonoflow.prediction.onnx_graphs import OnnxModule

log = logging.getLogger(__name__)


def window_step(settings: FeatureSettings | VectorSettings, hop_s: float) -> int:
    """Frames between window starts; `hop_s` must be a whole number of frames."""
    step = hop_frames(hop_s, settings.frame_s)
    if step is None:
        raise ValueError(
            f"hop_s {hop_s} is not a positive multiple of the frame hop {settings.frame_s} s "
            f"(hop_length / sample_rate; features.NAME.hop_s for vector front-ends)"
        )
    return step


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
    compile: str = "none",
    channel_key: str = "benchmarks.NAME.channel",
) -> pd.DataFrame:
    """Scores per window: recording, start_s, end_s and one column per class, folds averaged.

    Models with metadata fusion read each recording's row of `metadata_csv` (config key
    `metadata_key`); `compile` as WindowScorer's. A recording without `channel` fails
    before any scoring, naming `channel_key`."""
    for path in recordings if channel != "mix" else []:
        check_channel(channel, audio_info(path).channels, path, channel_key)
    torch.set_num_threads(max(1, threads))
    device = pick_device()
    models, checkpoints, classes, frontend = load_fold_models(model_paths, device)
    settings = frontend.settings
    metadata = [recording_metadata(c, recordings, metadata_csv, metadata_key) for c in checkpoints]
    scorer = WindowScorer(models, frontend.to(device), device, metadata, compile, threads=threads)
    per_recording = score_recordings(
        recordings, scorer, window_step(settings, hop_s), batch_size, channel, block_s
    )
    return scores_table(recordings, per_recording, classes, settings, hop_s)


COMPILE_MODES = ("auto", "none", "torch", "cudagraphs", "jit", "onnx")
SCORE_CHUNK = 1 << 16  # windows whose scores stay on the device before one copy to the host
DECODERS = 2  # recordings decoded at once


class FoldEnsemble(nn.Module):
    """The fold models' probabilities, averaged: the one function that is compiled.

    With `spread`, each row also carries the fold models' disagreement: (n, 2 * classes), the
    means, then the standard deviations over the folds (population: 0 for one fold)."""

    def __init__(self, models: Sequence[nn.Module], spread: bool = False):
        super().__init__()
        self.models = nn.ModuleList(models)
        self.spread = spread

    def forward(
        self, batch: torch.Tensor, metadata: Sequence[torch.Tensor | None] | None = None
    ) -> torch.Tensor:
        metadata = metadata or [None] * len(self.models)
        folds = torch.stack(
            [m.probabilities(batch, meta).float() for m, meta in zip(self.models, metadata)]
        )
        if self.spread:
            return torch.cat([folds.mean(dim=0), folds.std(dim=0, correction=0)], dim=1)
        return folds.mean(dim=0)


class OnnxEnsemble(nn.Module):
    """FoldEnsemble with each fold's metadata rows (fusion models; none otherwise) as
    separate tensors, for ONNX export (an exported graph takes tensors, not a list)."""

    def __init__(self, ensemble: FoldEnsemble):
        super().__init__()
        self.ensemble = ensemble

    def forward(self, batch: torch.Tensor, *metadata: torch.Tensor) -> torch.Tensor:
        return self.ensemble(batch, list(metadata))


class WindowScorer:
    """Probabilities of dB windows (softmax, or sigmoid for multi-label models), averaged over
    the fold models. `metadata`: per model, None or one vector per recording (fusion).

    `compile`: `none` runs the models eagerly; `torch` through torch.compile; `cudagraphs`
    through torch.compile with CUDA graphs on CUDA (as `torch` on CPU); `jit` as a traced and
    frozen TorchScript graph (models without metadata fusion); `onnx` exported to ONNX at the
    first batch and run with onnxruntime on the CPU with `threads` threads (fusion models'
    metadata rows as further inputs; on CUDA it runs as `none`). torch-compiled and traced
    models see one batch shape only (a short last batch is padded), so they compile once;
    the ONNX graph takes any batch size. `auto`: `onnx` on the CPU, `none` on a GPU, and
    `none` with a log line when the export or ONNX Runtime session fails. `spread`: scores
    carry the fold models' standard deviations after the means (FoldEnsemble)."""

    def __init__(
        self,
        models: Sequence[nn.Module],
        frontend: FeatureFrontend,
        device: torch.device,
        metadata: Sequence[np.ndarray | None] | None = None,
        compile: str = "none",
        spread: bool = False,
        threads: int | None = None,
    ):
        if compile not in COMPILE_MODES:
            raise ValueError(f"compile {compile!r} is not one of {', '.join(COMPILE_MODES)}")
        if compile == "onnx" and device.type != "cpu":
            log.info("compile `onnx` runs onnxruntime on the CPU; on %s it runs as `none`", device)
            compile = "none"
        self.fallback = compile == "auto"  # an export that fails runs eagerly (logged)
        if compile == "auto":
            compile = auto_compile(device)
        self.threads = threads or torch.get_num_threads()
        self.frontend, self.device, self.compile = frontend, device, compile
        self.cuda = device.type == "cuda"
        self.models = [m.to(memory_format=torch.channels_last) if self.cuda else m for m in models]
        self.metadata = [
            None if m is None else torch.from_numpy(m).to(device)
            for m in (metadata or [None] * len(models))
        ]
        if compile == "jit" and any(m is not None for m in self.metadata):
            raise ValueError(
                f"compile `{compile}` cannot trace metadata fusion models; use `torch`"
            )
        self.ensemble = FoldEnsemble(self.models, spread).eval()
        self.run = self.ensemble if compile == "none" else None
        self.fixed_batch = 0

    def __call__(self, windows: torch.Tensor, owners: Sequence[tuple[int, int]] = ()) -> np.ndarray:
        """`owners`: (recording index, count) runs of the batch, for metadata fusion."""
        return self.scores(windows, owners).cpu().numpy()

    def scores(self, windows: torch.Tensor, owners: Sequence[tuple[int, int]] = ()) -> torch.Tensor:
        """As calling the scorer, but the scores stay on the device (float32)."""
        rows = self._metadata_rows(owners) if any(m is not None for m in self.metadata) else None
        metadata = [None if meta is None else meta[rows] for meta in self.metadata]
        if self.compile == "onnx":
            return self._onnx_scores(windows, metadata)
        with torch.inference_mode(), self._autocast():
            batch = self.frontend.normalize(windows).unsqueeze(1)
            if self.cuda:
                batch = batch.contiguous(memory_format=torch.channels_last)
            if self.compile == "none":
                return self.run(batch, metadata)
            count = len(batch)
            if count < self.fixed_batch:
                batch, metadata = (
                    _padded(batch, self.fixed_batch),
                    [None if m is None else _padded(m, self.fixed_batch) for m in metadata],
                )
            if self.run is None or count > self.fixed_batch:
                self.fixed_batch = count
                self.run = self._compiled(batch)
            if self.compile == "jit":
                return self.run(batch)[:count]
            if self.compile == "cudagraphs" and self.cuda:
                # The graph's output buffer is overwritten by its next replay.
                torch.compiler.cudagraph_mark_step_begin()
                return self.run(batch, metadata)[:count].clone()
            return self.run(batch, metadata)[:count]

    def _onnx_scores(
        self, windows: torch.Tensor, metadata: list[torch.Tensor | None]
    ) -> torch.Tensor:
        """The ONNX graph's scores; fusion models' per-window metadata rows are its further
        inputs, one per fold."""
        with torch.inference_mode():
            batch = self.frontend.normalize(windows).unsqueeze(1)
        rows = [m for m in metadata if m is not None]
        if self.run is None:  # exported outside inference mode, from a batch of two or more
            example = tuple(
                t.clone() if len(t) > 1 else t.repeat(2, *[1] * (t.dim() - 1))
                for t in (batch, *rows)
            )
            started = time.perf_counter()
            try:
                self.run = OnnxModule(OnnxEnsemble(self.ensemble), example, self.threads)
            except Exception as error:  # noqa: BLE001 (any export failure: eager, logged)
                if not self.fallback:
                    raise
                log.info("compile `auto`: the models cannot be exported to ONNX (%s); eager", error)
                self.compile, self.run = "none", self.ensemble
                with torch.inference_mode():
                    return self.ensemble(batch, metadata)
            log.info("ONNX export and session: %.1f s", time.perf_counter() - started)
        return self.run(batch, *rows)

    def _compiled(self, example: torch.Tensor):
        if self.compile == "jit":
            return torch.jit.freeze(torch.jit.trace(self.ensemble, (example,)))
        mode = "reduce-overhead" if self.compile == "cudagraphs" and self.cuda else None
        return torch.compile(self.ensemble, mode=mode, dynamic=False)

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


def auto_compile(device: torch.device) -> str:
    """What `compile: auto` runs: `onnx` on the CPU (2 to 3 x eager for a CNN, exported in
    seconds; docs/performance.md), eager PyTorch on a GPU."""
    return "onnx" if device.type == "cpu" else "none"


def _padded(tensor: torch.Tensor, rows: int) -> torch.Tensor:
    """`tensor` with zero rows appended up to `rows` (a compiled model's fixed batch)."""
    padding = tensor.new_zeros((rows - len(tensor), *tensor.shape[1:]))
    return torch.cat([tensor, padding])


class ScoreGather:
    """Per recording, the scores of its windows. Scores stay on the device until SCORE_CHUNK
    windows have gathered; then one copy to the host starts on the side stream, and the host
    reads it only when the next one starts (or at the end), so it never waits on the GPU batch
    by batch. On CPU the same steps are plain list operations."""

    def __init__(self, copies: SideCopies, recordings: int, chunk: int = SCORE_CHUNK):
        self.copies, self.chunk = copies, chunk
        self.pending: list[torch.Tensor] = []
        self.owners: list[tuple[int, int]] = []
        self.in_flight: deque[tuple[HostCopy, list[tuple[int, int]]]] = deque()
        self.scores: list[list[np.ndarray]] = [[] for _ in range(recordings)]

    def add(self, probs: torch.Tensor, owners: Sequence[tuple[int, int]]) -> None:
        self.pending.append(probs)
        self.owners.extend(owners)
        if sum(len(p) for p in self.pending) >= self.chunk:
            self._send()

    def finish(self) -> list[np.ndarray]:
        self._send()
        while self.in_flight:
            self._receive()
        return [np.concatenate(s) if s else np.zeros((0, 0), np.float32) for s in self.scores]

    def _send(self) -> None:
        if self.pending:
            joined = self.pending[0] if len(self.pending) == 1 else torch.cat(self.pending)
            self.in_flight.append((self.copies.to_host(joined), self.owners))
            self.pending, self.owners = [], []
        while len(self.in_flight) > 1:
            self._receive()

    def _receive(self) -> None:
        copy, owners = self.in_flight.popleft()
        scores = copy.numpy()
        first = 0
        for owner, count in owners:
            self.scores[owner].append(scores[first : first + count].copy())
            first += count


def score_recordings(
    recordings: list[Path],
    scorer: WindowScorer,
    step: int,
    batch_size: int,
    channel: str | int = "mix",
    block_s: float = 30.0,
) -> list[np.ndarray]:
    """Per recording, its windows' scores (n_windows, n_classes), with a progress bar in the log.

    A pipeline: recordings decode in a thread pool while the device computes; blocks go to the
    device and scores come back on a side stream (CUDA), overlapping the spectrograms and
    inference queued on the compute stream."""
    settings = scorer.frontend.settings
    copies = SideCopies(scorer.device)
    chunks = recording_chunks(recordings, scorer, step, channel, block_s, copies)
    gather = ScoreGather(copies, len(recordings))
    hop_s = step * settings.frame_s
    total_s = sum(duration_s(p) for p in recordings)
    with tqdm(
        total=round(total_s),
        unit="s",
        desc="audio scored",
        file=LogStream(log),
        mininterval=30,
        ascii=True,
    ) as progress:
        for index, (batch, owners) in enumerate(full_batches(chunks, batch_size)):
            if index == 0:
                log_startup(log)
            gather.add(scorer.scores(batch, owners), owners)
            progress.update(round(len(batch) * hop_s))
    scores = gather.finish()
    for path, found in zip(recordings, scores):
        log.info("%s: %d windows scored", path.name, len(found))
    return scores


def recording_chunks(
    recordings: list[Path],
    scorer: WindowScorer,
    step: int,
    channel: str | int,
    block_s: float,
    copies: SideCopies | None = None,
) -> Iterator[tuple[int, torch.Tensor]]:
    """(recording index, window chunk) in order; recordings decode ahead in a thread pool and
    their blocks go to the device through `copies` (a side stream on CUDA)."""
    copies = copies or SideCopies(scorer.device)
    rate = scorer.frontend.settings.sample_rate
    decoded = decode_recordings(recordings, rate, block_s, channel, workers=DECODERS)
    for index, blocks in enumerate(decoded):
        on_device = (copies.to_device(block) for block in blocks)
        for windows in stream_windows(on_device, scorer.frontend, step, scorer.device):
            yield index, windows


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
