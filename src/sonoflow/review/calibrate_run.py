"""The `calibrate` stage: a review's verdicts and its detect run's detections in, the
calibration, calibrated detections, call rates and their plots out."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.common.atomic import write_csv
from sonoflow.common.tables import TEXT_COLUMNS, read_table
from sonoflow.review.calibration import CalibrationSettings, calibrate, calibrated_detections
from sonoflow.review.call_rates import call_rates
from sonoflow.review.figures import plot_calibration, plot_call_rates
from sonoflow.review.sample import Design, detection_cells
from sonoflow.review.verdicts import read_verdicts, verdict_files

log = logging.getLogger(__name__)

SAMPLE_TEXT = TEXT_COLUMNS | {"id", "stratum", "verdict", "corrected_class", "correction"}


@dataclass
class CalibrateOutputs:
    calibration: str
    detections: str
    call_rates: str
    calibration_plot: str
    call_rates_plot: str


def read_sample(path: str | Path) -> pd.DataFrame:
    return read_table(path, text_columns=SAMPLE_TEXT)


def verdict_table(sample: pd.DataFrame, folder: str | Path, labels: list[str]) -> pd.DataFrame:
    """The sample with its verdicts; a folder that does not exist or holds no verdict file
    yet leaves every clip unreviewed (the log says so)."""
    if not Path(folder).is_dir() or not verdict_files(folder):
        log.warning("%s: no verdict files yet; every clip counts as unreviewed", folder)
        return sample.assign(verdict="", corrected_class="", source="", correct=np.nan)
    verdicts = read_verdicts(folder, sample, labels)
    log.info("verdicts read from %d files: %s", len(verdicts.files), verdicts.files)
    log.info("per class:\n%s", verdicts.counts().to_string())
    return verdicts.table


def stratified_cells(detections: pd.DataFrame, design_path: str | Path) -> pd.DataFrame:
    """The detections with their sampling cells where the sample is stratified (so that each
    cell's verdicts correct the curve there); an `uncertain` sample says nothing about its
    cells, and the detections are returned as they are."""
    design = Design(**json.loads(Path(design_path).read_text()))
    if design.settings["strategy"] != "stratified":
        return detections
    return detections.assign(cell=detection_cells(detections, design))


def run_calibrate(
    sample_path: str | Path,
    design_path: str | Path,
    verdict_folder: str | Path,
    detections_path: str | Path,
    summary_path: str | Path,
    labels: list[str],
    settings: CalibrationSettings,
    stratum: str,
    outputs: CalibrateOutputs,
) -> pd.DataFrame:
    """Write every output; return calibration.csv's table."""
    sample = read_sample(sample_path)
    table = verdict_table(sample, verdict_folder, labels)
    detections = stratified_cells(read_table(detections_path), design_path)
    summary = read_table(summary_path)
    calibration, curves = calibrate(table, detections, labels, settings)
    write_csv(outputs.calibration, calibration, float_format="%.6g")
    write_csv(outputs.detections, calibrated_detections(detections, curves), float_format="%.4f")
    rates = call_rates(detections, summary, curves, stratum, settings.seed)
    write_csv(outputs.call_rates, rates, float_format="%.4f")
    plot_calibration(curves, calibration, outputs.calibration_plot)
    plot_call_rates(rates, outputs.call_rates_plot)
    for note in calibration.drop_duplicates("class")["note"]:
        if note:
            log.warning("%s", note)
    return calibration
