"""Raven selection tables as Raven Pro writes them, read through the corpus reader."""

import pandas as pd
import pytest
from corpus_helpers import write_recording

from sonoflow.common.schema import section_with_defaults
from sonoflow.corpus.load import load_corpus
from sonoflow.corpus.problems import CorpusError
from sonoflow.corpus.raven import write_selection_table


def _read(tmp_path, table, label_column, seconds=130.0):
    """The annotations of one table, read for a recording named like it (the table is linked
    into a folder of its own, not copied)."""
    folder = tmp_path / "tables"
    folder.mkdir(exist_ok=True)
    (folder / table.name).symlink_to(table)
    stem = table.name.split(".")[0]
    write_recording(tmp_path / "audio", f"{stem}.wav", seconds)
    corpus = section_with_defaults("corpus", {"labels": ["hum"], "label_column": label_column})
    found = load_corpus(tmp_path / "audio", folder, corpus)
    found.problems.raise_errors()
    return found.annotations


def test_reads_raven_pro_table_with_species_column(shared_data, tmp_path):
    path = shared_data / "raven-tables/MSD-0003_20180427_2minstart00.Table.1.selections.txt"
    table = _read(tmp_path, path, label_column="species")  # case-insensitive column
    # 10 selections, one with an empty label, which is dropped
    assert len(table) == 9
    assert set(table["label"]) == {"WOTH", "EATO", "LOWA"}
    assert table.loc[0, "start_s"] == pytest.approx(1.897648165999982)
    assert table.loc[0, "high_hz"] == pytest.approx(3266.5)
    assert (table["end_s"] > table["start_s"]).all()


def test_trailing_tab_and_annotation_column(shared_data, tmp_path):
    table = _read(
        tmp_path, shared_data / "raven-tables/raven_with_Annotation_col.txt", "Annotation"
    )
    assert len(table) > 0
    assert table["label"].str.len().gt(0).all()


def test_empty_table(shared_data, tmp_path):
    table = _read(
        tmp_path, shared_data / "raven-tables/EmptyExample.Table.1.selections.txt", "Species"
    )
    assert table.empty
    assert {"start_s", "end_s", "label"} <= set(table.columns)


def test_missing_label_column_names_file_and_columns(shared_data, tmp_path):
    path = shared_data / "raven-tables/EmptyExample.Table.1.selections.txt"
    with pytest.raises(CorpusError, match=r"EmptyExample.*missing column.*'call_type'"):
        _read(tmp_path, path, "call_type")


def test_duplicate_views_are_dropped_and_spectrogram_kept(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(
        "Selection\tView\tChannel\tBEGIN TIME (S)\tEnd Time (s)\t"
        "Low Freq (Hz)\tHigh Freq (Hz)\tLabel\n"
        "1\tWaveform 1\t1\t1.0\t2.0\t0\t0\tfrog\n"
        "1\tSpectrogram 1\t1\t1.0\t2.0\t100\t900\tfrog\n"
        "2\tSpectrogram 1\t1\t5.0\t5.5\t200\t800\ttoad\n"
        "2\tWaveform 1\t1\t5.0\t5.5\t0\t0\ttoad\n"
    )
    table = _read(tmp_path, path, "label")
    assert list(table["label"]) == ["frog", "toad"]
    assert list(table["high_hz"]) == [900, 800]


def test_repeated_selection_number_with_other_times_or_label_is_another_call(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(
        "Selection\tView\tBegin Time (s)\tEnd Time (s)\tLabel\n"
        "1\tSpectrogram 1\t1.0\t2.0\tfrog\n"
        "1\tWaveform 1\t1.0\t2.0\tfrog\n"  # a view of the call above
        "1\tSpectrogram 1\t4.0\t5.0\tfrog\n"  # merged tables: same number, another call
        "1\tSpectrogram 1\t1.0\t2.0\ttoad\n"  # same times, another label
    )
    table = _read(tmp_path, path, "label")
    assert table[["start_s", "label"]].values.tolist() == [
        [1.0, "frog"],
        [4.0, "frog"],
        [1.0, "toad"],
    ]


def test_end_before_begin_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(
        "Selection\tBegin Time (s)\tEnd Time (s)\tLabel\n1\t1.0\t2.0\ta\n2\t4.0\t3.0\tb\n"
    )
    with pytest.raises(CorpusError, match=r"bad.txt, line 3 .*end before start"):
        _read(tmp_path, path, "Label")


def test_non_numeric_or_empty_time_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("Selection\tBegin Time (s)\tEnd Time (s)\tLabel\n1\tabc\t2.0\ta\n2\t\t3\tb\n")
    with pytest.raises(CorpusError) as err:
        _read(tmp_path, path, "Label")
    assert "bad.txt, line 2" in str(err.value) and "start time is not a number: 'abc'" in str(
        err.value
    )
    assert "bad.txt, line 3" in str(err.value) and "start time is not a number: ''" in str(
        err.value
    )


def test_written_table_reads_back(tmp_path):
    events = pd.DataFrame(
        {
            "start_s": [0.5, 2.0],
            "end_s": [1.0, 2.25],
            "low_hz": [100, 100],
            "high_hz": [900, 900],
            "Annotation": ["hum", "hum"],
            "Score": [0.9, 0.7],
        }
    )
    write_selection_table(tmp_path / "e.selections.txt", events, extra=["Annotation", "Score"])
    back = _read(tmp_path, tmp_path / "e.selections.txt", "annotation", seconds=5)
    assert back[["start_s", "end_s"]].to_numpy().tolist() == [[0.5, 1.0], [2.0, 2.25]]
