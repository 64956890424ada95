"""check_corpus: every problem of a corpus at once, from the library and the command line."""

import subprocess
import sys

import pandas as pd
import yaml
from corpus_helpers import write_raven

from sonoflow.corpus.check import check_corpus


def test_reports_every_problem_at_once(shared_data, tmp_path):
    raven = tmp_path / "raven"
    write_raven(
        raven / "1min.Table.1.selections.txt", [(1, 2, "hum"), (5, 4, "hum"), (50, 70, "hum")]
    )
    write_raven(raven / "aru_1.txt", [(-1, 0.5, "chirp"), (0.5, 1, "")])
    write_raven(raven / "nobody.txt", [(1, 2, "hum")])
    problems = check_corpus(
        {
            "recordings": str(shared_data / "real-audio"),
            "annotations": str(raven),
            "labels": ["hum", "chirp"],
            "unannotated": "skip",
        },
        demo_dir=tmp_path / "demo",  # unused: the corpus is not the demo
    )
    found = set(zip(problems["file"].map(lambda f: f.rsplit("/", 1)[1]), problems["check"]))
    assert {
        ("1min.Table.1.selections.txt", "end before start"),
        ("1min.Table.1.selections.txt", "past the end"),
        ("aru_1.txt", "negative time"),
        ("aru_1.txt", "empty label"),
        ("nobody.txt", "annotation file without recording"),
        ("empty_2c.wav", "bad audio"),
        ("great_plains_toad.wav", "unannotated recording"),
    } <= found
    assert list(problems.columns) == ["file", "row", "check", "detail", "action"]


def test_command_line_prints_table_and_fails_on_errors(shared_data, tmp_path):
    raven = tmp_path / "raven"
    write_raven(raven / "rugr_drum.txt", [(3.0, 4.0, "drum"), (9.0, 8.0, "drum")])
    config = {
        "corpus": {
            "recordings": str(shared_data / "real-audio"),
            "annotations": str(raven),
            "labels": ["drum"],
            "bad_audio": "skip",
        }
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "problems.tsv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sonoflow.corpus.check",
            "--config",
            "config.yaml",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert "end before start" in result.stdout and "rugr_drum.txt" in result.stdout
    table = pd.read_csv(out, sep="\t")
    assert (table["action"] == "error").sum() == 1
    assert "skipped" in set(table["action"])  # the empty wav, as bad_audio asks
    raven.joinpath("rugr_drum.txt").unlink()
    write_raven(raven / "rugr_drum.txt", [(3.0, 4.0, "drum")])
    result = subprocess.run(
        [sys.executable, "-m", "sonoflow.corpus.check", "--config", "config.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
