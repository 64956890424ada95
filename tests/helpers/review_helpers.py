"""A small finished detect run written by hand (recordings, detections.csv, thresholds,
shard scores with fold spreads) for the review sample's tests, and a review built on it."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

from sonoflow.detection.shard import META_KEY, spread_column
from sonoflow.review.build import build_review

LABELS = ["hum", "chirp"]
THRESHOLDS = {"hum": 0.5, "chirp": 0.6}
RATES = {"siteA/20240501_050000.wav": 16000, "siteB/day1/rec2.wav": 22050, "top.wav": 16000}
FEATURES = {"fmin": 50.0, "fmax": 8000.0, "sample_rate": 16000}


def make_detect_run(folder: Path, seed: int = 0) -> dict:
    """Recordings of 20 s, windows of 0.5 s every 0.25 s with random scores, detections
    where a class's score passes its threshold; the paths build_review reads."""
    rng = np.random.default_rng(seed)
    root = folder / "season"
    run = folder / "detect"
    tables, events = [], []
    for relative, rate in RATES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        t = np.arange(20 * rate) / rate
        wave = 0.05 * rng.standard_normal(len(t)) + 0.2 * np.sin(2 * np.pi * 1500 * t) * (t % 4 < 1)
        sf.write(path, wave.astype(np.float32), rate)
        start = np.arange(0, 19.5, 0.25)
        name = relative.rsplit(".", 1)[0]
        windows = pd.DataFrame({"recording": name, "start_s": start, "end_s": start + 0.5})
        for label in LABELS:
            windows[label] = rng.beta(1, 2, len(start)).astype(np.float32)
            windows[spread_column(label)] = rng.uniform(0, 0.3, len(start)).astype(np.float32)
            above = windows[windows[label] >= THRESHOLDS[label]]
            for row in above.itertuples():
                events.append([name, relative, label, row.start_s, row.end_s, getattr(row, label)])
        tables.append(windows)
    run.mkdir(parents=True)
    scores = pa.Table.from_pandas(pd.concat(tables, ignore_index=True), preserve_index=False)
    meta = {"classes": [*LABELS, "noise"], "features": FEATURES, "hop_s": 0.25}
    scores = scores.replace_schema_metadata({META_KEY: json.dumps(meta)})
    pq.write_table(scores, run / "shard0.parquet")
    columns = ["recording", "path", "label", "start_s", "end_s", "score"]
    detections = pd.DataFrame(events, columns=columns).assign(low_hz=50.0, high_hz=8000.0)
    detections.assign(start_time="").to_csv(run / "detections.csv", index=False)
    (run / "thresholds.json").write_text(json.dumps(THRESHOLDS))
    return {"root": root, "run": run}


def review_entry(**changes) -> dict:
    entry = {
        "strategy": "stratified",
        "size": 6,
        "bins": 2,
        "stratum": "site",
        "uncertainty": "spread",
        "include_misses": 0,
        "seed": 0,
        "padding_s": 0.5,
    }
    return entry | changes


def build(made: dict, out: Path, **changes) -> pd.DataFrame:
    run = made["run"]
    return build_review(
        "season",
        run / "detections.csv",
        run / "thresholds.json",
        [run / "shard0.parquet"],
        made["root"],
        review_entry(**changes),
        out / "review/season",
        out / "review_history/season",
    )
