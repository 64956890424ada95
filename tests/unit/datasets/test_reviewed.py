"""Reviewed detections as training clips: labels from verdicts, own tapes, benchmark
recordings refused."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from sonoflow.datasets.reviewed import (
    ReviewedClipError,
    merge_reviews,
    refuse_benchmark_recordings,
    reviewed_clips,
    reviewed_splits,
)
from sonoflow.datasets.splits import SPLITS


def verdicts(**overrides):
    table = pd.DataFrame(
        {
            "recording": ["siteA/r1", "siteA/r1", "siteA/r1", "siteB/r2", "siteB/r2", "siteB/r3"],
            "path": ["siteA/r1.wav"] * 3 + ["siteB/r2.wav"] * 2 + ["siteB/r3.wav"],
            "class": ["hum", "hum", "chirp", "chirp", "hum", "hum"],
            "start_s": [1.0, 5.0, 9.0, 2.0, 4.0, 7.0],
            "end_s": [2.0, 6.0, 10.0, 3.0, 5.0, 8.0],
            "verdict": ["yes", "no", "no", "unsure", "", "no"],
            "corrected_class": ["", "", "hum", "", "", "noise"],
        }
    )
    return table.assign(**overrides)


def test_confirmed_are_targets_rejected_are_noise_and_corrections_relabel():
    clips = reviewed_clips(verdicts(), "spring")
    assert clips["label"].tolist() == ["hum", "noise", "hum", "noise"]
    assert clips["source"].tolist() == ["reviewed", "rejected", "reviewed", "rejected"]
    assert clips["recording"].tolist()[0] == "reviewed/spring/siteA/r1"
    assert (clips["tape"] == clips["recording"]).all()  # each recording its own tape


def test_a_clip_in_two_reviews_is_kept_once_unless_they_disagree():
    first = reviewed_clips(verdicts(), "spring")
    again = reviewed_clips(verdicts(), "summer")
    assert len(merge_reviews([first, again], "datasets.d")) == len(first) + len(again) - 4
    flipped = reviewed_clips(verdicts(verdict=["no", "no", "no", "no", "no", "no"]), "summer")
    with pytest.raises(ReviewedClipError, match="reviews disagree.*\n.*"):
        merge_reviews([first, flipped], "datasets.d")


def test_a_rejection_over_another_class_confirmed_there_is_no_noise_clip():
    """A window detected as hum and as chirp, chirp confirmed and hum rejected: a chirp
    clip; the rejection says "not hum", not "no call"."""
    table = verdicts().iloc[:1].assign(**{"class": "chirp"})
    rejected = verdicts().iloc[:1].assign(verdict="no", start_s=1.2)  # overlaps it
    elsewhere = verdicts().iloc[1:2]  # hum rejected at 5-6 s, nothing confirmed there
    clips = merge_reviews([reviewed_clips(pd.concat([table, rejected, elsewhere]), "s")], "d")
    assert clips[["start_s", "label"]].values.tolist() == [[1.0, "chirp"], [5.0, "noise"]]


def test_a_recording_in_two_reviews_is_one_tape_when_it_is_the_same_file(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    spring = reviewed_clips(verdicts(), "spring")
    summer = reviewed_clips(verdicts(start_s=[1.5, 5.5, 9.5, 2.5, 4.5, 7.5]), "summer")
    same = merge_reviews([spring, summer], "d", {"spring": first, "summer": first})
    assert set(same["tape"]) == set(spring["tape"]) and len(same) == 2 * len(spring)
    apart = merge_reviews([spring, summer], "d", {"spring": first, "summer": second})
    assert set(apart["tape"]) == set(spring["tape"]) | set(summer["tape"])


def test_reviewed_recordings_never_span_splits():
    rng = np.random.default_rng(0)
    n = 200
    clips = pd.DataFrame(
        {
            "tape": [f"reviewed/r/site/rec{i}" for i in rng.integers(0, 30, size=n)],
            "label": rng.choice(["hum", "chirp", "noise"], size=n),
        }
    )
    splits = reviewed_splits(clips, {"train": 0.7, "val": 0.15, "test": 0.15}, seed=1)
    assert (clips.assign(split=splits).groupby("tape")["split"].nunique() == 1).all()
    assert set(splits) == {"train", "val", "test"}


def test_a_benchmark_recording_is_refused_naming_both(tmp_path):
    season = tmp_path / "season"
    (season / "siteA").mkdir(parents=True)
    bench = tmp_path / "bench"
    bench.mkdir()
    for name, size in [("r1.wav", 100), ("r3.wav", 120)]:
        (bench / name).write_bytes(bytes(range(size % 256)) * 3)
    shutil.copy2(bench / "r1.wav", season / "siteA/r1.wav")  # a copy of a benchmark tape
    (season / "siteB").mkdir()
    (season / "siteB/r3.wav").write_bytes(bytes(reversed(range(120))) * 3)  # same size only
    clips = reviewed_clips(verdicts(), "spring")
    roots = {"spring": season}
    with pytest.raises(ReviewedClipError, match=r"siteA/r1\.wav is benchmark 'demo'.*r1\.wav"):
        refuse_benchmark_recordings(clips, roots, {"demo": sorted(bench.iterdir())}, "datasets.d")
    fine = clips[clips["file"] != "siteA/r1.wav"]
    refuse_benchmark_recordings(fine, roots, {"demo": sorted(bench.iterdir())}, "datasets.d")


def _season(root):
    """Recordings of faint noise (each its own bytes) in nested folders, as a detect run's
    recordings folder."""
    import soundfile as sf

    for seed, relative in enumerate(("siteA/r1", "siteB/r2", "siteB/r3", "siteC/r4")):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        noise = np.random.default_rng(seed).normal(0, 0.01, 12 * 8000).astype(np.float32)
        sf.write(root / f"{relative}.wav", noise, 8000)
    return root


def _season_verdicts():
    """Two confirmed, two rejected detections per recording, one relabelled."""
    rows = []
    for recording in ("siteA/r1", "siteB/r2", "siteB/r3", "siteC/r4"):
        for k, (label, verdict, corrected) in enumerate(
            [("hum", "yes", ""), ("chirp", "yes", ""), ("hum", "no", ""), ("chirp", "no", "hum")]
        ):
            rows.append(
                (recording, f"{recording}.wav", label, 1.0 + 2 * k, 1.5 + 2 * k, verdict, corrected)
            )
    rows.append(("siteC/r4", "siteC/r4.wav", "hum", 11.8, 12.3, "yes", ""))  # past its end
    columns = ["recording", "path", "class", "start_s", "end_s", "verdict", "corrected_class"]
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    """A variant of a small corpus with the clips of one review of a season."""
    from corpus_helpers import calls_corpus

    from sonoflow.datasets.build import prepare_dataset
    from sonoflow.datasets.reviewed import ReviewedInput

    root = tmp_path_factory.mktemp("retrained")
    corpus = calls_corpus(root / "corpus", tapes=6, calls=6)
    season = _season(root / "season")
    bench = root / "bench"
    bench.mkdir()
    shutil.copy2(corpus["recordings"] + "/rec00.wav", bench / "b0.wav")  # not reviewed
    reviewed = ReviewedInput(
        clips=merge_reviews([reviewed_clips(_season_verdicts(), "spring")], "datasets.d"),
        roots={"spring": season},
        benchmarks={"demo": [bench / "b0.wav"]},
    )
    out = root / "out"
    variant = {"split": {"train": 0.5, "val": 0.25, "test": 0.25}}
    clips = prepare_dataset(
        corpus["recordings"], corpus["annotations"], corpus, variant, out, "datasets.d", reviewed
    )
    return clips, out, corpus, reviewed, season


def test_reviewed_clips_join_the_variant_on_their_own_tapes(retrained):
    from sonoflow.common.tables import read_table

    clips, out, *_ = retrained
    mine = clips[clips["tape"].str.startswith("reviewed/")]
    assert len(mine) == 17 and set(mine["tape"]) == {
        f"reviewed/spring/{r}" for r in ("siteA/r1", "siteB/r2", "siteB/r3", "siteC/r4")
    }
    confirmed = mine[mine["source"] == "reviewed"]
    rejected = mine[mine["source"] == "rejected"]
    assert sorted(confirmed["label"]) == ["chirp"] * 4 + ["hum"] * 9  # 4 relabelled to hum
    assert confirmed["end_s"].max() == pytest.approx(12.0)  # cut at the recording's end
    assert len(rejected) == 4 and (rejected["label"] == "noise").all()
    assert rejected["target"].isna().all() and (confirmed["target"] == confirmed["uid"]).all()
    assert (mine.groupby("tape")["split"].nunique() == 1).all()  # a recording in one split
    assert clips["uid"].is_unique
    written = read_table(out / "clips.csv")
    assert written["tape"].tolist() == clips["tape"].tolist()
    recordings = read_table(out / "recordings.csv").set_index("recording")
    assert recordings.loc["reviewed/spring/siteB/r2", "duration_s"] == pytest.approx(12.0)
    assert recordings.loc["reviewed/spring/siteB/r2", "file"].endswith("siteB/r2.wav")
    stats = json.loads((out / "stats.json").read_text())
    assert stats["reviewed"] == {"targets": 13, "rejected": 4, "recordings": 4}
    assert (out / "selection_tables/reviewed_spring_siteA_r1.selections.txt").is_file()


def test_exports_take_reviewed_clips_whose_tapes_hold_slashes(retrained, tmp_path):
    from sonoflow.datasets.exports import export_animal_spot, export_spectrogram_pngs

    clips, out, *_ = retrained
    from sonoflow.common.tables import read_table

    mine = clips[clips["tape"].str.startswith("reviewed/")].head(3)
    recordings = read_table(out / "recordings.csv")
    export_animal_spot(mine, recordings, tmp_path / "as", 8000, "mix")
    names = sum(((tmp_path / "as" / f"{s}.csv").read_text().split() for s in SPLITS), [])
    assert len(names) == 3 and all("reviewedspring" in n for n in names)
    assert all((tmp_path / "as" / n).is_file() for n in names)
    export_spectrogram_pngs(mine, recordings, tmp_path / "png", 8000, "mix")
    assert sorted(
        p.relative_to(tmp_path / "png").as_posix() for p in (tmp_path / "png").rglob("*.png")
    ) == sorted(f"{uid}.png" for uid in mine["uid"])


def test_a_reviewed_class_outside_the_variant_or_a_benchmark_copy_is_refused(retrained, tmp_path):
    from sonoflow.datasets.build import prepare_dataset
    from sonoflow.datasets.reviewed import ReviewedInput

    _, _, corpus, reviewed, season = retrained
    only_hum = {"labels": ["hum"]}
    with pytest.raises(ValueError, match=r"datasets\.d\.reviewed: .*\['chirp'\].*\['hum'\]"):
        prepare_dataset(
            corpus["recordings"],
            corpus["annotations"],
            corpus,
            only_hum,
            tmp_path / "a",
            "datasets.d",
            reviewed,
        )
    benchmarks = {"demo": [season / "siteC/r4.wav"]}
    leaking = ReviewedInput(reviewed.clips, reviewed.roots, benchmarks)
    with pytest.raises(ReviewedClipError, match=r"siteC/r4\.wav is benchmark 'demo'"):
        prepare_dataset(
            corpus["recordings"],
            corpus["annotations"],
            corpus,
            {},
            tmp_path / "b",
            "datasets.d",
            leaking,
        )
    assert not (tmp_path / "b").exists()
