"""One decision per recording across stages, and splits the corpus cannot fill (issue 16)."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from corpus_helpers import calls_corpus

from sonoflow.corpus.audio import list_recordings
from sonoflow.corpus.problems import CorpusError
from sonoflow.datasets.build import prepare_dataset
from sonoflow.features.cache import build_cache
from sonoflow.features.spectrogram import FeatureSettings

SETTINGS = FeatureSettings(sample_rate=8000, window_s=0.5, n_fft=256, hop_length=80, n_bins=16)


def _poison(path):
    """Overwrite one sample of a recording with NaN (a float file, so NaN survives)."""
    samples, rate = sf.read(path, dtype="float32")
    samples[rate] = np.nan
    sf.write(path, samples, rate, subtype="FLOAT")


def test_nan_recording_skipped_by_dataset_and_cache_alike(tmp_path):
    config = calls_corpus(tmp_path / "corpus", tapes=6, calls=6)
    _poison(tmp_path / "corpus/audio/rec03.wav")
    config["bad_audio"] = "skip"
    clips = prepare_dataset(
        config["recordings"], config["annotations"], config, {}, tmp_path / "out"
    )
    index = build_cache(
        list_recordings(config["recordings"]), SETTINGS, tmp_path / "cache", skip_bad=True
    )
    assert "rec03" not in set(clips["recording"]) and "rec03" not in set(index["recording"])
    assert set(clips["recording"]) <= set(index["recording"])  # every clip has its spectrogram
    recordings = pd.read_csv(tmp_path / "out/recordings.csv")
    assert "rec03" not in set(recordings["recording"])


def test_nan_recording_with_error_policy_stops_the_cache_naming_it(tmp_path):
    """With `error`, the dataset reads headers only (no decode cost); the cache job, which
    decodes every recording anyway, stops the run naming the file."""
    config = calls_corpus(tmp_path / "corpus", tapes=4, calls=4)
    _poison(tmp_path / "corpus/audio/rec01.wav")
    config["bad_audio"] = "error"
    prepare_dataset(config["recordings"], config["annotations"], config, {}, tmp_path / "o")
    with pytest.raises(ValueError, match=r"rec01\.wav: .*NaN or infinite"):
        build_cache(list_recordings(config["recordings"]), SETTINGS, tmp_path / "cache")


def test_split_the_tapes_cannot_fill_names_the_key(tmp_path):
    config = calls_corpus(tmp_path / "corpus", tapes=2, calls=6)
    with pytest.raises(ValueError, match=r"datasets\.small\.split\.test: 0\.15 of the targets"):
        prepare_dataset(
            config["recordings"],
            config["annotations"],
            config,
            {},
            tmp_path / "out",
            key="datasets.small",
        )
    clips = prepare_dataset(
        config["recordings"],
        config["annotations"],
        config,
        {"split": {"train": 0.7, "val": 0.3, "test": 0}},
        tmp_path / "out",
    )
    assert set(clips["split"]) == {"train", "val"}


def test_empty_corpus_folder_stops_the_dataset_naming_it(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "raven").mkdir()
    config = {"recordings": str(tmp_path / "audio"), "annotations": str(tmp_path / "raven")}
    with pytest.raises(CorpusError, match=r"audio\s+no recordings:\s+corpus\.recordings holds no"):
        prepare_dataset(tmp_path / "audio", tmp_path / "raven", config, {}, tmp_path / "out")


def test_a_repeated_annotation_stops_the_dataset_naming_file_and_lines(tmp_path):
    """What prepare_dataset says for one call annotated twice (before: `duplicate clips`
    with a table of clips, no file, no line, no fix)."""
    config = calls_corpus(tmp_path / "corpus", tapes=4, calls=4)
    table = tmp_path / "corpus/raven/rec01.Table.1.selections.txt"
    lines = table.read_text().splitlines()
    again = lines[2].replace("2\t", "5\t", 1)  # line 3's call again, as selection 5
    table.write_text("\n".join([*lines, again]) + "\n")  # line 6
    with pytest.raises(CorpusError, match=r"selections\.txt, line 6 .*as on line 3"):
        prepare_dataset(config["recordings"], config["annotations"], config, {}, tmp_path / "o")
    config["bad_annotations"] = "skip"
    clips = prepare_dataset(config["recordings"], config["annotations"], config, {}, tmp_path / "s")
    targets = clips[(clips["source"] == "target") & (clips["recording"] == "rec01")]
    assert len(targets) == 4
