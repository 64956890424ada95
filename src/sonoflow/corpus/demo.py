"""A deterministic synthetic corpus: two call types over coloured noise with look-alike distractors.

Calls:
  hum    0.3-1.0 s, harmonic stack on a 100-250 Hz fundamental, everything below 1 kHz
  chirp  0.08-0.25 s, upward frequency sweep inside 2-6 kHz
Distractors share those bands but not the shapes: inharmonic drones and pure tones below
1 kHz, constant-frequency whistles and downward sweeps in 2-6 kHz, and clicks. Calls are
placed at random with signal-to-noise ratios over a wide range, so a detector has to learn
the shapes rather than threshold band energy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sonoflow.common.atomic import atomic_path, write_csv
from sonoflow.common.schema import section_with_defaults
from sonoflow.corpus.audio import write_wav
from sonoflow.corpus.raven import write_selection_table

LABELS = ("hum", "chirp")
SITES = {
    "north": (52.52, 13.40),
    "south": (48.14, 11.58),
    "east": (51.34, 12.37),
    "west": (50.94, 6.96),
}


_DEFAULTS = section_with_defaults("demo", {})  # the schema is the one home of defaults


@dataclass(frozen=True)
class DemoSettings:
    seed: int = _DEFAULTS["seed"]
    sample_rate: int = _DEFAULTS["sample_rate"]
    train_tapes: int = _DEFAULTS["train_tapes"]
    tape_duration_s: tuple[float, float] = tuple(_DEFAULTS["tape_duration_s"])
    benchmark_tapes: int = _DEFAULTS["benchmark_tapes"]
    benchmark_duration_s: float = _DEFAULTS["benchmark_duration_s"]
    calls_per_minute: float = _DEFAULTS["calls_per_minute"]
    distractors_per_minute: float = _DEFAULTS["distractors_per_minute"]
    snr_db: tuple[float, float] = tuple(_DEFAULTS["snr_db"])

    @classmethod
    def from_config(cls, demo: dict) -> DemoSettings:
        """Settings from the config's `demo` section (lists as tuples); missing keys: defaults."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in demo.items()})


def make_demo_corpus(out_dir: str | Path, settings: DemoSettings) -> dict[str, int]:
    """Write audio, Raven tables and metadata for the training corpus and the benchmark."""
    out_dir = Path(out_dir)
    rng = np.random.default_rng(settings.seed)
    metadata = []
    counts = {}
    tapes = [
        ("train", f"tape{i + 1:02d}", rng.uniform(*settings.tape_duration_s))
        for i in range(settings.train_tapes)
    ]
    tapes += [
        ("benchmark", f"bench{i + 1:02d}", settings.benchmark_duration_s)
        for i in range(settings.benchmark_tapes)
    ]
    for part, name, duration in tapes:
        tape_rng = np.random.default_rng(rng.integers(2**63))
        audio, calls = synthesize_tape(duration, settings, tape_rng)
        write_wav(out_dir / part / "audio" / f"{name}.wav", audio, settings.sample_rate)
        _write_raven(out_dir / part / "annotations" / f"{name}.Table.1.selections.txt", calls)
        site = list(SITES)[tape_rng.integers(len(SITES))]
        lat, lon = SITES[site]
        start = pd.Timestamp("2026-04-01") + pd.Timedelta(
            minutes=int(tape_rng.integers(0, 60 * 24 * 60))
        )
        metadata.append(
            {
                "part": part,
                "recording": name,
                "site": site,
                "latitude": lat,
                "longitude": lon,
                "datetime": start.isoformat(),
            }
        )
        for label in calls["label"]:
            counts[f"{part}_{label}"] = counts.get(f"{part}_{label}", 0) + 1
    metadata = pd.DataFrame(metadata)
    for part, rows in metadata.groupby("part"):  # one per part: each lists only its recordings
        write_csv(out_dir / part / "metadata.csv", rows.drop(columns="part"))
    return counts


def synthesize_tape(
    duration_s: float, settings: DemoSettings, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    sr = settings.sample_rate
    n = int(duration_s * sr)
    audio = coloured_noise(n, rng)
    minutes = duration_s / 60
    calls = _place(rng, duration_s, int(rng.poisson(settings.calls_per_minute * minutes)))
    for row in calls:
        sound, low, high = (hum if row["label"] == "hum" else chirp)(
            row["end_s"] - row["start_s"], sr, rng
        )
        snr = rng.uniform(*settings.snr_db)
        _add(audio, sound, row["start_s"], sr, gain=_gain(sound, snr))
        row["low_hz"], row["high_hz"] = low, high
    for _ in range(int(rng.poisson(settings.distractors_per_minute * minutes))):
        sound = DISTRACTORS[rng.integers(len(DISTRACTORS))](sr, rng)
        start = rng.uniform(0, max(duration_s - len(sound) / sr, 0))
        _add(audio, sound, start, sr, gain=_gain(sound, rng.uniform(*settings.snr_db)))
    audio = np.clip(audio, -1, 1).astype(np.float32)
    return audio, pd.DataFrame(calls, columns=["start_s", "end_s", "low_hz", "high_hz", "label"])


def coloured_noise(n: int, rng: np.random.Generator, rms: float = 0.05) -> np.ndarray:
    """1/f^alpha noise with a slow loudness drift (wind, distant traffic)."""
    alpha = rng.uniform(0.5, 1.5)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.maximum(np.fft.rfftfreq(n), 1.0 / n)
    noise = np.fft.irfft(spectrum / freqs ** (alpha / 2), n)
    drift = 1 + 0.5 * np.sin(
        2 * np.pi * rng.uniform(0.005, 0.05) * np.arange(n) / 16000 + rng.uniform(0, 6.3)
    )
    noise *= drift
    return noise * (rms / noise.std())


def hum(duration_s: float, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    t = np.arange(int(duration_s * sr)) / sr
    f0 = rng.uniform(100, 250)
    wobble = 1 + 0.03 * np.sin(2 * np.pi * rng.uniform(2, 6) * t)
    phase = 2 * np.pi * np.cumsum(f0 * wobble) / sr
    harmonics = np.arange(1, int(1000 // (f0 * 1.03)) + 1)
    sound = sum(np.sin(k * phase) / k for k in harmonics)
    return sound * _envelope(len(t), sr, 0.05), f0 * 0.97, f0 * 1.03 * harmonics[-1]


def chirp(duration_s: float, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    t = np.arange(int(duration_s * sr)) / sr
    f_start, f_end = rng.uniform(2000, 3000), rng.uniform(4000, 6000)
    freq = f_start + (f_end - f_start) * t / duration_s
    sound = np.sin(2 * np.pi * np.cumsum(freq) / sr)
    return sound * _envelope(len(t), sr, 0.01), f_start, f_end


def _drone(sr: int, rng: np.random.Generator) -> np.ndarray:
    # inharmonic partials below 1 kHz: hum-like band, not a harmonic stack
    t = np.arange(int(rng.uniform(0.3, 1.5) * sr)) / sr
    partials = rng.uniform(150, 950, size=rng.integers(1, 4))
    return sum(np.sin(2 * np.pi * f * t) for f in partials) * _envelope(len(t), sr, 0.05)


def _whistle(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(rng.uniform(0.08, 0.3) * sr)) / sr
    return np.sin(2 * np.pi * rng.uniform(2000, 6000) * t) * _envelope(len(t), sr, 0.01)


def _down_sweep(sr: int, rng: np.random.Generator) -> np.ndarray:
    duration = rng.uniform(0.08, 0.25)
    t = np.arange(int(duration * sr)) / sr
    freq = rng.uniform(4000, 6000) + (rng.uniform(2000, 3000) - 5000) * t / duration
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * _envelope(len(t), sr, 0.01)


def _click(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(rng.uniform(0.005, 0.03) * sr)
    return rng.standard_normal(n) * np.exp(-np.arange(n) / (0.2 * n))


DISTRACTORS = (_drone, _whistle, _down_sweep, _click)


def _envelope(n: int, sr: int, ramp_s: float) -> np.ndarray:
    ramp = min(int(ramp_s * sr), n // 2)
    env = np.ones(n)
    if ramp:
        edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
        env[:ramp], env[n - ramp :] = edge, edge[::-1]
    return env


def _place(rng: np.random.Generator, duration_s: float, count: int) -> list[dict]:
    """Up to `count` calls at random, none overlapping another within 0.3 s."""
    calls: list[dict] = []
    for _ in range(count * 3):
        if len(calls) == count:
            break
        label = LABELS[rng.integers(len(LABELS))]
        length = rng.uniform(0.3, 1.0) if label == "hum" else rng.uniform(0.08, 0.25)
        start = rng.uniform(0.5, duration_s - length - 0.5)
        if all(start > c["end_s"] + 0.3 or start + length < c["start_s"] - 0.3 for c in calls):
            calls.append({"start_s": start, "end_s": start + length, "label": label})
    return sorted(calls, key=lambda c: c["start_s"])


def _gain(sound: np.ndarray, snr_db: float, noise_rms: float = 0.05) -> float:
    return noise_rms * 10 ** (snr_db / 20) / (np.sqrt(np.mean(sound**2)) + 1e-12)


def _add(audio: np.ndarray, sound: np.ndarray, start_s: float, sr: int, gain: float) -> None:
    i = int(start_s * sr)
    sound = sound[: len(audio) - i]
    audio[i : i + len(sound)] += gain * sound


def _write_raven(path: Path, calls: pd.DataFrame) -> None:
    # Raven Pro writes one row per view for each selection; the reader must cope.
    calls = calls.rename(columns={"label": "Annotation"})
    write_selection_table(path, calls, extra=["Annotation"])
    table = pd.read_csv(path, sep="\t")
    waveform = table.assign(View="Waveform 1")
    both = pd.concat([waveform, table]).sort_values(["Selection", "View"], kind="stable")
    with atomic_path(path) as tmp:
        both.to_csv(tmp, sep="\t", index=False, float_format="%.6f")
