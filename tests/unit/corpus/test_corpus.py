"""Corpus input: annotation formats, quality grades, metadata, and every kind of bad input."""

import pandas as pd
import pytest
from corpus_helpers import (
    BAD_ROWS,
    calls_corpus,
    write_per_recording_and_multi_file_tables,
    write_raven,
    write_recording,
    write_table_with_bad_row,
    write_two_recordings,
)

from sonoflow.common.schema import section_with_defaults
from sonoflow.corpus.load import load_corpus
from sonoflow.corpus.problems import CorpusError


def _load(recordings, annotations, decode=False, **keys):
    config = section_with_defaults("corpus", {"labels": ["hum", "chirp"], **keys})
    return load_corpus(recordings, annotations, config, decode=decode)


def _errors(corpus):
    table = corpus.problems.frame()
    return table[table["action"] == "error"]


def _raised(corpus) -> str:
    with pytest.raises(CorpusError) as err:
        corpus.problems.raise_errors()
    return str(err.value)


@pytest.fixture
def audio(tmp_path):
    return write_two_recordings(tmp_path / "audio")


def test_raven_per_recording_and_multi_file_tables_agree(tmp_path, audio):
    one_folder, multi = write_per_recording_and_multi_file_tables(tmp_path)
    one = _load(audio, one_folder).annotations
    many = _load(audio, multi).annotations
    columns = ["recording", "start_s", "end_s", "label"]
    assert one[columns].values.tolist() == many[columns].values.tolist()
    assert one[columns].values.tolist() == [
        ["a", 1.0, 2.0, "hum"],
        ["a", 3.0, 3.5, "chirp"],
        ["b", 5.0, 6.0, "hum"],
    ]


def test_csv_and_audacity_formats(tmp_path, audio):
    (tmp_path / "labels.csv").write_text(
        "recording,start_s,end_s,Label,quality\na.wav,1,2,hum,Q1\nb,5,6.5,chirp,3\n"
    )
    table = _load(
        audio,
        tmp_path / "labels.csv",
        annotation_format="csv",
        label_column="label",
        quality_column="quality",
    ).annotations
    assert table[["recording", "label"]].values.tolist() == [["a", "hum"], ["b", "chirp"]]
    assert table["quality"].tolist() == [1, 3]
    (tmp_path / "aud").mkdir()
    (tmp_path / "aud/a.txt").write_text("1.0\t2.0\thum\n\\\t200\t900\n3\t3.5\tchirp\n")
    table = _load(audio, tmp_path / "aud", annotation_format="audacity").annotations
    assert table[["start_s", "end_s", "label"]].values.tolist() == [
        [1, 2, "hum"],
        [3, 3.5, "chirp"],
    ]
    assert table["high_hz"].tolist() == [900, 0]


def test_quality_suffix_parsed_by_regex(tmp_path):
    config = calls_corpus(tmp_path, tapes=2, calls=6)
    corpus = _load(
        config["recordings"], config["annotations"], quality_regex=config["quality_regex"]
    )
    table = corpus.annotations
    assert set(table["label"]) == {"hum", "chirp"}
    assert set(table["quality"]) == {1, 2, 3}
    assert _errors(corpus).empty


def test_real_raven_tables_species_annotation_trailing_tab_and_empty(shared_data, tmp_path):
    tables = shared_data / "raven-tables"
    # recordings named like the real tables, so that they match by file stem
    for stem in ("MSD-0003_20180427_2minstart00", "EmptyExample", "raven_with_Annotation_col"):
        write_recording(tmp_path / "audio", f"{stem}.wav", 130)
    corpus = _load(tmp_path / "audio", tables, label_column="species", unannotated="negative")
    problems = corpus.problems.frame()
    # the two tables without a Species column are named, with what they have instead
    missing = problems[problems["check"] == "missing column"]
    assert sorted(missing["file"].map(lambda f: f.rsplit("/", 1)[1])) == [
        "raven_with_Annotation_col.txt"
    ]
    assert "found ['Selection', 'View'" in missing["detail"].iloc[0]
    empty = problems[problems["check"] == "empty label"]
    assert len(empty) == 1 and empty["action"].iloc[0] == "dropped"
    assert len(corpus.annotations) == 9
    notes = problems[problems["check"] == "label not in corpus.labels"]
    assert set(notes["detail"].str.extract(r"labelled '(\w+)'")[0]) == {"WOTH", "EATO", "LOWA"}
    corpus = _load(tmp_path / "audio", tables, label_column="annotation", bad_annotations="skip")
    assert corpus.annotations["label"].str.len().gt(0).all()
    assert set(corpus.annotations["recording"]) == {"raven_with_Annotation_col"}


@pytest.mark.parametrize(("row", "check", "message"), BAD_ROWS)
def test_bad_rows_name_file_and_line_or_are_skipped(tmp_path, audio, row, check, message):
    table = write_table_with_bad_row(tmp_path / "raven/a.txt", row)
    corpus = _load(audio, tmp_path / "raven")
    text = _raised(corpus)
    assert f"{table}" in text and check in text and message in text
    assert _errors(corpus)["row"].tolist() == [3]  # the file line
    skipped = _load(audio, tmp_path / "raven", bad_annotations="skip")
    skipped.problems.raise_errors()  # nothing left that stops the run
    assert skipped.annotations["start_s"].tolist() == [1.0]
    assert skipped.problems.frame()["action"].tolist().count("skipped") == 1


def test_annotation_file_without_recording_and_recording_without_file(tmp_path, audio):
    write_raven(tmp_path / "raven/a.txt", [(1, 2, "hum")])
    write_raven(tmp_path / "raven/zebra.Table.1.selections.txt", [(1, 2, "hum")])
    corpus = _load(audio, tmp_path / "raven", unannotated="error")
    errors = _errors(corpus)
    assert set(errors["check"]) == {"annotation file without recording", "unannotated recording"}
    assert errors["file"].str.endswith("zebra.Table.1.selections.txt").sum() == 1
    assert errors["file"].str.endswith("b.flac").sum() == 1
    corpus = _load(audio, tmp_path / "raven", unannotated="skip", bad_annotations="skip")
    assert corpus.recordings["recording"].tolist() == ["a"]
    corpus = _load(audio, tmp_path / "raven", unannotated="negative", bad_annotations="skip")
    assert corpus.recordings["recording"].tolist() == ["a", "b"]


def test_unknown_recording_in_csv_names_the_row(tmp_path, audio):
    (tmp_path / "a.csv").write_text(
        "recording,start_s,end_s,Annotation\na,1,2,hum\nghost,1,2,hum\n"
    )
    text = _raised(_load(audio, tmp_path / "a.csv", annotation_format="csv"))
    assert "a.csv" in text and "recording 'ghost' is not in corpus.recordings" in text


def test_real_bad_audio_is_reported_or_skipped(shared_data, tmp_path):
    real = shared_data / "real-audio"
    corpus = _load(real, tmp_path)  # no annotations at all: every recording is a negative
    errors = _errors(corpus)
    bad = {f.rsplit("/", 1)[1] for f in errors["file"]}
    assert bad == {"empty_2c.wav"}  # stereo.wav holds 5 float samples: short, but usable
    assert errors["detail"].str.contains("no samples").all()
    skipped = _load(real, tmp_path, bad_audio="skip")
    names = set(skipped.recordings["recording"])
    assert {"silence_10s", "veryshort", "1min", "stereo"} <= names and "empty_2c" not in names
    assert skipped.recordings.set_index("recording").loc["veryshort", "duration_s"] < 0.2


def test_unreadable_and_nan_audio(tmp_path):
    import numpy as np
    import soundfile as sf

    folder = tmp_path / "audio"
    write_recording(folder, "good.wav", 2)
    (folder / "broken.wav").write_bytes(b"RIFF not really a wave file")
    samples = np.zeros(8000, dtype=np.float32)
    samples[100] = np.nan
    sf.write(folder / "nan.wav", samples, 8000, subtype="FLOAT")
    corpus = _load(folder, tmp_path, decode=True)
    errors = _errors(corpus).set_index("file")
    assert "cannot read audio header" in errors.loc[str(folder / "broken.wav"), "detail"]
    assert "NaN" in errors.loc[str(folder / "nan.wav"), "detail"]
    # headers only (prepare_dataset): NaN is found later, when the cache decodes the audio
    assert str(folder / "nan.wav") not in set(_errors(_load(folder, tmp_path))["file"])


def test_metadata_validated_and_tapes_group_recordings(tmp_path, audio):
    write_raven(tmp_path / "raven/a.txt", [(1, 2, "hum")])
    write_raven(tmp_path / "raven/b.txt", [(1, 2, "hum")])
    meta = tmp_path / "meta.csv"
    meta.write_text("recording,tape\na.wav,T1\nb,T1\n")
    corpus = _load(audio, tmp_path / "raven", metadata=str(meta))
    assert corpus.recordings["tape"].tolist() == ["T1", "T1"]
    meta.write_text("recording,tape\na,T1\nb,T2\nnobody,T3\n")
    text = _raised(_load(audio, tmp_path / "raven", metadata=str(meta)))
    assert "meta.csv" in text and "recording 'nobody' is not in corpus.recordings" in text
    meta.write_text("name,tape\na,T1\n")
    text = _raised(_load(audio, tmp_path / "raven", metadata=str(meta)))
    assert "needs a 'recording' column; found ['name', 'tape']" in text
    meta.write_text("recording,tape\na,T1\n")
    assert "no tape given for recording 'b'" in _raised(
        _load(audio, tmp_path / "raven", metadata=str(meta))
    )


def test_inputs_are_never_modified(tmp_path, shared_data):
    files = sorted(p for p in shared_data.rglob("*") if p.is_file())
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    _load(
        shared_data / "real-audio",
        shared_data / "raven-tables",
        decode=True,
        label_column="species",
        bad_audio="skip",
        bad_annotations="skip",
    )
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before
    assert pd.__name__  # pandas imported for the fixtures' tables
