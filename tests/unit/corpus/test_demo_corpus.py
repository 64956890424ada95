import hashlib

import numpy as np
import pandas as pd
import soundfile as sf
import torch

from sonoflow.common.schema import section_with_defaults
from sonoflow.corpus.demo import DemoSettings, make_demo_corpus
from sonoflow.corpus.load import load_corpus
from sonoflow.features.spectrogram import FeatureFrontend, FeatureSettings

SMALL = DemoSettings(
    seed=3, train_tapes=3, tape_duration_s=(8, 12), benchmark_tapes=1, benchmark_duration_s=10
)

CORPUS = section_with_defaults("corpus", {"label_column": "annotation"})


def _digest(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path):
    make_demo_corpus(tmp_path / "a", SMALL)
    make_demo_corpus(tmp_path / "b", SMALL)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    make_demo_corpus(tmp_path / "c", DemoSettings(**{**SMALL.__dict__, "seed": 4}))
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_corpus_has_both_call_types_in_readable_raven_tables(tmp_path):
    make_demo_corpus(tmp_path, SMALL)
    corpus = load_corpus(tmp_path / "train/audio", tmp_path / "train/annotations", CORPUS)
    recordings, annotations = corpus.recordings, corpus.annotations
    assert corpus.problems.frame().empty
    assert len(recordings) == 3
    assert set(annotations["label"]) == {"hum", "chirp"}
    hums = annotations[annotations["label"] == "hum"]
    chirps = annotations[annotations["label"] == "chirp"]
    assert hums["high_hz"].max() <= 1000 and chirps["low_hz"].min() >= 2000
    assert ((hums["end_s"] - hums["start_s"]).between(0.3, 1.0)).all()
    # Raven writes a row per view; the reader keeps one per selection
    raw = pd.read_csv(next((tmp_path / "train/annotations").iterdir()), sep="\t")
    assert set(raw["View"]) == {"Waveform 1", "Spectrogram 1"}
    metadata = pd.read_csv(tmp_path / "train/metadata.csv")
    assert {"recording", "site", "latitude", "longitude", "datetime"} <= set(metadata.columns)
    assert list(metadata["recording"]) == ["tape01", "tape02", "tape03"]
    assert list(pd.read_csv(tmp_path / "benchmark/metadata.csv")["recording"]) == ["bench01"]


def test_loud_sounds_in_the_chirp_band_are_not_all_chirps(tmp_path):
    """Distractors share the calls' bands, so band energy alone does not find the calls."""
    make_demo_corpus(
        tmp_path,
        DemoSettings(
            seed=5,
            train_tapes=3,
            tape_duration_s=(60, 60),
            benchmark_tapes=1,
            benchmark_duration_s=5,
        ),
    )
    audio, sr = sf.read(tmp_path / "train/audio/tape01.wav", dtype="float32")
    assert sr == 16000 and np.abs(audio).max() <= 1.0
    settings = FeatureSettings(scale="linear", n_bins=8, fmin=2000, fmax=6000)
    band = FeatureFrontend(settings)(torch.from_numpy(audio)).mean(dim=0).numpy()
    times = np.arange(len(band)) * settings.frame_s
    annotations = load_corpus(
        tmp_path / "train/audio", tmp_path / "train/annotations", CORPUS
    ).annotations
    chirps = annotations[(annotations["recording"] == "tape01") & (annotations["label"] == "chirp")]
    in_chirp = np.zeros(len(band), dtype=bool)
    for start, end in zip(chirps["start_s"], chirps["end_s"]):
        in_chirp |= (times >= start) & (times <= end)
    loudest = band >= np.quantile(band, 0.99)
    assert 0.1 < in_chirp[loudest].mean() < 0.9
