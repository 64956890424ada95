"""A review built from a finished detect run: sample.csv, Raven tables that read back as
verdicts, snippets at the recording's rate, spectrograms, the page, and versions kept."""

import pandas as pd
import soundfile as sf
from review_helpers import RATES, build, make_detect_run

from sonoflow.review.sample import COLUMNS
from sonoflow.review.verdicts import read_verdicts


def test_outputs_of_a_review(tmp_path):
    made = make_detect_run(tmp_path / "in")
    sample = build(made, tmp_path)
    out = tmp_path / "review/season"
    written = pd.read_csv(out / "sample.csv", dtype={"id": str}, keep_default_na=False)
    assert list(written.columns) == COLUMNS and len(written) == 12
    assert set(written["stratum"]) == {"siteA", "siteB", "."}
    tables = sorted(p.relative_to(out / "tables").as_posix() for p in (out / "tables").rglob("*"))
    expected = {f"{r.rsplit('.', 1)[0]}.selections.txt" for r in sample["path"]}
    assert set(t for t in tables if t.endswith(".txt")) == expected
    for row in sample.to_dict("records"):
        info = sf.info(out / "clips" / f"{row['id']}.wav")
        assert info.samplerate == RATES[row["path"]]
        padded = min(row["end_s"] + 0.5, 20) - max(row["start_s"] - 0.5, 0)
        assert abs(info.duration - padded) < 0.01
        assert (out / "clips" / f"{row['id']}.png").stat().st_size > 2000
    page = (out / "index.html").read_text()
    assert all(i in page for i in sample["id"]) and "localStorage" in page
    # a person fills a Raven table's Verdict column; it reads back on the sample
    table = next((out / "tables").rglob("*.selections.txt"))
    raven = pd.read_csv(table, sep="\t", dtype=str, keep_default_na=False)
    assert list(raven.columns[:7]) == [
        "Selection",
        "View",
        "Channel",
        "Begin Time (s)",
        "End Time (s)",
        "Low Freq (Hz)",
        "High Freq (Hz)",
    ]
    assert {"Class", "Score", "Clip", "Verdict", "Corrected Class"} <= set(raven.columns)
    raven["Verdict"] = "y"
    verdicts = tmp_path / "verdicts"
    target = verdicts / table.relative_to(out / "tables")
    target.parent.mkdir(parents=True)
    raven.to_csv(target, sep="\t", index=False)
    got = read_verdicts(verdicts, written, classes=["hum", "chirp"]).table
    assert set(got.loc[got["verdict"] == "yes", "id"]) == set(raven["Clip"])


def test_a_changed_sample_keeps_the_previous_version(tmp_path, caplog):
    made = make_detect_run(tmp_path / "in")
    first = build(made, tmp_path)
    history = tmp_path / "review_history/season"
    build(made, tmp_path)  # the same sample: no version
    assert not history.exists()
    second = build(made, tmp_path, seed=5)
    kept = pd.read_csv(history / "v1.csv", dtype={"id": str})
    assert list(kept["id"]) == list(first["id"]) and set(second["id"]) != set(first["id"])
    assert "previous one is kept as" in caplog.text and "v1.csv" in caplog.text
    build(made, tmp_path, size=8)
    assert (history / "v2.csv").exists()


def test_uncertain_review_with_misses(tmp_path):
    made = make_detect_run(tmp_path / "in")
    sample = build(made, tmp_path, strategy="uncertain", size=4, include_misses=2)
    missed = sample[sample["score_bin"] == -1]
    assert missed.groupby("class").size().to_dict() == {"chirp": 2, "hum": 2}
    assert (missed["score"] < missed["class"].map({"hum": 0.5, "chirp": 0.6})).all()
    assert sample["fold_spread"].notna().all()
