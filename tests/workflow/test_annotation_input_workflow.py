"""Annotation rows that once failed vaguely or were left out unnoticed, through the workflow
(issue 24): a call annotated twice, a label that differs from `labels` only by case."""

import copy

import pandas as pd
from corpus_helpers import calls_corpus
from workflow_helpers import TINY_CONFIG, copy_project, snakemake, write_config

CLIPS = "results/datasets/default/clips.csv"


def test_repeated_row_and_label_case_name_file_and_line_then_follow_their_keys(tmp_path):
    corpus = calls_corpus(tmp_path / "corpus", tapes=5, calls=6)
    table = tmp_path / "corpus/raven/rec01.Table.1.selections.txt"
    lines = table.read_text().splitlines()
    again = lines[2].replace("2\t", "9\t", 1)  # line 3's call again, as selection 9
    table.write_text("\n".join([*lines, again]) + "\n")  # line 8
    other = tmp_path / "corpus/raven/rec02.Table.1.selections.txt"
    lines = other.read_text().splitlines()
    lines[1] = lines[1].replace("\tchirp_Q", "\tChirp_Q").replace("\thum_Q", "\tHum_Q")
    other.write_text("\n".join(lines) + "\n")  # line 2 differs only by case
    config = copy.deepcopy(TINY_CONFIG)
    config["corpus"] = corpus
    config["features"]["mel32"].update(sample_rate=8000, fmax=4000)
    config["benchmarks"]["demo"]["hop_s"] = 0.08
    project = copy_project(tmp_path / "project", config)

    failed = snakemake(project, CLIPS, check=False)
    assert failed.returncode != 0
    log = (project / "logs/prepare_dataset/default.log").read_text()
    assert f"{table}, line 8  repeated annotation:" in log and "as on line 3;" in log
    assert "corpus.bad_annotations: skip to keep only the first" in log
    assert f"{other}, line 2  label case:  1 row(s) labelled" in log
    assert "set corpus.label_match: case_insensitive [corpus.label_match: exact]" in log

    config["corpus"].update(bad_annotations="skip", label_match="case_insensitive")
    write_config(project, config)
    snakemake(project, CLIPS)
    clips = pd.read_csv(project / CLIPS)
    targets = clips[clips["source"] == "target"]
    assert targets.groupby("recording").size().to_dict() == {f"rec{t:02d}": 6 for t in range(5)}
    assert set(targets["label"]) == {"hum", "chirp"}
