"""Labels that differ from `labels` only by case (or spaces): `label_match` (issue 24).

Before, ` woth `/`Eato` rows were a note among the unknown labels, so a benchmark recording
was scored on 1 of its 3 references with exit status 0 and nothing counted.
"""

import copy
import logging
from pathlib import Path

import pytest
import yaml
from corpus_helpers import write_raven, write_recording

from sonoflow.common.schema import ConfigError, section_with_defaults
from sonoflow.config import validate_config
from sonoflow.corpus.check import check_corpus
from sonoflow.corpus.problems import CorpusError
from sonoflow.evaluation.ground_truth import (
    ground_truth_settings,
    read_ground_truth,
    references_per_recording,
)

ROOT = Path(__file__).resolve().parents[3]
LABELS = ["WOTH", "EATO"]
ROWS = [(1, 2, " woth "), (3, 4, "Eato"), (5, 6, "WOTH"), (7, 8, "Eato"), (9, 9.5, "owl")]


@pytest.fixture
def corpus(tmp_path):
    write_recording(tmp_path / "audio", "a.wav", 10)
    table = write_raven(tmp_path / "raven/a.txt", ROWS)
    config = {
        "recordings": str(tmp_path / "audio"),
        "annotations": str(tmp_path / "raven"),
        "labels": LABELS,
    }
    return config, str(table)


def _check(config, **keys):
    return check_corpus({**config, **keys}, demo_dir="unused")


def test_exact_counts_rows_differing_by_case_per_file_and_label(corpus):
    config, table = corpus
    problems = _check(config)
    dropped = problems[problems["action"] == "dropped"]
    assert dropped[["file", "row", "check"]].values.tolist() == [
        [table, 2, "label case"],
        [table, 3, "label case"],
    ]
    woth, eato = dropped["detail"]
    assert woth.startswith("1 row(s) labelled 'woth' (line 2) differ from 'WOTH' in corpus.labels")
    assert eato.startswith("2 row(s) labelled 'Eato' (lines 3, 5) differ from 'EATO'")
    assert "set corpus.label_match: case_insensitive [corpus.label_match: exact]" in eato
    other = problems[problems["check"] == "label not in corpus.labels"]
    assert other["detail"].tolist() == [
        "1 row(s) labelled 'owl': never a target, but noise keeps clear of them"
    ]


def test_case_insensitive_reads_them_as_the_configured_label(corpus, tmp_path):
    config, table = corpus
    problems = _check(config, label_match="case_insensitive")
    assert not (problems["action"] == "dropped").any()
    notes = problems[problems["check"] == "label case"]
    policy = " [corpus.label_match: case_insensitive]"
    assert notes["detail"].tolist() == [
        "1 row(s) labelled 'woth' (line 2) read as 'WOTH'" + policy,
        "2 row(s) labelled 'Eato' (lines 3, 5) read as 'EATO'" + policy,
    ]
    write_raven(tmp_path / "raven/a.txt", [(1, 2, "Eato"), (1, 2, "EATO")])
    problems = _check(config, label_match="case_insensitive")
    repeated = problems[problems["check"] == "repeated annotation"]  # one call, once folded
    assert repeated[["row", "action"]].values.tolist() == [[3, "error"]]


def _benchmark(tmp_path, corpus_keys=(), **keys):
    corpus = section_with_defaults("corpus", {"labels": LABELS, **dict(corpus_keys)})
    bench = section_with_defaults(
        "benchmark",
        {"recordings": str(tmp_path / "audio"), "annotations": str(tmp_path / "raven"), **keys},
    )
    settings = ground_truth_settings("dawn", bench, corpus)
    truth = read_ground_truth(tmp_path / "audio", tmp_path / "raven", settings)
    return references_per_recording(truth, LABELS).loc["a"].to_dict()


def test_benchmark_references_follow_label_match_and_exact_is_counted_in_the_log(
    corpus, tmp_path, caplog
):
    with caplog.at_level(logging.WARNING):
        assert _benchmark(tmp_path) == {"WOTH": 1, "EATO": 0}
    assert "2 benchmark dawn problem(s) dropped" in caplog.text
    assert "a.txt, line 3  label case:  2 row(s) labelled 'Eato' (lines 3, 5)" in caplog.text
    assert "set corpus.label_match: case_insensitive" in caplog.text
    folded = {"WOTH": 2, "EATO": 2}
    assert _benchmark(tmp_path, label_match="case_insensitive") == folded
    assert _benchmark(tmp_path, {"label_match": "case_insensitive"}) == folded  # null: corpus's
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _benchmark(tmp_path, {"label_match": "case_insensitive"}, label_match="exact")
    assert "[benchmarks.dawn.label_match: exact]" in caplog.text


def test_case_insensitive_repeat_in_ground_truth_stops_evaluation(tmp_path):
    write_recording(tmp_path / "audio", "a.wav", 10)
    write_raven(tmp_path / "raven/a.txt", [(1, 2, "woth"), (1, 2, "WOTH")])
    with pytest.raises(CorpusError, match=r"a\.txt, line 3  repeated annotation"):
        _benchmark(tmp_path, label_match="case_insensitive")


def test_labels_alike_but_for_case_stop_validation_under_case_insensitive():
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["corpus"]["labels"] = ["hum", "Hum", "chirp"]
    validate_config(copy.deepcopy(config), ROOT / "workflow/schemas/config.schema.yaml")
    config["corpus"]["label_match"] = "case_insensitive"
    with pytest.raises(ConfigError, match=r"corpus\.labels: \['Hum', 'hum'\] differ only by case"):
        validate_config(config, ROOT / "workflow/schemas/config.schema.yaml")
