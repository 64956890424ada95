"""Evaluation on CPU: thresholds -> events -> one-to-one matching -> metrics.

Scores become events through the post-processing of `events` (median filter, hysteresis,
merging, duration limits, boundary refinement) at every threshold of the sweep.
Per threshold and class (plus micro `all` and macro `macro`): TP, FP, FN, precision, recall,
F1 under the configured `match`, the same under each matcher (`iou_*`, `collar_*`), mean
onset and offset errors of matched pairs, recall per annotation quality, correlation of
per-tape call counts, segment-based F1; over the threshold sweep: average precision and
the best-F1 threshold. A tape is one benchmark recording.

Undefined rates follow sed_eval: precision without detections and recall without reference
events are NaN, and so is an F1 built from them; macro averages skip NaN.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sonoflow.common.schema import section_with_defaults
from sonoflow.corpus.raven import write_selection_table
from sonoflow.evaluation.events import (
    PostProcessing,
    ScoreTrack,
    score_track,
    track_events,
    window_spans,
)
from sonoflow.evaluation.matching import MODES, iou_matrix, mode_counts

log = logging.getLogger(__name__)
ALL, MACRO = "all", "macro"
COUNTS = ["tp", "fp", "fn", "n_reference", "n_detected", "seg_tp", "seg_fp", "seg_fn"]


@cache
def _defaults() -> dict:
    return section_with_defaults("evaluation", {})


def with_defaults(settings: dict) -> dict:
    """`settings` (an `evaluation` section, plus `hop_s`) with the schema's defaults for the
    keys it lacks, for library callers that give only a few."""
    return {**_defaults(), **settings}


def sweep_thresholds(settings: dict) -> list[float]:
    """The configured thresholds plus `sweep_steps` evenly spaced ones in [0, 1]."""
    sweep = np.linspace(0, 1, settings["sweep_steps"] + 1) if settings["sweep_steps"] else []
    return sorted({round(float(t), 6) for t in [*settings["thresholds"], *sweep]})


def recording_tracks(windows: pd.DataFrame, labels: list[str], settings: dict) -> dict:
    """Per class, the smoothed score track of one recording's windows."""
    settings = with_defaults(settings)
    spans = window_spans(
        windows["start_s"].to_numpy(),
        windows["end_s"].to_numpy(),
        settings["hop_s"],
        settings["event_extent"],
    )
    return {
        label: score_track(
            spans, windows[label].to_numpy(), settings["hop_s"], settings["median_filter_s"]
        )
        for label in labels
    }


def events_at(tracks: dict[str, ScoreTrack], threshold: float, settings: dict) -> dict:
    """Per class, the (start, end, score) events of a recording's tracks at `threshold`."""
    post = PostProcessing.from_settings(with_defaults(settings))
    return {label: track_events(track, threshold, post) for label, track in tracks.items()}


def recording_events(
    windows: pd.DataFrame, labels: list[str], settings: dict, threshold: float
) -> dict[str, np.ndarray]:
    """Per class, the (start, end, score) events of one recording's window scores."""
    return events_at(recording_tracks(windows, labels, settings), threshold, settings)


@dataclass
class Evaluation:
    metrics: pd.DataFrame  # threshold x class rows
    per_tape: pd.DataFrame  # threshold x class x recording rows


def warn_zero_length(truth: pd.DataFrame, match: str) -> None:
    """Reference events that end where they start have IoU 0 with every detection: under
    `match: iou` (and in the `iou_*` columns) they can never match, so each counts as one
    missed call. They are kept (someone marked a call there) and named, by file and line
    where the table has them, in a warning (logged once per evaluation)."""
    zero = truth[truth["end_s"] <= truth["start_s"]]
    if zero.empty:
        return
    where = [
        f"  {r.get('file', r['recording'])}, line {r['row']}: {r['label']!r} at {r['start_s']} s"
        if "row" in zero
        else f"  {r['recording']}: {r['label']!r} at {r['start_s']} s"
        for r in zero.to_dict("records")
    ]
    if match in ("iou", "dcase"):
        consequence = (
            f"under evaluation.match: {match} it can never match (IoU 0 with any detection) "
            "and counts as a missed call; give it an end time after its start, or use "
            "evaluation.match: collar"
        )
    else:
        consequence = (
            "it can match only under collar matching: the iou_* and dcase_* columns count it missed"
        )
    log.warning(
        "%d reference event(s) of zero length (end = start); %s:\n%s",
        len(zero),
        consequence,
        "\n".join(where),
    )


def evaluate_scores(
    scores: pd.DataFrame,
    truth: pd.DataFrame,
    labels: list[str],
    settings: dict,
    events_dir: str | Path | None = None,
) -> Evaluation:
    """Metrics over the threshold sweep; Raven tables of the events at the configured
    thresholds when `events_dir` is given."""
    settings = with_defaults(settings)
    # events the DCASE protocol neither counts found nor missed (its UNK); a target is no unknown
    unknowns = truth[truth["label"].isin(set(settings["unknown_labels"]) - set(labels))]
    truth = truth[truth["label"].isin(labels)]
    warn_zero_length(truth, settings["match"])
    recordings = list(dict.fromkeys(scores["recording"]))
    bands = {lab: _band(truth[truth["label"] == lab]) for lab in labels}
    written = {round(float(t), 6) for t in settings["thresholds"]}
    rows = []
    for recording in recordings:
        windows = scores[scores["recording"] == recording]
        reference = truth[truth["recording"] == recording]
        unknown = unknowns[unknowns["recording"] == recording]
        duration = float(windows["end_s"].max()) if len(windows) else 0.0
        tracks = recording_tracks(windows, labels, settings)
        for threshold in sweep_thresholds(settings):
            events = events_at(tracks, threshold, settings)
            for lab in labels:
                ref = reference[reference["label"] == lab]
                rows.append(
                    {
                        "threshold": threshold,
                        "class": lab,
                        "recording": recording,
                        **compare(ref, events[lab][:, :2], settings, duration, unknown),
                    }
                )
            if events_dir is not None and threshold in written:
                _write_events(events_dir, threshold, recording, events, bands)
    per_tape = pd.DataFrame(rows)
    if per_tape.empty:
        per_tape = pd.DataFrame(columns=["threshold", "class", "recording", *COUNTS])
    metrics = summarize_counts(per_tape, labels)
    per_tape = add_rates(per_tape)
    return Evaluation(metrics, per_tape)


def compare(
    ref: pd.DataFrame,
    estimated: np.ndarray,
    settings: dict,
    duration: float,
    unknown: pd.DataFrame | None = None,
) -> dict:
    """Counts of one recording and class: events (by `match`, and by each matching mode as
    `iou_*`, `collar_*` and `dcase_*`), matched-pair errors, qualities, segments. `unknown`
    holds the recording's events of `unknown_labels`, which only the dcase mode reads."""
    settings = with_defaults(settings)
    ref_spans = ref[["start_s", "end_s"]].to_numpy(dtype=float)
    unknown_spans = (
        np.zeros((0, 2)) if unknown is None else unknown[["start_s", "end_s"]].to_numpy(float)
    )
    iou = iou_matrix(ref_spans, estimated)  # shared by the modes
    by_mode = {
        mode: mode_counts(ref_spans, estimated, {**settings, "match": mode}, unknown_spans, iou)
        for mode in MODES
    }
    pairs, tp, fp, fn = by_mode[settings["match"]]
    matched_ref = [r for r, _, _ in pairs]
    est_idx = [c for _, c, _ in pairs]
    onset_err = np.abs(ref_spans[matched_ref, 0] - estimated[est_idx, 0]).sum() if pairs else 0.0
    offset_err = np.abs(ref_spans[matched_ref, 1] - estimated[est_idx, 1]).sum() if pairs else 0.0
    end = max(duration, *ref_spans[:, 1], *estimated[:, 1], 0.0)
    seg_tp, seg_fp, seg_fn = segment_counts(ref_spans, estimated, settings["segment_s"], end)
    out = {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "n_reference": len(ref_spans),
        "n_detected": len(estimated),
        "onset_error_sum_s": float(onset_err),
        "offset_error_sum_s": float(offset_err),
        "seg_tp": seg_tp,
        "seg_fp": seg_fp,
        "seg_fn": seg_fn,
    }
    for mode, (_, mode_tp, mode_fp, mode_fn) in by_mode.items():
        out[f"{mode}_tp"], out[f"{mode}_fp"], out[f"{mode}_fn"] = mode_tp, mode_fp, mode_fn
    # grades are integers from the annotation reader (missing: <NA>), or any text
    qualities = (
        ref["quality"].astype("string").fillna("").to_numpy(dtype=str) if "quality" in ref else []
    )
    hit = np.zeros(len(ref_spans), dtype=bool)
    hit[matched_ref] = True
    for quality in sorted(set(qualities) - {""}):
        out[f"n_quality_{quality}"] = int((qualities == quality).sum())
        out[f"tp_quality_{quality}"] = int((hit & (qualities == quality)).sum())
    return out


def segment_counts(
    reference: np.ndarray, estimated: np.ndarray, segment_s: float, duration: float
) -> tuple[int, int, int]:
    """TP, FP, FN over fixed segments of `segment_s`; a segment is active where an event
    touches it (onset floored, offset ceiled to segments, as sed_eval's event roll)."""
    n = int(np.ceil(duration / segment_s)) + 1
    ref, est = _activity(reference, segment_s, n), _activity(estimated, segment_s, n)
    return int((ref & est).sum()), int((~ref & est).sum()), int((ref & ~est).sum())


def _activity(events: np.ndarray, segment_s: float, n: int) -> np.ndarray:
    active = np.zeros(n, dtype=bool)
    for start, end in np.asarray(events, dtype=float).reshape(-1, 2):
        active[int(np.floor(start / segment_s)) : int(np.ceil(end / segment_s))] = True
    return active


def summarize_counts(per_tape: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Rows per threshold and class, then micro (`all`) and macro (`macro`) over classes."""
    sums = [c for c in per_tape.columns if c not in ("threshold", "class", "recording")]
    by_class = per_tape.groupby(["threshold", "class"], sort=False)[sums].sum().reset_index()
    correlations = per_tape.groupby(["threshold", "class"], sort=False).apply(
        _count_correlations, include_groups=False
    )
    by_class = by_class.join(correlations, on=["threshold", "class"])
    micro = by_class.groupby("threshold", sort=False)[sums].sum().reset_index()
    micro_corr = per_tape.groupby(["threshold", "recording"], sort=False)[
        ["n_reference", "n_detected"]
    ].sum()
    micro_corr = micro_corr.groupby("threshold", sort=False).apply(_count_correlations)
    micro = micro.assign(**{"class": ALL}).join(micro_corr, on="threshold")
    table = add_rates(pd.concat([by_class, micro], ignore_index=True))
    table = pd.concat([table, _macro(table, labels)], ignore_index=True)
    table = _add_sweep_summary(table)
    order = {lab: i for i, lab in enumerate([*labels, ALL, MACRO])}
    return table.sort_values(
        ["threshold", "class"], key=lambda c: c.map(order) if c.name == "class" else c
    ).reset_index(drop=True)


def add_rates(counts: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall, F1 (event- and segment-based), mean errors in ms, recall per quality."""
    out = counts.copy()
    out["precision"], out["recall"], out["f1"] = _rates(out["tp"], out["fp"], out["fn"])
    _, _, out["segment_f1"] = _rates(out["seg_tp"], out["seg_fp"], out["seg_fn"])
    for mode in MODES:
        out[f"{mode}_precision"], out[f"{mode}_recall"], out[f"{mode}_f1"] = _rates(
            out[f"{mode}_tp"], out[f"{mode}_fp"], out[f"{mode}_fn"]
        )
    if "onset_error_sum_s" in out:
        matched = out["tp"].where(out["tp"] > 0)
        out["onset_error_ms"] = 1000 * out.pop("onset_error_sum_s") / matched
        out["offset_error_ms"] = 1000 * out.pop("offset_error_sum_s") / matched
    for column in [c for c in out.columns if c.startswith("n_quality_")]:
        quality = column.removeprefix("n_quality_")
        out[f"recall_quality_{quality}"] = out.pop(f"tp_quality_{quality}") / out[column].where(
            out[column] > 0
        )
        out.pop(column)
    return out


def _rates(tp: pd.Series, fp: pd.Series, fn: pd.Series) -> tuple[pd.Series, ...]:
    tp, fp, fn = (s.astype(float) for s in (tp, fp, fn))
    precision = tp / (tp + fp).where(tp + fp > 0)
    recall = tp / (tp + fn).where(tp + fn > 0)
    f1 = (2 * precision * recall / (precision + recall)).where(precision + recall != 0, 0.0)
    return precision, recall, f1.where(precision.notna() & recall.notna())


def _count_correlations(group: pd.DataFrame) -> pd.Series:
    ref, det = group["n_reference"].to_numpy(float), group["n_detected"].to_numpy(float)
    if len(ref) < 2 or ref.std() == 0 or det.std() == 0:
        return pd.Series({"count_pearson": np.nan, "count_spearman": np.nan})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.Series(
            {
                "count_pearson": stats.pearsonr(ref, det).statistic,
                "count_spearman": stats.spearmanr(ref, det).statistic,
            }
        )


def _macro(table: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    classes = table[table["class"].isin(labels)]
    rates = [
        c
        for c in classes.columns
        if c in ("precision", "recall", "f1", "segment_f1", "onset_error_ms", "offset_error_ms")
        or c.startswith("recall_quality_")
        or c in {f"{m}_{rate}" for m in MODES for rate in ("precision", "recall", "f1")}
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN classes give NaN
        macro = classes.groupby("threshold", sort=False)[rates].agg(
            lambda c: np.nanmean(c) if c.notna().any() else np.nan
        )
    return macro.reset_index().assign(**{"class": MACRO})


def _add_sweep_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Average precision and best-F1 threshold per class over the threshold sweep."""
    parts = []
    for _, rows in table.groupby("class", sort=False):
        rows = rows.copy()
        rows["average_precision"] = average_precision(
            rows["recall"].to_numpy(float), rows["precision"].to_numpy(float)
        )
        f1 = rows["f1"]
        rows["best_f1_threshold"] = (
            rows.loc[f1.idxmax(), "threshold"] if f1.notna().any() else np.nan
        )
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def excerpt_threshold(metrics: pd.DataFrame) -> float:
    """The threshold at which the excerpt plot draws events: the micro-average's best-F1 one.

    A benchmark without reference events leaves F1 undefined at every threshold, so none is
    best; its excerpt then shows the events at 0.5, the middle of the score range."""
    best = metrics.loc[metrics["class"] == ALL, "best_f1_threshold"].dropna()
    return float(best.iloc[0]) if len(best) else 0.5


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the interpolated precision-recall curve of the sweep's points.

    Event recall need not fall monotonically with the threshold (merging changes the events),
    so the points are sorted by recall and precision is made non-increasing in recall, as in
    all-points interpolated AP; undefined precision (no detections) counts as 0. scikit-learn's
    average_precision_score needs per-item scores, which events across thresholds are not.
    """
    keep = ~np.isnan(recall)
    if not keep.any():
        return float("nan")
    r = recall[keep]
    p = np.nan_to_num(precision[keep], nan=0.0)
    order = np.argsort(r, kind="stable")
    r, p = np.concatenate([[0.0], r[order]]), np.concatenate([[0.0], p[order]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    return float(np.sum(np.diff(r) * p[1:]))


def _write_events(events_dir, threshold, recording, events, bands) -> None:
    frames = [
        pd.DataFrame(
            {
                "start_s": found[:, 0],
                "end_s": found[:, 1],
                "low_hz": bands[lab][0],
                "high_hz": bands[lab][1],
                "Annotation": lab,
                "Score": found[:, 2].round(4),
            }
        )
        for lab, found in events.items()
    ]
    table = pd.concat(frames).sort_values("start_s", kind="stable")
    path = Path(events_dir) / f"threshold_{threshold:.2f}" / f"{recording}.selections.txt"
    write_selection_table(path, table, extra=["Annotation", "Score"])


def _band(reference: pd.DataFrame) -> tuple[float, float]:
    # Detections carry no frequency; draw them over the band their class has in the ground truth.
    if reference.empty:
        return 0.0, 0.0
    return float(reference["low_hz"].min()), float(reference["high_hz"].max())
