"""Call rates: units from time stamps, audio hours, and the coverage of true calls."""

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from simulated_review import review, season, stratified_sample, with_cells

from sonoflow.review.calibration import CalibrationSettings, calibrate
from sonoflow.review.call_rates import (
    audio_units,
    call_rates,
    detection_units,
    hour_pieces,
    stratum_of,
    true_calls,
)


def simulated(seed, size=80):
    rng = np.random.default_rng(seed)
    detections = with_cells(season(rng))  # cells: each cell's residual corrects the curve
    verdicts = review(stratified_sample(detections, rng, size=size), rng)
    settings = CalibrationSettings([0.5], resamples=300, seed=seed, min_verdicts=1)
    _, curves = calibrate(verdicts, detections, ["hum"], settings)
    return detections, curves


def test_strata_are_the_first_folder_level():
    assert stratum_of("siteA/day1/r1", "site") == "siteA"
    assert stratum_of("r1", "site") == "."
    assert stratum_of("siteA/r1", "none") == "."


def test_audio_is_cut_at_clock_hours_and_days():
    pieces = hour_pieces(datetime(2024, 5, 1, 23, 30), 5400)
    assert [(p.hour, s) for p, s in pieces] == [(23, 1800.0), (0, 3600.0)]
    summary = pd.DataFrame(
        {
            "recording": ["a/20240501_233000", "a/tape7", "b/tape8"],
            "status": ["scored", "scored", "skipped"],
            "duration_s": [5400.0, 600.0, 0.0],
        }
    )
    audio = audio_units(summary, "site").set_index(["unit", "stratum", "key"])["seconds"]
    assert audio[("day", "a", "2024-05-01")] == 1800.0
    assert audio[("day", "a", "2024-05-02")] == 3600.0
    assert audio[("hour", "a", "00")] == 3600.0
    assert audio[("recording", "a", "a/tape7")] == 600.0
    assert ("recording", "b", "b/tape8") not in audio.index  # skipped: no audio scored


def test_detections_take_their_time_from_the_recording_name_and_offset():
    detections = pd.DataFrame(
        {"recording": ["s/20240501_235900", "s/tape"], "start_s": [120.0, 5.0]}
    )
    units = detection_units(detections, "site")
    assert units["day"].tolist() == ["2024-05-02", ""]
    assert units["hour"].tolist() == [0, -1]


def test_call_rates_per_site_day_hour_and_untimed_recording():
    detections, curves = simulated(1)
    untimed = detections.iloc[:5].assign(recording="site0/tape", path="site0/tape.wav")
    detections = pd.concat([detections, untimed], ignore_index=True)
    recordings = detections["recording"].unique().tolist() + ["site9/20240509_050000"]
    summary = pd.DataFrame({"recording": recordings, "status": "scored", "duration_s": 3600.0})
    rates = call_rates(detections, summary, curves, "site", seed=0)
    days = rates[rates["unit"] == "day"]
    assert days["detections"].sum() == len(detections) - 5
    assert set(days["stratum"]) == {"site0", "site1", "site2", "site9"}
    quiet = days[days["stratum"] == "site9"].iloc[0]  # audio, no detection: 0 calls
    assert (quiet["detections"], quiet["true_calls"], quiet["audio_hours"]) == (0, 0.0, 1.0)
    assert rates[rates["unit"] == "recording"]["key"].tolist() == ["site0/tape"]
    hours = rates[rates["unit"] == "hour"]["audio_hours"]
    assert hours.sum() == pytest.approx(37.0)  # 36 recordings + site9
    busy = rates[rates["detections"] > 0]
    assert (busy["true_calls_low"] <= busy["true_calls"]).all()
    assert (busy["true_calls"] <= busy["true_calls_high"]).all()
    assert (busy["true_calls_high"] <= busy["detections"]).all()


def test_true_calls_per_recording_lie_in_their_interval_about_as_often_as_95_percent():
    inside, total = 0, 0
    for seed in range(20):
        detections, curves = simulated(200 + seed)
        rng = np.random.default_rng(seed)
        found = true_calls(curves["hum"], detections, detections["recording"], rng)
        truth = detections.groupby("recording")["truth"].sum().reindex(found["key"]).to_numpy()
        low, high = found["true_calls_low"], found["true_calls_high"]
        inside += int(((low <= truth) & (truth <= high)).sum())
        total += len(found)
    rate = inside / total
    print(f"true calls per recording inside their 95% interval: {rate:.3f} of {total}")
    assert 0.9 <= rate <= 0.99
