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


def write_two_recordings(folder: Path) -> Path:
    """Silent `a.wav` (10 s) and `b.flac` (20 s) in `folder`."""
    write_recording(folder, "a.wav", 10)
    write_recording(folder, "b.flac", 20)
    return folder


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


# Bad annotation rows (begin, end, label after a good first row) with the check and message
# they give; the corpus and benchmark readers are held to the same list.
BAD_ROWS = [
    ("4.0\t3.0\thum", "end before start", "ends at 3.0 s, before its start 4.0 s"),
    ("-1\t0.5\thum", "negative time", "starts at -1.0 s"),
    ("8\t12\thum", "past the end", "ends at 12.0 s; the recording is 10.000 s long"),
    ("x\t2\thum", "not a number", "start time is not a number: 'x'"),
    ("\t3.0\thum", "not a number", "start time is not a number: ''"),  # empty, not 0.0
]


def write_table_with_bad_row(path: Path, row: str) -> Path:
    """A Raven table whose line 2 is good and line 3 is `row` (for a 10 s recording)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "Selection\tBegin Time (s)\tEnd Time (s)\tAnnotation\n1\t1\t2\thum\n2\t" + row + "\n"
    )
    return path


def write_per_recording_and_multi_file_tables(root: Path) -> tuple[Path, Path]:
    """The same three calls for `write_two_recordings` (a: hum 1-2 s, chirp 3-3.5 s; b: hum
    5-6 s) as per-recording Raven tables (folder `root/one`) and as one multi-file table."""
    write_raven(root / "one/a.Table.1.selections.txt", [(1, 2, "hum"), (3, 3.5, "chirp")])
    write_raven(root / "one/b.selections.txt", [(5, 6, "hum")])
    multi = root / "multi/all.txt"
    multi.parent.mkdir(parents=True)
    multi.write_text(
        "Selection\tView\tBegin Time (s)\tEnd Time (s)\tBegin File\tFILE OFFSET (S)\tAnnotation\n"
        "1\tSpectrogram 1\t1\t2\ta.wav\t1\thum\n"
        "1\tWaveform 1\t1\t2\ta.wav\t1\thum\n"
        "2\tSpectrogram 1\t3\t3.5\tC:\\tapes\\a.wav\t3\tchirp\n"
        "3\tSpectrogram 1\t15\t16\tb.flac\t5\thum\n"
    )
    return root / "one", multi
