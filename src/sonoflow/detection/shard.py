"""One detection shard: score its recordings one by one, resumable, then assemble.

Each finished recording leaves its window scores (parquet) and a status record (JSON) in a
work folder that Snakemake never deletes. A shard that is killed (time limit, preemption)
and run again skips what is already there; recordings that cannot be decoded are recorded
as skipped with the reason, and the shard goes on. When every recording is done, the
per-recording results are streamed into the shard's outputs, one recording at a time, so
memory stays flat in the number and length of recordings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf
import torch

from sonoflow.common.atomic import atomic_path, write_json
from sonoflow.common.device import pick_device
from sonoflow.common.identity import file_identity
from sonoflow.corpus.audio import AudioError, audio_info, check_channel
from sonoflow.detection.listing import output_name
from sonoflow.prediction.predict import (
    WindowScorer,
    load_fold_models,
    recording_metadata,
    score_recordings,
    scores_table,
    window_step,
)

log = logging.getLogger(__name__)

STATUS_COLUMNS = [
    "recording",
    "path",
    "status",
    "reason",
    "duration_s",
    "windows",
    "sample_rate",
    "channels",
]
META_KEY = b"sonoflow"
SPREAD = "fold_spread:"  # prefix of the columns of the fold models' standard deviations


def spread_column(label: str) -> str:
    """The scores column of a class's fold spread (standard deviation of the fold models'
    scores of a window); shards written before it existed lack it (read as NaN)."""
    return f"{SPREAD}{label}"


@dataclass(frozen=True)
class ScoringSettings:
    """The keys of a `detect` entry that change window scores (see the config schema)."""

    hop_s: float
    batch_size: int = 128
    channel: str | int = "mix"
    block_s: float = 30.0
    score_dtype: str = "float16"
    metadata: str | None = None

    @classmethod
    def from_config(cls, entry: dict) -> ScoringSettings:
        return cls(**{k: entry[k] for k in cls.__dataclass_fields__ if k in entry})


@dataclass
class ShardResult:
    scored: list[str] = field(default_factory=list)  # recordings scored by this run
    reused: list[str] = field(default_factory=list)  # finished by an earlier, killed run
    skipped: list[str] = field(default_factory=list)  # could not be decoded (this run or before)


def detect_shard(
    root: str | Path,
    recordings: list[str],
    model_paths: list[Path],
    work_dir: str | Path,
    scores_path: str | Path,
    status_path: str | Path,
    settings: ScoringSettings,
    threads: int = 1,
    metadata_key: str = "detect.NAME.metadata",
    channel_key: str = "detect.NAME.channel",
    compile: str = "none",
) -> ShardResult:
    """Score `recordings` (paths relative to `root`) with the fold ensemble; write the
    shard's window scores (parquet) and one status row per recording (CSV). A skipped
    recording's reason names the config keys in `metadata_key` and `channel_key`.
    `compile`: how the models run (WindowScorer's); without metadata fusion one scorer serves
    the whole shard, so a compiled or exported graph is made once per job."""
    torch.set_num_threads(max(1, threads))
    device = pick_device()
    models, checkpoints, classes, frontend = load_fold_models(model_paths, device)
    features = frontend.settings
    step = window_step(features, settings.hop_s)
    work = work_dir_for(work_dir, model_paths, settings)
    frontend = frontend.to(device)
    result = ShardResult()
    progress = Progress(len(recordings))
    scorer = None
    for relative in recordings:
        status_file = work / f"{relative}.json"
        path = Path(root) / relative
        identity = file_identity(path)
        if status_file.exists():
            status = json.loads(status_file.read_text())
            if status.get("file") == identity:
                kept = result.skipped if status["status"] == "skipped" else result.reused
                kept.append(relative)
                progress.done(status, resumed=True)
                continue
            log.info("%s changed since an earlier run (size or modification time): rescored", path)
            status_file.unlink()
            (work / f"{relative}.parquet").unlink(missing_ok=True)
        metadata = [
            recording_metadata(c, [path], settings.metadata, metadata_key) for c in checkpoints
        ]
        if scorer is None or any(m is not None for m in metadata):
            scorer = WindowScorer(
                models, frontend, device, metadata, compile, spread=True, threads=threads
            )
        status = score_recording(path, relative, scorer, step, classes, settings, work, channel_key)
        status["file"] = identity
        write_json(status_file, status)  # the marker that the recording is finished
        (result.skipped if status["status"] == "skipped" else result.scored).append(relative)
        progress.done(status, resumed=False)
    meta = {"classes": classes, "features": asdict(features), "hop_s": settings.hop_s}
    assemble(work, recordings, classes, settings.score_dtype, meta, scores_path, status_path)
    return result


def work_dir_for(work_dir: str | Path, model_paths: list[Path], settings: ScoringSettings) -> Path:
    """A sub-folder named by a fingerprint of the models and scoring settings, so results of
    other models or settings are never reused; stale sibling folders are removed."""
    digest = hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode())
    for path in model_paths:
        with open(path, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    work = Path(work_dir) / digest.hexdigest()[:16]
    if Path(work_dir).is_dir():
        for stale in Path(work_dir).iterdir():
            if stale.is_dir() and stale != work:
                log.info("removing results of other models or settings: %s", stale)
                shutil.rmtree(stale, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    return work


def score_recording(
    path: Path,
    relative: str,
    scorer: WindowScorer,
    step: int,
    classes: list[str],
    settings: ScoringSettings,
    work: Path,
    channel_key: str = "detect.NAME.channel",
) -> dict:
    """Score one recording into `work`; its status record (scored, or skipped with a reason
    that names `channel_key` when the file lacks the channel)."""
    status = {"recording": output_name(relative), "path": relative, "status": "scored"}
    status.update(reason="", duration_s=0.0, windows=0, sample_rate=0, channels=0)
    try:
        info = audio_info(path)
        status.update(
            duration_s=info.duration_s, sample_rate=info.sample_rate, channels=info.channels
        )
        if info.frames == 0:
            raise AudioError(f"{path}: no samples")
        least_s = scorer.frontend.settings.n_fft / scorer.frontend.settings.sample_rate
        if info.duration_s < least_s:
            raise AudioError(
                f"{path}: {info.duration_s:.4f} s is shorter than one spectrogram frame "
                f"({least_s:.4f} s)"
            )
        check_channel(settings.channel, info.channels, path, channel_key)
        (scores,) = score_recordings(
            [path], scorer, step, settings.batch_size, settings.channel, settings.block_s
        )
        if not np.isfinite(scores).all():
            raise AudioError(f"{path}: NaN or infinite samples (non-finite window scores)")
    except (AudioError, sf.LibsndfileError) as err:
        log.warning("skipped %s", err)
        return {**status, "status": "skipped", "reason": str(err).replace(f"{path}: ", "")}
    means, spreads = scores[:, : len(classes)], scores[:, len(classes) :]
    table = scores_table([path], [means], classes, scorer.frontend.settings, settings.hop_s)
    table["recording"] = status["recording"]
    spread = {
        spread_column(c): spreads.reshape(len(table), len(classes))[:, i]
        for i, c in enumerate(classes)
    }
    table = table.assign(**spread)
    table = table.astype({c: settings.score_dtype for c in [*classes, *spread]})
    with atomic_path(work / f"{relative}.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    return {**status, "windows": len(table)}


def assemble(
    work: Path,
    recordings: list[str],
    classes: list[str],
    dtype: str,
    meta: dict,
    scores_path: str | Path,
    status_path: str | Path,
) -> None:
    """The shard's outputs from the per-recording results, written one recording at a time."""
    fields = [("recording", pa.string()), ("start_s", pa.float64()), ("end_s", pa.float64())]
    columns = [*classes, *(spread_column(c) for c in classes)]
    fields += [(c, pa.from_numpy_dtype(np.dtype(dtype))) for c in columns]
    schema = pa.schema(fields, metadata={META_KEY: json.dumps(meta)})
    statuses = []
    with atomic_path(scores_path) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for relative in recordings:
            status = json.loads((work / f"{relative}.json").read_text())
            statuses.append(status)
            if status["status"] == "scored":
                table = with_spread(pq.read_table(work / f"{relative}.parquet"), classes)
                writer.write_table(table.select(schema.names).cast(schema))
    with atomic_path(status_path) as tmp:
        pd.DataFrame(statuses, columns=STATUS_COLUMNS).to_csv(tmp, index=False)


def with_spread(table: pa.Table, classes: list[str]) -> pa.Table:
    """`table` with a NaN fold spread column for each class that lacks one: a recording
    scored before spreads were stored is reused as it is, not scored again."""
    for label in classes:
        if spread_column(label) not in table.column_names:
            nan = pa.array(np.full(table.num_rows, np.nan, np.float32))
            table = table.append_column(spread_column(label), nan)
    return table


def read_scores_meta(path: str | Path) -> dict:
    """Classes, feature settings and hop of a shard's scores file."""
    return json.loads(pq.read_schema(path).metadata[META_KEY])


class Progress:
    """Logs recordings done, audio hours scored and audio hours scored per second."""

    def __init__(self, total: int):
        self.total, self.count, self.skipped, self.resumed = total, 0, 0, 0
        self.audio_s, self.start = 0.0, time.monotonic()

    def done(self, status: dict, resumed: bool) -> None:
        self.count += 1
        self.skipped += status["status"] == "skipped"
        self.resumed += resumed
        if not resumed and status["status"] == "scored":
            self.audio_s += status["duration_s"]
        elapsed = max(time.monotonic() - self.start, 1e-9)
        log.info(
            "%d/%d recordings done (%d from an earlier run, %d skipped); %.3f audio hours "
            "scored in %.0f s, %.4f audio hours per second",
            self.count,
            self.total,
            self.resumed,
            self.skipped,
            self.audio_s / 3600,
            elapsed,
            self.audio_s / 3600 / elapsed,
        )
