"""Bad corpus input that once passed silently or failed without naming the culprit (issue 16)."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from corpus_helpers import RAVEN_HEADER, write_raven, write_recording

from sonoflow.common.schema import section_with_defaults
from sonoflow.corpus.check import main as check_main
from sonoflow.corpus.load import load_corpus
from sonoflow.corpus.raven import read_raven_raw
from sonoflow.corpus.text import TextEncodingError, read_text


def _load(recordings, annotations, decode=False, **keys):
    config = section_with_defaults("corpus", {"labels": ["hum", "chirp"], **keys})
    return load_corpus(recordings, annotations, config, decode=decode)


def _problems(corpus, action=None):
    table = corpus.problems.frame()
    return table if action is None else table[table["action"] == action]


def _table(path, lines, header=f"{RAVEN_HEADER}\tAnnotation"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def test_distinct_calls_sharing_a_selection_number_are_both_kept(tmp_path):
    write_recording(tmp_path / "audio", "a.wav", 10)
    _table(
        tmp_path / "raven/a.txt",
        [
            "1\tSpectrogram 1\t1\t1.0\t2.0\t100\t900\thum",
            "1\tWaveform 1\t1\t1.0\t2.0\t0\t0\thum",  # a view duplicate: dropped
            "1\tSpectrogram 1\t1\t5.0\t6.0\t100\t900\thum",  # same number, other call
            "2\tSpectrogram 1\t1\t7.0\t8.0\t100\t900\thum",
            "2\tSpectrogram 1\t1\t7.0\t8.0\t100\t900\tchirp",  # same times, other label
        ],
    )
    table = _load(tmp_path / "audio", tmp_path / "raven").annotations
    assert table[["start_s", "label"]].values.tolist() == [
        [1.0, "hum"],
        [5.0, "hum"],
        [7.0, "hum"],
        [7.0, "chirp"],
    ]


def test_quotes_in_a_label_are_characters_not_quoting(tmp_path):
    write_recording(tmp_path / "audio", "a.wav", 10)
    path = _table(
        tmp_path / "raven/a.txt",
        [
            '1\tSpectrogram 1\t1\t1.0\t2.0\t100\t900\thum "loud',
            "2\tSpectrogram 1\t1\t3.0\t4.0\t100\t900\tchirp",
            '3\tSpectrogram 1\t1\t5.0\t6.0\t100\t900\t"hum"',
        ],
    )
    table = _load(tmp_path / "audio", tmp_path / "raven").annotations
    assert table["label"].tolist() == ['hum "loud', "chirp", '"hum"']
    assert read_raven_raw(path)[0]["Annotation"].tolist() == table["label"].tolist()


def test_windows_1252_table_names_file_line_and_encoding(tmp_path):
    write_recording(tmp_path / "audio", "a.wav", 10)
    path = tmp_path / "raven/a.txt"
    path.parent.mkdir()
    text = f"{RAVEN_HEADER}\tAnnotation\n1\tSpectrogram 1\t1\t1\t2\t0\t0\thum\n"
    text += "2\tSpectrogram 1\t1\t3\t4\t0\t0\tchirp \u2019adult\u2019\n"
    path.write_bytes(text.encode("cp1252"))
    errors = _problems(_load(tmp_path / "audio", tmp_path / "raven"), "error")
    assert errors[["file", "row", "check"]].values.tolist() == [[str(path), 3, "encoding"]]
    assert "Windows-1252" in errors["detail"].iloc[0] and "UTF-8" in errors["detail"].iloc[0]
    with pytest.raises(TextEncodingError, match=r"a\.txt, line 3: not UTF-8"):
        read_raven_raw(path)


@pytest.mark.parametrize("codec", ["utf-16", "utf-8-sig"])
def test_utf16_and_bom_tables_are_read(tmp_path, codec):
    write_recording(tmp_path / "audio", "a.wav", 10)
    path = tmp_path / "raven/a.txt"
    path.parent.mkdir()
    text = f"{RAVEN_HEADER}\tAnnotation\tNotes\n1\tSpectrogram 1\t1\t1\t2\t0\t0\thum\tGrünling\n"
    path.write_bytes(text.encode(codec))
    assert read_text(path) == text
    corpus = _load(tmp_path / "audio", tmp_path / "raven")
    assert corpus.annotations[["start_s", "label"]].values.tolist() == [[1.0, "hum"]]
    assert read_raven_raw(path)[0]["Notes"].tolist() == ["Grünling"]
    assert _problems(corpus, "error").empty


def test_bad_audio_recording_gives_one_problem_not_a_second_for_its_table(tmp_path):
    folder = tmp_path / "audio"
    write_recording(folder, "good.wav", 5)
    samples = np.zeros(8000 * 5, dtype=np.float32)
    samples[10] = np.inf
    sf.write(folder / "bad.wav", samples, 8000, subtype="FLOAT")
    write_raven(tmp_path / "raven/good.txt", [(1, 2, "hum")])
    write_raven(tmp_path / "raven/bad.Table.1.selections.txt", [(1, 2, "hum")])
    for policy, action in (("error", "error"), ("skip", "skipped")):
        corpus = _load(folder, tmp_path / "raven", decode=True, bad_audio=policy)
        problems = _problems(corpus)
        problems = problems[problems["action"] != "note"]
        assert problems[["file", "check", "action"]].values.tolist() == [
            [str(folder / "bad.wav"), "bad audio", action]
        ]
        assert corpus.annotations["recording"].tolist() == ["good"]


def test_empty_corpus_folder_is_a_named_problem(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "raven").mkdir()
    errors = _problems(_load(tmp_path / "audio", tmp_path / "raven"), "error")
    assert errors[["file", "check"]].values.tolist() == [[str(tmp_path / "audio"), "no recordings"]]


def test_check_corpus_missing_or_broken_config_is_one_line(tmp_path, capsys):
    assert check_main(["--config", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"check_corpus: {tmp_path / 'missing.yaml'}: config file not found"
    broken = tmp_path / "broken.yaml"
    broken.write_text("corpus:\n  labels: [hum, chirp\n  recordings: x\n")
    assert check_main(["--config", str(broken)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"{broken}, line 3, column" in err and "not valid YAML" in err


def test_check_corpus_command_has_no_traceback_for_a_missing_config(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sonoflow.corpus.check", "--config", "missing.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "check_corpus: missing.yaml: config file not found"


def test_a_repeated_annotation_row_names_file_and_both_lines(tmp_path):
    """Two rows with the same recording, times and label (distinct selection numbers, so
    not view duplicates) are one call twice: named with both lines, and the key that
    keeps only the first (issue 24; before: `duplicate clips` without file or line)."""
    write_recording(tmp_path / "audio", "a.wav", 10)
    path = write_raven(tmp_path / "raven/a.txt", [(1, 2, "hum"), (3, 4, "chirp"), (1, 2, "hum")])
    errors = _problems(_load(tmp_path / "audio", tmp_path / "raven"), "error")
    assert errors[["file", "row", "check"]].values.tolist() == [
        [str(path), 4, "repeated annotation"]
    ]
    detail = errors["detail"].iloc[0]
    assert "as on line 2;" in detail and "corpus.bad_annotations: skip" in detail
    corpus = _load(tmp_path / "audio", tmp_path / "raven", bad_annotations="skip")
    assert corpus.annotations[["start_s", "label", "row"]].values.tolist() == [
        [1.0, "hum", 2],
        [3.0, "chirp", 3],
    ]
    assert _problems(corpus, "skipped")["row"].tolist() == [4]


def test_a_repeated_row_across_csv_files_names_the_other_file(tmp_path):
    write_recording(tmp_path / "audio", "a.wav", 10)
    (tmp_path / "csv").mkdir()
    one, two = tmp_path / "csv/one.csv", tmp_path / "csv/two.csv"
    one.write_text("recording,start_s,end_s,Annotation\na,1,2,hum\n")
    two.write_text("recording,start_s,end_s,Annotation\na,3,4,hum\na,1.0,2.0,hum\n")
    errors = _problems(_load(tmp_path / "audio", tmp_path / "csv", annotation_format="csv"))
    errors = errors[errors["check"] == "repeated annotation"]
    assert errors[["file", "row", "action"]].values.tolist() == [[str(two), 3, "error"]]
    assert f"as on line 2 of {one};" in errors["detail"].iloc[0]
