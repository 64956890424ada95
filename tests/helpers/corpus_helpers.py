"""Small synthetic corpora for dataset tests: silent recordings and annotation files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

RAVEN_HEADER = (
    "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)"
)


def write_recording(folder: Path, name: str, seconds: float, rate: int = 8000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    sf.write(path, np.zeros(int(seconds * rate), dtype=np.float32), rate, subtype="PCM_16")
    return path


def write_raven(path: Path, rows: list[tuple], label_column: str = "Annotation", extra=()) -> Path:
    """Rows of (begin, end, label, *extra values), one Spectrogram row per selection."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join([RAVEN_HEADER, label_column, *extra])]
    for i, (begin, end, label, *more) in enumerate(rows, start=1):
        values = [i, "Spectrogram 1", 1, begin, end, 100, 1000, label, *more]
        lines.append("\t".join(str(v) for v in values))
    path.write_text("\n".join(lines) + "\n")
    return path


def calls_corpus(root: Path, tapes: int = 6, seconds: float = 30.0, calls: int = 8) -> dict:
    """`tapes` recordings of silence, each with `calls` hum/chirp annotations and a quality
    suffix (`hum_Q1`..), Raven tables beside them; returns the corpus config."""
    rng = np.random.default_rng(0)
    for t in range(tapes):
        name = f"rec{t:02d}"
        write_recording(root / "audio", f"{name}.wav", seconds)
        starts = np.sort(rng.choice(np.arange(1, seconds - 2, 3.0), size=calls, replace=False))
        rows = [
            (s, s + 0.5, f"{'hum' if i % 2 else 'chirp'}_Q{1 + (i + t) % 3}")
            for i, s in enumerate(starts)
        ]
        write_raven(root / "raven" / f"{name}.Table.1.selections.txt", rows)
    return {
        "recordings": str(root / "audio"),
        "annotations": str(root / "raven"),
        "labels": ["hum", "chirp"],
        "quality_regex": r"^(?P<label>.+?)_Q(?P<quality>\d)$",
    }
