"""A simulated season and reviewer for the calibration and call-rate tests: detections
whose truth is drawn from a known calibration curve, a stratified review sample in the
format of results/review/NAME/sample.csv, and a reviewer who answers from the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sonoflow.review.sample import cell_names

TRUE_INTERCEPT, TRUE_SLOPE = -1.0, 1.5


def true_p(scores, intercept=TRUE_INTERCEPT, slope=TRUE_SLOPE) -> np.ndarray:
    s = np.clip(scores, 1e-4, 1 - 1e-4)
    return 1 / (1 + np.exp(-(intercept + slope * np.log(s / (1 - s)))))


def season(rng, sites=3, recordings=12, per_recording=25, labels=("hum",), threshold=0.3):
    """Detections (id, recording, path, label, start_s, end_s, score, start_time, truth):
    recordings named SITE/YYYYMMDD_HHMMSS like an AudioMoth's, scores above `threshold`."""
    rows = []
    for site in range(sites):
        for r in range(recordings):
            day, hour = 1 + r // 4, 4 + 2 * (r % 4)
            name = f"site{site}/202405{day:02d}_{hour:02d}0000"
            for label in labels:
                n = rng.poisson(per_recording * (1 + site) / 2)
                z = rng.normal(0.8, 1.5, size=4 * n + 10)
                scores = 1 / (1 + np.exp(-z))
                scores = np.round(scores[scores >= threshold][:n], 4)
                starts = np.sort(rng.uniform(0, 3500, size=len(scores)))
                for s, start in zip(scores, starts):
                    rows.append((name, f"{name}.wav", label, start, start + 1.0, s, day, hour))
    frame = pd.DataFrame(
        rows, columns=["recording", "path", "label", "start_s", "end_s", "score", "d", "h"]
    )
    stamp = pd.to_datetime(
        "2024-05-" + frame["d"].map("{:02d}".format) + " " + frame["h"].map("{:02d}".format),
        format="%Y-%m-%d %H",
    ) + pd.to_timedelta(frame["start_s"], unit="s")
    frame["start_time"] = stamp.dt.strftime("%Y-%m-%dT%H:%M:%S.000")
    frame["truth"] = (rng.random(len(frame)) < true_p(frame["score"])).astype(int)
    frame.insert(0, "id", [f"d{i}" for i in range(len(frame))])
    return frame.drop(columns=["d", "h"])


def with_cells(detections, bins=4):
    """The detections with their stratum (site), quantile score bin per class and sampling
    cell ("bin|site", as the calibration names a sampled clip's)."""
    stratum = detections["recording"].str.split("/").str[0]
    score_bin = detections.groupby("label")["score"].transform(
        lambda s: pd.qcut(s, bins, labels=False, duplicates="drop")
    )
    return detections.assign(
        stratum=stratum, score_bin=score_bin, cell=cell_names(score_bin, stratum)
    )


def stratified_sample(detections, rng, size=80, bins=4):
    """Per class: quantile score bins x site cells sharing `size` equally, a simple random
    sample in each, with inclusion probability sampled / cell size."""
    parts = []
    for _, rows in with_cells(detections, bins).groupby("label"):
        cells = rows.drop(columns="cell").groupby(["score_bin", "stratum"])
        per_cell = max(1, size // cells.ngroups)
        for _, cell in cells:
            k = min(per_cell, len(cell))
            picked = cell.iloc[rng.choice(len(cell), size=k, replace=False)]
            parts.append(picked.assign(inclusion_probability=k / len(cell)))
    sample = pd.concat(parts, ignore_index=True)
    return sample.rename(columns={"label": "class"}).assign(fold_spread=0.0, verdict="")


def review(sample, rng, unsure=0.1, unreviewed=0.05):
    """The verdict table a person would leave: yes/no from the truth, some unsure, some
    left empty (what `read_verdicts` returns, with `correct`)."""
    u = rng.random(len(sample))
    verdict = np.where(sample["truth"] == 1, "yes", "no").astype(object)
    verdict[u < unsure] = "unsure"
    verdict[u > 1 - unreviewed] = ""
    table = sample.assign(verdict=verdict, corrected_class="")
    table["correct"] = table["verdict"].map({"yes": 1.0, "no": 0.0}).astype(float)
    return table
