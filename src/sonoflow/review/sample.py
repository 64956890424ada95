"""A review sample: which detections of a `detect` run a person validates.

Pure pandas and numpy, and reproducible: every draw depends on the seed and the clips'
ids only. Two strategies (config key `review.NAME.strategy`):

- `stratified`: per class, the detections are split into cells, score bin x stratum. Score
  bins are quantile bins of the class's detection scores (`bins: 4`) or fixed edges
  (`bins: [0.5, 0.7, 0.9, 1.0]`, scores outside go to the first or last bin); the stratum
  is the recording's site, its first folder level below the detect folder (`.` at the
  top), or one stratum for all (`stratum: none`). The class's `size` is shared equally by
  the non-empty cells, each capped at its number of detections; what a small cell cannot
  take goes equally to the cells that still have room (water filling), so the sample has
  `size` clips whenever the class has that many. Within a cell the clips with the smallest
  hash of (seed, id) are taken: a simple random sample, so a row's inclusion probability
  is sampled / cell size and the sum of 1/p over a cell is its size.
- `uncertain`: per class the detections the fold models disagree on most (largest fold
  spread, ties by margin) or, with `uncertainty: margin`, those scored nearest the
  threshold; `include_misses` adds the highest-scoring windows below the threshold that
  overlap no detection (likely misses, `score_bin` -1). Inclusion probability 1: such a
  sample serves retraining, not estimates.

When a previous sample of the same settings is given, the draw keeps what it can:
`stratified` reuses the previous quantile edges of a class when every previous detection
of it is still there (so added recordings only add cells' members, and a clip sampled
before stays sampled unless an added clip of its cell ranks before it); `uncertain` keeps
the previous rows that are still candidates and fills up by rank.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from sonoflow.review.verdicts import CSV_CORRECTION

COLUMNS = [
    "id",
    "recording",
    "path",
    "class",
    "start_s",
    "end_s",
    "score",
    "fold_spread",
    "stratum",
    "score_bin",
    "inclusion_probability",
    "verdict",
    CSV_CORRECTION[0],
]
MISS_BIN = -1
TOP = "."  # the stratum of recordings at the top of the detect folder


@dataclass(frozen=True)
class SampleSettings:
    """The keys of a `review` entry that change the sample (see the config schema)."""

    strategy: str = "stratified"
    size: int = 50
    bins: int | tuple[float, ...] = 4
    stratum: str = "site"
    uncertainty: str = "spread"
    include_misses: int = 0
    seed: int = 0

    @classmethod
    def from_config(cls, entry: dict) -> SampleSettings:
        values = {k: entry[k] for k in cls.__dataclass_fields__ if k in entry}
        if isinstance(values.get("bins"), list):
            values["bins"] = tuple(float(b) for b in values["bins"])
        return cls(**values)

    def as_dict(self) -> dict:
        values = asdict(self)
        if isinstance(self.bins, tuple):
            values["bins"] = list(self.bins)
        return values


@dataclass
class Design:
    """What a sample was drawn with: settings, thresholds, and per class the score bin
    edges and the cells (bin, stratum, detections, sampled)."""

    settings: dict
    thresholds: dict[str, float]
    edges: dict[str, list[float]] = field(default_factory=dict)
    cells: list[dict] = field(default_factory=list)


def clip_id(path: str, label: str, start_s: float, end_s: float) -> str:
    """A short id that stays the same for the same detection in every run."""
    text = f"{path}|{label}|{start_s:.3f}|{end_s:.3f}"
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def stratum_of(path: str, stratum: str) -> str:
    """The recording's site (first folder level of its relative path), or `.`."""
    parts = PurePosixPath(path).parts
    return parts[0] if stratum == "site" and len(parts) > 1 else TOP


def draw_sample(
    detections: pd.DataFrame,
    thresholds: dict[str, float],
    settings: SampleSettings,
    misses: pd.DataFrame | None = None,
    previous: tuple[pd.DataFrame, Design] | None = None,
) -> tuple[pd.DataFrame, Design]:
    """The sample (columns COLUMNS, verdict and correction empty) and its design.

    `detections`: recording, path, label (or class), start_s, end_s, score, fold_spread
    (NaN where unknown). `misses`: windows below the threshold with the same columns (used
    by `uncertain` with include_misses). `previous`: an earlier sample and its design."""
    table = _clips(detections, settings)
    same = previous is not None and previous[1].settings == settings.as_dict()
    design = Design(settings.as_dict(), {k: float(v) for k, v in thresholds.items()})
    parts = []
    for label in sorted(table["class"].unique()):
        rows = table[table["class"] == label]
        old_edges = previous[1].edges.get(label) if same else None
        if old_edges is not None and not set(_ids_of(previous[0], label)) <= set(rows["id"]):
            old_edges = None  # detections went away: not only recordings added
        edges = score_edges(rows["score"].to_numpy(float), settings.bins, old_edges)
        design.edges[label] = [float(e) for e in edges]
        rows = rows.assign(score_bin=score_bins(rows["score"].to_numpy(float), edges))
        if settings.strategy == "stratified":
            parts.append(_stratified(rows, settings, design))
        else:
            kept = _ids_of(previous[0], label) if same else []
            parts.append(_uncertain(rows, thresholds[label], settings, kept))
    if settings.strategy == "uncertain" and settings.include_misses and misses is not None:
        parts.append(_misses(_clips(misses, settings), settings.include_misses))
    parts = [p for p in parts if len(p)]
    sample = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    sample["verdict"] = ""
    sample[CSV_CORRECTION[0]] = ""
    sample = sample.sort_values(["class", "recording", "start_s"], kind="stable")
    return sample[COLUMNS].reset_index(drop=True), design


def cell_names(score_bins, strata) -> list[str]:
    """A sampling cell's name, "score_bin|stratum", for each pair."""
    return [f"{int(b)}|{s}" for b, s in zip(score_bins, strata)]


def detection_cells(detections: pd.DataFrame, design: Design) -> pd.Series:
    """Each detection's sampling cell under `design` ("" for a class the design has no
    edges for)."""
    cells = pd.Series("", index=detections.index, dtype=object)
    for label, edges in design.edges.items():
        mask = detections["label"] == label
        bins = score_bins(detections.loc[mask, "score"].to_numpy(float), np.asarray(edges, float))
        strata = [stratum_of(p, design.settings["stratum"]) for p in detections.loc[mask, "path"]]
        cells[mask] = cell_names(bins, strata)
    return cells


def score_edges(
    scores: np.ndarray, bins: int | tuple[float, ...], previous: list[float] | None = None
) -> np.ndarray:
    """Bin edges: fixed, the previous ones, or quantiles of `scores` (ties merged)."""
    if not isinstance(bins, int):
        return np.asarray(bins, float)
    if previous is not None:
        return np.asarray(previous, float)
    if len(scores) == 0:
        return np.array([0.0, 1.0])
    return np.unique(np.quantile(scores, np.linspace(0, 1, bins + 1)))


def score_bins(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index 0..len(edges)-2 of each score; outside the edges: first or last bin."""
    inner = edges[1:-1]
    return np.searchsorted(inner, scores, side="right").astype(int)


def allocate(sizes: list[int], total: int) -> list[int]:
    """Equal shares of `total` over cells of `sizes`, each capped at its size; what a full
    cell cannot take is shared by the others (extra single clips go to the first cells)."""
    take = [0] * len(sizes)
    left = min(total, sum(sizes))
    while left > 0:
        open_cells = [i for i, n in enumerate(sizes) if take[i] < n]
        share, extra = divmod(left, len(open_cells))
        for rank, i in enumerate(open_cells):
            add = min(sizes[i] - take[i], share + (rank < extra))
            take[i] += add
            left -= add
    return take


def rank_keys(ids: pd.Series, seed: int) -> np.ndarray:
    """A pseudo-random number in [0, 1) per clip from the seed and its id only."""
    return np.array(
        [int(hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()[:13], 16) / 16**13 for i in ids]
    )


def _clips(frame: pd.DataFrame, settings: SampleSettings) -> pd.DataFrame:
    frame = frame.rename(columns={"label": "class"})
    needed = ("recording", "path", "class", "start_s", "end_s", "score")
    missing = [c for c in needed if c not in frame]
    if missing:
        raise ValueError(f"detections lack columns {missing} (columns: {list(frame.columns)})")
    frame = frame.copy()
    if "fold_spread" not in frame:
        frame["fold_spread"] = np.nan
    frame["id"] = [
        clip_id(p, c, s, e)
        for p, c, s, e in zip(frame["path"], frame["class"], frame["start_s"], frame["end_s"])
    ]
    frame["stratum"] = [stratum_of(p, settings.stratum) for p in frame["path"]]
    return frame


def _ids_of(sample: pd.DataFrame, label: str) -> list[str]:
    rows = sample[(sample["class"] == label) & (sample["score_bin"] != MISS_BIN)]
    return list(rows["id"].astype(str))


def _stratified(rows: pd.DataFrame, settings: SampleSettings, design: Design) -> pd.DataFrame:
    cells = [cell for _, cell in rows.groupby(["score_bin", "stratum"], sort=True)]
    take = allocate([len(c) for c in cells], settings.size)
    picked = []
    for cell, count in zip(cells, take):
        order = np.argsort(rank_keys(cell["id"], settings.seed), kind="stable")
        chosen = cell.iloc[order[:count]]
        picked.append(chosen.assign(inclusion_probability=count / len(cell)))
        first = cell.iloc[0]
        design.cells.append(
            {
                "class": first["class"],
                "score_bin": int(first["score_bin"]),
                "stratum": first["stratum"],
                "detections": len(cell),
                "sampled": count,
            }
        )
    return pd.concat(picked) if picked else rows.iloc[:0]


def _uncertain(
    rows: pd.DataFrame, threshold: float, settings: SampleSettings, kept: list[str]
) -> pd.DataFrame:
    margin = (rows["score"] - threshold).abs()
    spread = rows["fold_spread"].fillna(-np.inf)  # unknown spread (older shards) ranks last
    keys = [margin] if settings.uncertainty == "margin" else [-spread, margin]
    ranked = rows.assign(_kept=~rows["id"].isin(kept), _a=keys[0], _b=keys[-1])
    ranked = ranked.sort_values(["_kept", "_a", "_b", "id"], kind="stable")
    chosen = ranked.head(settings.size).drop(columns=["_kept", "_a", "_b"])
    return chosen.assign(inclusion_probability=1.0)


def _misses(windows: pd.DataFrame, count: int) -> pd.DataFrame:
    """Per class the `count` highest-scoring windows (they already overlap no detection
    and no other candidate)."""
    ranked = windows.sort_values(["score", "id"], ascending=[False, True], kind="stable")
    chosen = ranked.groupby("class", sort=True).head(count)
    return chosen.assign(score_bin=MISS_BIN, inclusion_probability=1.0)
