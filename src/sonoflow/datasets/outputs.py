"""What a dataset variant writes: clips table, index, per-tape Raven tables, stats and a plot.

Every file is written atomically and deterministically (sorted keys, fixed float
formats), so the same config gives byte-identical outputs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd  # noqa: E402

from sonoflow.common.atomic import atomic_path, write_csv, write_json  # noqa: E402
from sonoflow.common.plots import plt, save_figure
from sonoflow.corpus.load import Corpus  # noqa: E402
from sonoflow.datasets.reviewed import NOISE_SOURCE, TARGET_SOURCE
from sonoflow.datasets.splits import SPLITS  # noqa: E402

NO_QUALITY = "-"


def write_variant(
    out_dir: Path,
    clips: pd.DataFrame,
    corpus: Corpus,
    labels: list[str],
    variant: dict,
    counts: dict,
) -> None:
    write_csv(out_dir / "clips.csv", clips, float_format="%.6f")
    write_csv(out_dir / "recordings.csv", corpus.recordings, float_format="%.6f")
    stats = variant_stats(clips, labels, variant, counts)
    write_json(out_dir / "stats.json", stats)
    write_json(
        out_dir / "variant_index.json",
        {
            "meta": stats,
            "entries": {s: clips.loc[clips["split"] == s, "uid"].tolist() for s in SPLITS},
        },
    )
    plot_counts(clips, out_dir / "stats.png")
    write_tape_tables(out_dir / "selection_tables", clips, corpus.recordings)


def _quality(clips: pd.DataFrame) -> pd.Series:
    return clips["quality"].astype("string").fillna(NO_QUALITY)


def variant_stats(clips: pd.DataFrame, labels: list[str], variant: dict, counts: dict) -> dict:
    """Counts per split x label x quality, shares, the noise ratio and mining counts."""
    targets = clips[clips["source"] == "target"]
    cells = (
        clips.assign(quality=_quality(clips), seconds=clips["end_s"] - clips["start_s"])
        .groupby(["split", "label", "quality"], sort=True)
        .agg(clips=("uid", "size"), seconds=("seconds", "sum"))
        .reset_index()
    )
    per_split = clips.groupby("split").size()
    group = {"tape": "tape", "recording": "recording", "none": "tape"}[variant["group_by"]]
    return {
        "strategy": variant["strategy"],
        "seed": variant["seed"],
        "group_by": variant["group_by"],
        "labels": list(labels),
        "ratios": variant["split"],
        "clips": len(clips),
        "targets": len(targets),
        "noise": int(len(clips) - len(targets)),
        "counts": {
            "split": {s: int(per_split.get(s, 0)) for s in SPLITS},
            "label": {k: int(v) for k, v in clips.groupby("label").size().items()},
            "quality": {
                k: int(v) for k, v in _quality(targets).value_counts().sort_index().items()
            },
            "split_label_quality": [
                {**row, "seconds": round(row["seconds"], 6)} for row in cells.to_dict("records")
            ],
        },
        "shares": {s: round(per_split.get(s, 0) / max(len(clips), 1), 4) for s in SPLITS},
        "noise_per_target": {
            "asked": variant["noise_per_target"],
            "achieved": round((len(clips) - len(targets)) / max(len(targets), 1), 4),
        },
        "noise_mining": {k: int(v) for k, v in counts.items()},
        "reviewed": {
            "targets": int((clips["source"] == TARGET_SOURCE).sum()),
            "rejected": int((clips["source"] == NOISE_SOURCE).sum()),
            "recordings": int(
                clips.loc[
                    clips["source"].isin([TARGET_SOURCE, NOISE_SOURCE]), "recording"
                ].nunique()
            ),
        },
        f"{group}s": {
            s: sorted(clips.loc[clips["split"] == s, group].unique().tolist()) for s in SPLITS
        },
    }


def plot_counts(clips: pd.DataFrame, path: Path) -> None:
    """Bars of clips per label x quality, one colour per split."""
    table = (
        clips.assign(cell=clips["label"] + " " + _quality(clips).map(lambda q: f"Q{q}"))
        .groupby(["cell", "split"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=list(SPLITS), fill_value=0)
    )
    fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(table) + 2), 3.5))
    table.plot.bar(ax=ax, width=0.8)
    ax.set_xlabel("label and quality (Q- = no grade)")
    ax.set_ylabel("clips")
    ax.set_title("clips per split, label and quality")
    save_figure(fig, path, dpi=100)


def write_tape_tables(folder: Path, clips: pd.DataFrame, recordings: pd.DataFrame) -> None:
    """One Raven table per tape with targets and noise.

    `Begin File` and `File Offset (s)` place each clip in its recording; Begin Time runs
    over the tape's recordings laid end to end in name order, as Raven shows a file list.
    """
    recordings = recordings.sort_values("recording")
    offset = recordings.groupby("tape")["duration_s"].transform(lambda d: d.cumsum() - d)
    per_recording = pd.DataFrame(
        {
            "shift": offset.to_numpy(),
            "nyquist": (recordings["sample_rate"] / 2).to_numpy(),
            "file": recordings["file"].map(lambda f: Path(f).name).to_numpy(),
        },
        index=recordings["recording"].to_numpy(),
    ).loc[clips["recording"]]
    table = pd.DataFrame(
        {
            "tape": clips["tape"].to_numpy(),
            "Begin Time (s)": clips["start_s"].to_numpy() + per_recording["shift"].to_numpy(),
            "End Time (s)": clips["end_s"].to_numpy() + per_recording["shift"].to_numpy(),
            "Low Freq (Hz)": 0.0,
            "High Freq (Hz)": per_recording["nyquist"].to_numpy(),
            "Begin File": per_recording["file"].to_numpy(),
            "File Offset (s)": clips["start_s"].to_numpy(),
            "Annotation": clips["label"].to_numpy(),
            "Quality": _quality(clips).to_numpy(),
            "Source": clips["source"].to_numpy(),
            "Split": clips["split"].to_numpy(),
            "Clip": clips["uid"].to_numpy(),
        }
    ).sort_values(["tape", "Begin Time (s)", "Clip"], kind="stable")
    table.insert(1, "Selection", table.groupby("tape").cumcount() + 1)
    table.insert(2, "View", "Spectrogram 1")
    table.insert(3, "Channel", 1)
    for tape, rows in table.groupby("tape", sort=True):
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(tape))
        with atomic_path(folder / f"{name}.selections.txt") as tmp:
            rows.drop(columns="tape").to_csv(tmp, sep="\t", index=False, float_format="%.6f")
