"""One review sample from a finished detect run: draw it, keep a changed sample's previous
version, and write sample.csv, design.json, the Raven tables, the clips and the page."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from sonoflow.common.atomic import write_json, write_text
from sonoflow.common.tables import read_table
from sonoflow.detection.collect import frequency_band, labels_of
from sonoflow.detection.shard import read_scores_meta
from sonoflow.review.outputs import keep_previous, sample_csv, write_clips, write_tables
from sonoflow.review.page import review_page
from sonoflow.review.sample import Design, SampleSettings, draw_sample
from sonoflow.review.windows import spreads_and_misses

log = logging.getLogger(__name__)


def build_review(
    name: str,
    detections_path: str | Path,
    thresholds_path: str | Path,
    shard_scores: list[str | Path],
    root: str | Path,
    entry: dict,
    out_dir: str | Path,
    history_dir: str | Path,
    channel: str | int = "mix",
) -> pd.DataFrame:
    """Write the review `name` (config entry `entry`) under `out_dir`; return the sample."""
    out = Path(out_dir)
    settings = SampleSettings.from_config(entry)
    thresholds = {k: float(v) for k, v in json.loads(Path(thresholds_path).read_text()).items()}
    detections = read_table(detections_path)
    misses = settings.include_misses if settings.strategy == "uncertain" else 0
    detections, candidates = spreads_and_misses(detections, shard_scores, thresholds, misses)
    previous = read_previous(out)
    sample, design = draw_sample(detections, thresholds, settings, candidates, previous)
    log.info(
        "%s sample of %d clips from %d detections: %s",
        settings.strategy,
        len(sample),
        len(detections),
        sample.groupby("class").size().to_dict(),
    )
    text = sample_csv(sample)
    keep_previous(out / "sample.csv", text, history_dir)
    write_text(out / "sample.csv", text)
    write_json(out / "design.json", asdict(design))
    band = frequency_band(read_scores_meta(shard_scores[0])["features"])
    (out / "tables").mkdir(parents=True, exist_ok=True)  # also for an empty sample
    write_tables(sample, root, band, out / "tables")
    write_clips(sample, root, out / "clips", float(entry["padding_s"]), channel)
    write_text(out / "index.html", review_page(name, text, labels_of(shard_scores[0])))
    return sample


def read_previous(out: Path) -> tuple[pd.DataFrame, Design] | None:
    """The sample and design in place, if both are there (for keeping rows)."""
    if not ((out / "sample.csv").exists() and (out / "design.json").exists()):
        return None
    sample = pd.read_csv(out / "sample.csv", dtype={"id": str}, keep_default_na=False)
    return sample, Design(**json.loads((out / "design.json").read_text()))
