"""Per-recording metadata as model input: a fixed-width vector per recording.

Latitude/longitude become a 3-D unit vector (no seam at the date line), the date-time
cyclic features (day of year and hour of day as sine and cosine), numeric columns are
standardised and categorical columns one-hot. The encoder is fitted on the training
recordings and stored, as plain data, with the model weights, so prediction encodes a
benchmark's metadata exactly as training did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.common.tables import read_table


def read_metadata(path: str | Path, key: str) -> pd.DataFrame:
    """The metadata CSV at `path` (config key `key`), indexed by its `recording` column."""
    if not path:
        raise ValueError(f"config key {key}: a metadata CSV is required by a metadata fusion model")
    table = read_table(path, text_columns={"recording"})
    if "recording" not in table.columns:
        raise ValueError(f"{path} (config key {key}): no `recording` column")
    table["recording"] = table["recording"].astype(str)
    repeated = table[table["recording"].duplicated()]
    if len(repeated):
        raise ValueError(
            f"{path}: recording(s) listed twice, rows {[i + 2 for i in repeated.index]}"
        )
    return table.set_index("recording")


def _require(table: pd.DataFrame, columns: list[str], path: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: metadata column(s) {missing} missing (model key `metadata`)")


def _spec_columns(spec: dict) -> list[str]:
    geo = [spec["latitude"], spec["longitude"]] if spec.get("latitude") else []
    time = [spec["datetime"]] if spec.get("datetime") else []
    return [*geo, *time, *spec.get("numeric", []), *spec.get("categorical", [])]


def fit_encoder(table: pd.DataFrame, spec: dict, source: str = "metadata") -> dict:
    """Encoder state (plain data) from the training recordings' rows of the metadata table."""
    _require(table, _spec_columns(spec), source)
    numeric = {}
    for column in spec.get("numeric", []):
        values = pd.to_numeric(table[column], errors="coerce")
        std = float(values.std(ddof=0)) if values.notna().sum() > 1 else 0.0
        numeric[column] = [float(values.mean()) if values.notna().any() else 0.0, std or 1.0]
    categories = {
        column: sorted(table[column].dropna().astype(str).unique().tolist())
        for column in spec.get("categorical", [])
    }
    width = (3 if spec.get("latitude") else 0) + (4 if spec.get("datetime") else 0)
    width += len(numeric) + sum(len(c) for c in categories.values())
    if width == 0:
        raise ValueError("model key metadata: fusion is on but no metadata column is named")
    return {
        "spec": {k: spec.get(k) for k in ("latitude", "longitude", "datetime")},
        "numeric": numeric,
        "categories": categories,
        "width": width,
    }


def encode(table: pd.DataFrame, encoder: dict, source: str = "metadata") -> np.ndarray:
    """(rows, width) float32 metadata vectors of `table`'s rows."""
    spec = encoder["spec"]
    columns = _spec_columns(
        {**spec, "numeric": list(encoder["numeric"]), "categorical": list(encoder["categories"])}
    )
    _require(table, columns, source)
    parts = []
    if spec.get("latitude"):
        lat = np.radians(pd.to_numeric(table[spec["latitude"]], errors="coerce").to_numpy(float))
        lon = np.radians(pd.to_numeric(table[spec["longitude"]], errors="coerce").to_numpy(float))
        parts += [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]
    if spec.get("datetime"):
        times = pd.to_datetime(table[spec["datetime"]], errors="coerce")
        bad = table.index[times.isna()].tolist()
        if bad:
            raise ValueError(f"{source}: unreadable {spec['datetime']!r} for recording(s) {bad}")
        day = 2 * np.pi * (times.dt.day_of_year.to_numpy() - 1) / 365.25
        hour = 2 * np.pi * (times.dt.hour.to_numpy() + times.dt.minute.to_numpy() / 60) / 24
        parts += [np.sin(day), np.cos(day), np.sin(hour), np.cos(hour)]
    for column, (mean, std) in encoder["numeric"].items():
        parts.append((pd.to_numeric(table[column], errors="coerce").to_numpy(float) - mean) / std)
    for column, known in encoder["categories"].items():
        values = table[column].astype(str).to_numpy()
        parts += [(values == category).astype(float) for category in known]
    matrix = np.stack(parts, axis=1) if parts else np.zeros((len(table), 0))
    return np.nan_to_num(matrix, nan=0.0).astype(np.float32)  # missing values: the mean


def recording_vectors(
    recordings: list[str], metadata_csv: str | Path, encoder: dict, key: str
) -> dict[str, np.ndarray]:
    """Metadata vector per recording; every recording must have a row."""
    table = read_metadata(metadata_csv, key)
    missing = sorted(set(recordings) - set(table.index))
    if missing:
        raise ValueError(f"{metadata_csv} (config key {key}): no row for recording(s) {missing}")
    rows = table.loc[list(recordings)]
    return dict(zip(recordings, encode(rows, encoder, str(metadata_csv))))


def metadata_vector(
    checkpoint: dict, recording: str, metadata_csv: str | Path | None, key: str
) -> np.ndarray | None:
    """A recording's metadata vector for a fold model, or None when the model fuses none."""
    encoder = checkpoint.get("metadata_encoder")
    if not encoder:
        return None
    return recording_vectors([recording], metadata_csv, encoder, key)[recording]


def shared_encoder(encoders: list[dict]) -> dict:
    """An encoder whose vectors every one of `encoders` (the fold models', fitted on different
    training recordings) is an affine map of: the same geographic and time features, numeric
    columns raw (mean 0, std 1: each fold standardises with its own), and one-hot over the
    union of the folds' categories. The exported models' `metadata` input is its vector."""
    first = encoders[0]
    categories = {
        column: sorted(set().union(*(e["categories"][column] for e in encoders)))
        for column in first["categories"]
    }
    numeric = {column: [0.0, 1.0] for column in first["numeric"]}
    width = (3 if first["spec"].get("latitude") else 0) + (
        4 if first["spec"].get("datetime") else 0
    )
    width += len(numeric) + sum(len(values) for values in categories.values())
    return {"spec": first["spec"], "numeric": numeric, "categories": categories, "width": width}


def encoded_columns(encoder: dict) -> list[str]:
    """What each entry of `encode`'s vectors holds, in order."""
    names = ["geo_x", "geo_y", "geo_z"] if encoder["spec"].get("latitude") else []
    if encoder["spec"].get("datetime"):
        names += ["day_sin", "day_cos", "hour_sin", "hour_cos"]
    names += [f"numeric:{column}" for column in encoder["numeric"]]
    for column, values in encoder["categories"].items():
        names += [f"{column}={value}" for value in values]
    return names


def encoder_map(encoder: dict, shared: dict) -> tuple[np.ndarray, np.ndarray]:
    """(weight (width, shared width), bias (width,)) such that `encode(table, encoder)` equals
    `encode(table, shared) @ weight.T + bias` for rows without missing values."""
    position = {name: i for i, name in enumerate(encoded_columns(shared))}
    names = encoded_columns(encoder)
    weight = np.zeros((len(names), len(position)), dtype=np.float32)
    bias = np.zeros(len(names), dtype=np.float32)
    scales = {f"numeric:{c}": (mean, std) for c, (mean, std) in encoder["numeric"].items()}
    for row, name in enumerate(names):
        mean, std = scales.get(name, (0.0, 1.0))
        weight[row, position[name]] = 1.0 / std
        bias[row] = -mean / std
    return weight, bias
