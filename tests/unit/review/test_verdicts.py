"""Reading verdicts: accepted words, unreviewed and unsure rows, and bad files named."""

import pandas as pd
import pytest

from sonoflow.review.verdicts import VerdictError, read_verdicts, reviewed


def sample() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["c1", "c2", "c3", "c4"],
            "recording": ["siteA/r1", "siteA/r1", "siteB/r2", "siteB/r2"],
            "class": ["hum", "hum", "chirp", "chirp"],
            "score": [0.9, 0.4, 0.8, 0.6],
        }
    )


def write_csv(path, rows, extra=None):
    frame = pd.DataFrame(rows, columns=["id", "verdict", *(extra or [])])
    frame.to_csv(path, index=False)


def raven(path, rows):
    lines = ["Selection\tView\tBegin Time (s)\tEnd Time (s)\tClip\tVerdict"]
    lines += [f"{i}\tSpectrogram 1\t0\t1\t{clip}\t{word}" for i, (clip, word) in enumerate(rows, 1)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_words_unsure_and_unreviewed(tmp_path):
    write_csv(tmp_path / "sample.csv", [["c1", "Y"], ["c2", "false"], ["c3", "u"], ["c4", ""]])
    verdicts = read_verdicts(tmp_path, sample())
    assert list(verdicts.table["verdict"]) == ["yes", "no", "unsure", ""]
    assert list(reviewed(verdicts.table)["id"]) == ["c1", "c2"]  # unsure, empty left out
    counts = verdicts.counts()
    assert counts.loc["chirp", "unsure"] == 1 and counts.loc["chirp", "unreviewed"] == 1
    assert counts.loc["hum", "yes"] == 1 and counts.loc["hum", "no"] == 1


def test_raven_tables_and_csv_agree(tmp_path):
    write_csv(tmp_path / "sample.csv", [["c1", "yes"], ["c3", ""]])
    raven(tmp_path / "siteA" / "r1.selections.txt", [("c1", "1"), ("c2", "n")])
    raven(tmp_path / "r2.selections.txt", [("c3", "yes")])
    table = read_verdicts(tmp_path, sample()).table
    assert list(table["correct"].fillna(-1)) == [1.0, 0.0, 1.0, -1]


def test_correction_makes_a_no(tmp_path):
    rows = [["c1", "yes", "chirp"], ["c2", "", "noise"]]
    write_csv(tmp_path / "v.csv", rows, ["corrected_class"])
    table = read_verdicts(tmp_path, sample(), classes=["hum", "chirp"]).table
    assert list(table["verdict"][:2]) == ["no", "no"]
    assert list(table["corrected_class"][:2]) == ["chirp", "noise"]
    write_csv(tmp_path / "v.csv", [["c1", "no", "bird"]], ["corrected_class"])
    with pytest.raises(VerdictError, match=r"v.csv row 2: corrected class 'bird'"):
        read_verdicts(tmp_path, sample(), classes=["hum", "chirp"])


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.csv": [["c1", "maybe"]]}, r"a.csv row 2: unknown verdict 'maybe'; accepted: yes/no"),
        ({"a.csv": [["c1", "y"], ["c9", "n"]]}, r"a.csv row 3: clip id 'c9' is not in the"),
        (
            {"a.csv": [["c1", "y"]], "b.csv": [["c1", "no"]]},
            r"b.csv row 2: clip c1 is 'no' here but 'yes' in .*a.csv row 2",
        ),
    ],
)
def test_bad_csv_files(tmp_path, files, message):
    for name, rows in files.items():
        write_csv(tmp_path / name, rows)
    with pytest.raises(VerdictError, match=message):
        read_verdicts(tmp_path, sample())


def test_table_of_another_recording(tmp_path):
    raven(tmp_path / "r1.selections.txt", [("c1", "y"), ("c3", "y")])
    with pytest.raises(VerdictError, match=r"r1.selections.txt row 3: clip c3 is of recording"):
        read_verdicts(tmp_path, sample())


def test_file_without_verdict_column(tmp_path):
    pd.DataFrame({"id": ["c1"]}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(VerdictError, match=r"x.csv: no column verdict"):
        read_verdicts(tmp_path, sample())
