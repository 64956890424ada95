"""Benchmark ground truth through the corpus reader: formats, matching, row checks, policies."""

import numpy as np
import pandas as pd
import pytest
from corpus_helpers import (
    BAD_ROWS,
    write_per_recording_and_multi_file_tables,
    write_raven,
    write_recording,
    write_table_with_bad_row,
    write_two_recordings,
)
from evaluation_helpers import SETTINGS

from sonoflow.common.schema import section_with_defaults
from sonoflow.corpus.load import load_corpus
from sonoflow.corpus.problems import CorpusError
from sonoflow.evaluation.benchmark import evaluate_scores
from sonoflow.evaluation.ground_truth import (
    check_scored,
    ground_truth_settings,
    read_ground_truth,
    references_per_recording,
)

LABELS = ["hum", "chirp"]
EVALUATION = {**SETTINGS, "sweep_steps": 0}


def _corpus(**keys):
    return section_with_defaults("corpus", {"labels": LABELS, **keys})


def _settings(tmp_path, annotations, corpus=None, **keys):
    bench = section_with_defaults(
        "benchmark",
        {"recordings": str(tmp_path / "audio"), "annotations": str(annotations), **keys},
    )
    return ground_truth_settings("field", bench, corpus or _corpus())


def _truth(tmp_path, annotations, corpus=None, **keys):
    settings = _settings(tmp_path, annotations, corpus, **keys)
    return read_ground_truth(tmp_path / "audio", annotations, settings)


def _raised(tmp_path, annotations, corpus=None, **keys) -> str:
    with pytest.raises(CorpusError) as err:
        _truth(tmp_path, annotations, corpus, **keys)
    return str(err.value)


@pytest.fixture
def audio(tmp_path):
    return write_two_recordings(tmp_path / "audio")


COLUMNS = ["recording", "start_s", "end_s", "label"]
EXPECTED = [["a", 1.0, 2.0, "hum"], ["a", 3.0, 3.5, "chirp"], ["b", 5.0, 6.0, "hum"]]


def test_every_corpus_format_reads_the_same_ground_truth(tmp_path, audio):
    raven, multi = write_per_recording_and_multi_file_tables(tmp_path)
    (tmp_path / "labels.csv").write_text(
        "recording,start_s,end_s,Annotation\na.wav,1,2,hum\na,3,3.5,chirp\nb,5,6,hum\n"
    )
    (tmp_path / "aud").mkdir()
    (tmp_path / "aud/a.txt").write_text("1\t2\thum\n3\t3.5\tchirp\n")
    (tmp_path / "aud/b.txt").write_text("5\t6\thum\n")
    readings = {
        "raven": _truth(tmp_path, raven),
        "multi-file raven": _truth(tmp_path, multi),
        "csv": _truth(tmp_path, tmp_path / "labels.csv", annotation_format="csv"),
        # the benchmark's format defaults to the corpus's
        "audacity": _truth(tmp_path, tmp_path / "aud", _corpus(annotation_format="audacity")),
    }
    for name, truth in readings.items():
        assert truth.annotations[COLUMNS].values.tolist() == EXPECTED, name


def test_benchmark_and_corpus_read_a_table_alike(tmp_path, audio):
    # label case and whitespace, quality suffixes, low/high: whatever the corpus reader makes
    write_raven(
        tmp_path / "raven/a.txt",
        [(1, 2, " Hum_Q1 "), (3, 3.5, "chirp_Q2"), (4, 5, "hum"), (6, 7, "HUM_Q3")],
    )
    corpus = _corpus(quality_regex=r"^(?P<label>.+?)_Q(?P<quality>\d)$", unannotated="negative")
    as_corpus = load_corpus(audio, tmp_path / "raven", corpus).annotations
    as_benchmark = _truth(tmp_path, tmp_path / "raven", corpus, unannotated="call_free")
    pd.testing.assert_frame_equal(as_benchmark.annotations, as_corpus)
    assert as_corpus["label"].tolist() == ["Hum", "chirp", "hum", "HUM"]
    assert as_corpus["quality"].tolist() == [1, 2, pd.NA, 3]


@pytest.mark.parametrize(
    ("recording", "table"),
    [
        ("tape[1] *x?.wav", "tape[1] *x?.Table.1.selections.txt"),  # glob-special characters
        ("a.WAV", "a.Table.1.selections.TXT"),  # case of the extensions
        ("site.2024.flac", "site.2024.txt"),  # dots in the stem
    ],
)
def test_table_is_found_by_exact_name_whatever_its_characters(tmp_path, recording, table):
    write_recording(tmp_path / "audio", recording, 10)
    write_raven(tmp_path / "raven" / table, [(1, 2, "hum")])
    truth = _truth(tmp_path, tmp_path / "raven")
    assert truth.annotations["recording"].tolist() == [recording.rsplit(".", 1)[0]]


def test_recording_without_table_stops_naming_it_unless_call_free(tmp_path, audio):
    write_raven(tmp_path / "raven/a.txt", [(1, 2, "hum")])
    text = _raised(tmp_path, tmp_path / "raven")
    assert "b.flac" in text and "unannotated recording" in text
    assert "[benchmarks.field.unannotated: error]" in text and "benchmark field" in text
    truth = _truth(tmp_path, tmp_path / "raven", unannotated="call_free")
    assert truth.recordings["recording"].tolist() == ["a", "b"]
    notes = truth.problems.frame()
    assert notes["detail"].str.contains("scored as a recording without calls").any()


def test_table_with_header_and_no_rows_is_call_free(tmp_path, audio):
    write_raven(tmp_path / "raven/a.txt", [(1, 2, "hum")])
    write_raven(tmp_path / "raven/b.Table.1.selections.txt", [])
    truth = _truth(tmp_path, tmp_path / "raven")
    assert truth.recordings["recording"].tolist() == ["a", "b"]
    assert truth.annotations["recording"].tolist() == ["a"]


def test_table_without_recording_stops_naming_it(tmp_path, audio):
    write_raven(tmp_path / "raven/a.txt", [(1, 2, "hum")])
    write_raven(tmp_path / "raven/b.txt", [(1, 2, "hum")])
    write_raven(tmp_path / "raven/zebra.Table.1.selections.txt", [(1, 2, "hum")])
    text = _raised(tmp_path, tmp_path / "raven")
    assert "zebra.Table.1.selections.txt" in text and "annotation file without recording" in text
    assert "no recording in benchmarks.field.recordings" in text
    assert "[corpus.bad_annotations: error]" in text  # the key that decided: the corpus's
    truth = _truth(tmp_path, tmp_path / "raven", bad_annotations="skip")
    assert len(truth.annotations) == 2
    assert "[benchmarks.field.bad_annotations: skip]" in truth.problems.frame()["detail"].iloc[-1]


@pytest.mark.parametrize(("row", "check", "message"), BAD_ROWS)
def test_reference_rows_are_validated_like_corpus_rows(tmp_path, audio, row, check, message):
    table = write_table_with_bad_row(tmp_path / "raven/a.txt", row)
    write_raven(tmp_path / "raven/b.txt", [])
    text = _raised(tmp_path, tmp_path / "raven")
    # the corpus's checks and messages (test_corpus.py holds the corpus to the same list)
    assert f"{table}, line 3" in text and check in text and message in text
    skipped = _truth(tmp_path, tmp_path / "raven", bad_annotations="skip")
    assert skipped.annotations["start_s"].tolist() == [1.0]


def test_repeated_selection_number_keeps_every_distinct_call(tmp_path, audio):
    (tmp_path / "raven").mkdir()
    (tmp_path / "raven/a.txt").write_text(
        "Selection\tView\tBegin Time (s)\tEnd Time (s)\tAnnotation\n"
        "1\tSpectrogram 1\t1.0\t2.0\thum\n"
        "1\tWaveform 1\t1.0\t2.0\thum\n"
        "1\tSpectrogram 1\t5.0\t6.0\thum\n"
        "2\tSpectrogram 1\t5.0\t6.0\tchirp\n"
        "2\tSpectrogram 1\t5.0\t6.5\thum\n"
    )
    write_raven(tmp_path / "raven/b.txt", [])
    truth = _truth(tmp_path, tmp_path / "raven").annotations
    assert truth[["start_s", "end_s", "label"]].values.tolist() == [
        [1.0, 2.0, "hum"],
        [5.0, 6.0, "hum"],
        [5.0, 6.0, "chirp"],
        [5.0, 6.5, "hum"],
    ]


def test_a_repeated_reference_names_its_lines(tmp_path, audio):
    """The same call twice in the ground truth could only ever be matched once (one
    detection per reference): named with both lines, or the repeat skipped by the policy."""
    path = write_raven(tmp_path / "raven/a.txt", [(1, 2, "hum"), (1, 2, "hum")])
    write_raven(tmp_path / "raven/b.txt", [])
    text = _raised(tmp_path, tmp_path / "raven")
    assert f"{path}, line 3  repeated annotation:" in text and "as on line 2;" in text
    truth = _truth(tmp_path, tmp_path / "raven", bad_annotations="skip").annotations
    assert truth["row"].tolist() == [2]


def test_quality_follows_the_corpus_policy(shared_data, tmp_path):
    table = shared_data / "raven-tables/MSD-0003_20180427_2minstart00.Table.1.selections.txt"
    (tmp_path / "raven").mkdir()
    (tmp_path / "raven" / table.name).symlink_to(table)  # read in place
    write_recording(tmp_path / "audio", "MSD-0003_20180427_2minstart00.wav", 120)
    corpus = _corpus(label_column="Species")
    truth = _truth(tmp_path, tmp_path / "raven", corpus).annotations
    assert len(truth) == 9 and truth["quality"].isna().all()  # no quality column: no grades
    text = _raised(tmp_path, tmp_path / "raven", corpus, quality_column="Quality")
    assert "missing column(s) ['Quality']" in text  # a named quality column must exist


def test_settings_name_the_key_that_decided():
    corpus = _corpus(label_column="Species", annotation_format="csv", bad_annotations="skip")
    bench = section_with_defaults(
        "benchmark", {"recordings": "/r", "annotations": "/a", "label_column": "Call"}
    )
    settings = ground_truth_settings("field", bench, corpus)
    reader, keys = settings["reader"], settings["keys"]
    assert (reader["label_column"], keys["label_column"]) == (
        "Call",
        "benchmarks.field.label_column",
    )
    assert (reader["annotation_format"], keys["annotation_format"]) == (
        "csv",
        "corpus.annotation_format",
    )
    assert (reader["bad_annotations"], reader["unannotated"]) == ("skip", "error")
    demo = ground_truth_settings("demo", section_with_defaults("benchmark", {}), corpus)
    assert (demo["reader"]["annotation_format"], demo["reader"]["label_column"]) == (
        "raven",
        "Annotation",
    )


def _scores(recording, calls, duration=10):
    starts = np.arange(duration, dtype=float)
    hit = np.isin(starts, calls)
    return pd.DataFrame(
        {
            "recording": recording,
            "start_s": starts,
            "end_s": starts + 1,
            "hum": np.where(hit, 0.9, 0.1),
            "chirp": 0.1,
        }
    )


def test_per_tape_metrics_carry_the_reference_count_of_every_recording(tmp_path, audio):
    write_raven(tmp_path / "raven/a.txt", [(1, 2, "hum"), (3, 3.5, "chirp"), (6, 7, "hum")])
    truth = _truth(tmp_path, tmp_path / "raven", unannotated="call_free")
    scores = pd.concat([_scores("a", [1, 6]), _scores("b", [4], duration=20)])
    check_scored(list(scores["recording"].unique()), truth, "field")
    result = evaluate_scores(scores, truth.annotations, LABELS, EVALUATION)
    per_tape = result.per_tape[result.per_tape["threshold"] == 0.5]
    counts = per_tape.pivot(index="recording", columns="class", values="n_reference")
    expected = references_per_recording(truth, LABELS)
    assert counts[LABELS].to_dict() == expected.to_dict()
    assert expected.loc["b"].tolist() == [0, 0]  # the call-free recording was scored
    assert expected.loc["a"].tolist() == [2, 1]


def test_scores_and_ground_truth_must_cover_the_same_recordings(tmp_path, audio):
    write_raven(tmp_path / "raven/a.txt", [(1, 2, "hum")])
    truth = _truth(tmp_path, tmp_path / "raven", unannotated="call_free")
    with pytest.raises(CorpusError, match=r"(?s)b: a benchmark recording without scores.*"):
        check_scored(["a"], truth, "field")
    with pytest.raises(CorpusError, match=r"ghost: scored, but not a recording"):
        check_scored(["a", "b", "ghost"], truth, "field")


def test_a_zero_length_reference_is_named_in_the_evaluation_log(tmp_path, audio, caplog):
    """A reference that ends where it starts can never match under IoU; it is kept and
    counted as a miss, and the evaluation log names its file and line (issue 24)."""
    path = write_raven(tmp_path / "raven/a.txt", [(1, 2, "hum"), (6, 6, "hum")])
    truth = _truth(tmp_path, tmp_path / "raven", unannotated="call_free")
    scores = pd.concat([_scores("a", [1, 6]), _scores("b", [], duration=20)])
    with caplog.at_level("WARNING", logger="sonoflow.evaluation.benchmark"):
        result = evaluate_scores(scores, truth.annotations, LABELS, EVALUATION)
    assert "1 reference event(s) of zero length" in caplog.text
    assert f"{path}, line 3: 'hum' at 6.0 s" in caplog.text
    assert "evaluation.match: iou it can never match" in caplog.text
    hum = result.metrics[(result.metrics["threshold"] == 0.5) & (result.metrics["class"] == "hum")]
    assert hum[["tp", "fn", "n_reference"]].values.tolist() == [[1, 1, 2]]
    caplog.clear()
    with caplog.at_level("WARNING", logger="sonoflow.evaluation.benchmark"):
        evaluate_scores(scores, truth.annotations, LABELS, {**EVALUATION, "match": "collar"})
    assert "only under collar matching: the iou_* and dcase_* columns count" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="sonoflow.evaluation.benchmark"):
        evaluate_scores(scores, truth.annotations, LABELS, {**EVALUATION, "match": "dcase"})
    assert "evaluation.match: dcase it can never match" in caplog.text
