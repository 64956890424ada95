"""How many true calls a run's detections hold, per site and day (per recording where the
recordings carry no time stamp) and per hour of day, with intervals.

Per unit, the estimate is the calibration's prediction (`sonoflow.review.calibration`): a
reviewed detection counts its verdict, any other its P(correct) (with its sampling cell's
correction where the sample is stratified); the interval comes from
the same bootstrap (curve refitted on resampled verdicts, unreviewed detections drawn as
Bernoulli(P)), so it covers the unit's realised number of true calls, not only its
expectation. A site's day holds few reviewed clips or none, which is why the estimate is
the curve's and not a design-weighted sum of verdicts (see the calibration module).
Audio hours are the scored recordings' durations, split at day and hour boundaries.
Time stamps come from the recording names (YYYYMMDD_HHMMSS, as AudioMoth and Song Meter
write them); a detection's time is its recording's start plus its offset.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from sonoflow.detection.collect import recording_start
from sonoflow.review.calibration import ClassCurve, interval, known_verdicts, predicted_totals
from sonoflow.review.sample import stratum_of

COLUMNS = [
    "class",
    "unit",
    "stratum",
    "key",
    "detections",
    "true_calls",
    "true_calls_low",
    "true_calls_high",
    "audio_hours",
    "true_calls_per_hour",
]


def detection_units(detections: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Each detection's stratum, day (YYYY-MM-DD, "" without a time stamp) and hour of day
    (-1 without)."""
    starts = {r: recording_start(r) for r in detections["recording"].unique()}
    days, hours = [], []
    for recording, offset in zip(detections["recording"], detections["start_s"]):
        start = starts[recording]
        if start is None:
            days.append("")
            hours.append(-1)
        else:
            moment = start + timedelta(seconds=float(offset))
            days.append(moment.date().isoformat())
            hours.append(moment.hour)
    return pd.DataFrame(
        {
            "stratum": [stratum_of(r, mode) for r in detections["recording"]],
            "recording": detections["recording"].astype(str).to_numpy(),
            "day": days,
            "hour": hours,
        },
        index=detections.index,
    )


def audio_units(summary: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Seconds of scored audio per (unit, stratum, key): `day` and `hour` pieces of the
    time-stamped recordings, `recording` for the others."""
    rows = []
    scored = summary[summary["status"] == "scored"]
    for recording, seconds in zip(scored["recording"], scored["duration_s"].astype(float)):
        stratum, start = stratum_of(recording, mode), recording_start(str(recording))
        if start is None:
            rows.append(("recording", stratum, str(recording), seconds))
            continue
        for moment, piece in hour_pieces(start, seconds):
            rows.append(("day", stratum, moment.date().isoformat(), piece))
            rows.append(("hour", stratum, f"{moment.hour:02d}", piece))
    frame = pd.DataFrame(rows, columns=["unit", "stratum", "key", "seconds"])
    frame = frame.astype({"unit": object, "stratum": object, "key": object, "seconds": float})
    return frame.groupby(["unit", "stratum", "key"], as_index=False)["seconds"].sum()


def hour_pieces(start: datetime, seconds: float) -> list[tuple[datetime, float]]:
    """[start, start + seconds) cut at clock hours: (piece start, piece seconds)."""
    pieces, moment, end = [], start, start + timedelta(seconds=seconds)
    while moment < end:
        boundary = moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        stop = min(boundary, end)
        pieces.append((moment, (stop - moment).total_seconds()))
        moment = stop
    return pieces


def true_calls(
    curve: ClassCurve, detections: pd.DataFrame, keys: pd.Series, rng: np.random.Generator
) -> pd.DataFrame:
    """Per key of `keys` (one per detection of `detections`, all of the curve's class):
    detections, true_calls and its 95% interval."""
    names, groups = np.unique(keys.astype(str).to_numpy(), return_inverse=True)
    known = known_verdicts(detections, curve.reviewed)
    cells = detections["cell"].to_numpy() if "cell" in detections else None
    scores = detections["score"].to_numpy(dtype=float)
    point, boot = predicted_totals(curve, scores, known, groups, len(names), rng, cells)
    low, high = interval(boot)
    return pd.DataFrame(
        {
            "key": names,
            "detections": np.bincount(groups, minlength=len(names)),
            "true_calls": point,
            "true_calls_low": low,
            "true_calls_high": high,
        }
    )


def call_rates(
    detections: pd.DataFrame,
    summary: pd.DataFrame,
    curves: dict[str, ClassCurve],
    mode: str = "site",
    seed: int = 0,
) -> pd.DataFrame:
    """call_rates.csv: per class, rows per site and day and per site and hour of day for
    time-stamped recordings, per recording for the others; units with audio but no
    detection get 0 calls."""
    rng = np.random.default_rng(seed)
    audio = audio_units(summary, mode)
    parts = []
    for label, curve in curves.items():
        mine = detections[detections["label"] == label]
        units = detection_units(mine, mode)
        stamped = units["day"] != ""
        keyed = {
            "day": (stamped, units["stratum"] + "\t" + units["day"]),
            "hour": (stamped, units["stratum"] + "\t" + units["hour"].map("{:02d}".format)),
            "recording": (~stamped, units["stratum"] + "\t" + units["recording"]),
        }
        for unit, (mask, keys) in keyed.items():
            found = true_calls(curve, mine[mask.to_numpy()], keys[mask], rng)
            pairs = [key.split("\t", 1) for key in found["key"]]
            found["stratum"] = pd.Series([stratum for stratum, _ in pairs], dtype=object)
            found["key"] = pd.Series([key for _, key in pairs], dtype=object)
            heard = audio[audio["unit"] == unit][["stratum", "key", "seconds"]]
            table = heard.merge(found, on=["stratum", "key"], how="outer")
            table = table.fillna({"detections": 0, "seconds": 0.0})
            empty = table["detections"] == 0
            for column in ("true_calls", "true_calls_low", "true_calls_high"):
                table.loc[empty, column] = 0.0
            parts.append(table.assign(**{"class": label, "unit": unit}))
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    table["detections"] = table["detections"].astype(int)
    table["audio_hours"] = table["seconds"] / 3600
    with np.errstate(invalid="ignore", divide="ignore"):
        per_hour = table["true_calls"] / table["audio_hours"]
    table["true_calls_per_hour"] = per_hour.where(table["audio_hours"] > 0)
    order = {"day": 0, "hour": 1, "recording": 2}
    table = table.sort_values(
        ["class", "unit", "stratum", "key"], key=lambda c: c.map(order) if c.name == "unit" else c
    )
    return table[COLUMNS].reset_index(drop=True)
