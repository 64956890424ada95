"""Dataset variants: selection, noise, splits, strategies, outputs, checks and exports."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from corpus_helpers import calls_corpus, write_raven, write_recording
from workflow_helpers import ROOT

from sonoflow.common.schema import ConfigError, section_with_defaults
from sonoflow.config import validate_config
from sonoflow.corpus.load import load_corpus
from sonoflow.datasets.build import DatasetCheckError, build_clips, check_clips, prepare_dataset
from sonoflow.datasets.exports import export_animal_spot, export_spectrogram_pngs


@pytest.fixture(scope="module")
def corpus_config(tmp_path_factory):
    return calls_corpus(tmp_path_factory.mktemp("corpus"), tapes=8, calls=8)


def _build(config, **variant):
    corpus_config = section_with_defaults("corpus", config)
    corpus = load_corpus(config["recordings"], config["annotations"], corpus_config)
    variant = section_with_defaults("dataset", variant)
    clips, counts = build_clips(corpus, variant["labels"] or corpus_config["labels"], variant)
    check_clips(clips, corpus, variant["margin_s"], variant["group_by"])
    return clips, counts, corpus


def _digest(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_config_gives_byte_identical_outputs(tmp_path, corpus_config):
    variant = {"noise_per_target": 1.5, "strategy": "quality_and_tape_balanced", "seed": 4}
    for name in ("a", "b"):
        prepare_dataset(
            corpus_config["recordings"],
            corpus_config["annotations"],
            corpus_config,
            variant,
            tmp_path / name,
        )
    first = _digest(tmp_path / "a")
    assert first == _digest(tmp_path / "b")
    assert {"clips.csv", "variant_index.json", "stats.json", "stats.png", "recordings.csv"} <= set(
        first
    )
    assert sum(name.startswith("selection_tables/") for name in first) == 8  # one per tape
    prepare_dataset(
        corpus_config["recordings"],
        corpus_config["annotations"],
        corpus_config,
        {**variant, "seed": 5},
        tmp_path / "c",
    )
    assert _digest(tmp_path / "c")["clips.csv"] != first["clips.csv"]


def test_clips_table_index_and_stats(tmp_path, corpus_config):
    clips = prepare_dataset(
        corpus_config["recordings"],
        corpus_config["annotations"],
        corpus_config,
        {"noise_per_target": 2, "split": {"train": 0.5, "val": 0.25, "test": 0.25}},
        tmp_path,
    )
    on_disk = pd.read_csv(tmp_path / "clips.csv")
    assert list(on_disk.columns) == [
        "uid",
        "recording",
        "tape",
        "start_s",
        "end_s",
        "label",
        "quality",
        "source",
        "split",
        "target",
    ]
    assert on_disk["uid"].is_unique and len(on_disk) == len(clips)
    index = json.loads((tmp_path / "variant_index.json").read_text())
    meta = index["meta"]
    assert meta["strategy"] == "random" and meta["seed"] == 1
    assert sum(meta["counts"]["split"].values()) == len(clips)
    assert sorted(sum(index["entries"].values(), [])) == sorted(clips["uid"])
    assert meta["noise_per_target"]["achieved"] == pytest.approx(
        meta["noise"] / meta["targets"], abs=1e-4
    )
    assert meta["noise_mining"]["wanted"] == 2 * meta["targets"]
    assert meta["noise"] + meta["noise_mining"]["shortfall"] == meta["noise_mining"]["wanted"]
    cells = pd.DataFrame(meta["counts"]["split_label_quality"])
    assert cells["clips"].sum() == len(clips)
    assert set(cells["quality"]) == {"1", "2", "3", "-"}  # noise has no grade
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats == meta
    # every target's noise is in its target's split
    targets = clips.set_index("uid")
    noise = clips[clips["source"] == "noise"]
    assert (noise["split"].to_numpy() == targets.loc[noise["target"], "split"].to_numpy()).all()


def test_tape_tables_import_back_as_multi_file_raven(tmp_path, corpus_config):
    clips = prepare_dataset(
        corpus_config["recordings"], corpus_config["annotations"], corpus_config, {}, tmp_path
    )
    back = load_corpus(
        corpus_config["recordings"],
        tmp_path / "selection_tables",
        section_with_defaults(
            "corpus", {**corpus_config, "quality_regex": None, "labels": ["hum", "chirp", "noise"]}
        ),
    )
    assert back.problems.frame().query("action == 'error'").empty
    mine = clips.sort_values(["recording", "start_s"])[["recording", "start_s", "label"]]
    read = back.annotations.sort_values(["recording", "start_s"])[["recording", "start_s", "label"]]
    assert np.allclose(mine["start_s"], read["start_s"], atol=1e-6)
    assert mine["label"].tolist() == read["label"].tolist()


def test_selection_labels_quality_and_cap_per_tape(corpus_config):
    clips, _, _ = _build(corpus_config, labels=["hum"], min_quality=2, max_targets_per_tape=2)
    targets = clips[clips["source"] == "target"]
    assert set(targets["label"]) == {"hum"}
    assert targets["quality"].max() <= 2
    assert targets.groupby("tape").size().max() == 2


@pytest.mark.parametrize(
    ("strategy", "cells"),
    [
        ("tape_balanced", ["label", "tape"]),
        ("quality_balanced", ["label", "quality"]),
        ("quality_and_tape_balanced", ["label", "tape", "quality"]),
    ],
)
def test_balanced_strategies_give_equal_cells(corpus_config, strategy, cells):
    clips, _, _ = _build(corpus_config, strategy=strategy, noise_per_target=0)
    for _, rows in clips.groupby("label"):
        assert rows.groupby(cells[1:]).size().nunique() == 1, strategy


def test_random_and_proportional_keep_every_target(corpus_config):
    for strategy in ("random", "proportional_by_tape"):
        clips, _, corpus = _build(corpus_config, strategy=strategy, noise_per_target=0)
        assert len(clips) == len(corpus.annotations)


def test_fractional_noise_and_fixed_duration(corpus_config):
    clips, counts, _ = _build(corpus_config, noise_per_target=0.5, noise_duration_s=0.25, seed=3)
    noise = clips[clips["source"] == "noise"]
    targets = clips[clips["source"] == "target"]
    assert 0.3 < len(noise) / len(targets) < 0.7
    assert np.allclose(noise["end_s"] - noise["start_s"], 0.25)
    assert counts["wanted"] == len(noise) + counts["shortfall"]


def test_fallback_and_shortfall_are_counted_never_silent(tmp_path):
    # a 3 s recording crowded with calls: neighbourhoods are full, the far end is free
    write_recording(tmp_path / "audio", "crowded.wav", 12)
    write_raven(
        tmp_path / "raven/crowded.txt", [(0.2, 0.7, "hum"), (0.8, 1.3, "hum"), (1.4, 1.9, "chirp")]
    )
    config = {
        "recordings": str(tmp_path / "audio"),
        "annotations": str(tmp_path / "raven"),
        "labels": ["hum", "chirp"],
    }
    _, counts, _ = _build(
        config,
        noise_per_target=2,
        neighbourhood_s=0.2,
        margin_s=0.05,
        split={"train": 1, "val": 0, "test": 0},
    )
    assert counts["fallback"] > 0
    _, counts, _ = _build(
        config,
        noise_per_target=2,
        neighbourhood_s=0.2,
        margin_s=0.05,
        fallback=False,
        split={"train": 1, "val": 0, "test": 0},
    )
    assert counts["fallback"] == 0 and counts["shortfall"] > 0


@pytest.mark.parametrize("group_by", ["tape", "recording", "none"])
def test_group_by(tmp_path, group_by):
    # two recordings per tape
    config = calls_corpus(tmp_path, tapes=8, calls=6)
    meta = tmp_path / "meta.csv"
    meta.write_text("recording,tape\n" + "".join(f"rec{i:02d},T{i // 2}\n" for i in range(8)))
    clips, _, _ = _build({**config, "metadata": str(meta)}, group_by=group_by, noise_per_target=1)
    spread = clips.groupby("tape")["split"].nunique()
    if group_by == "tape":
        assert (spread == 1).all()
    else:
        assert (clips.groupby("recording")["split"].nunique() == 1).all() or group_by == "none"
    if group_by == "none":
        assert (spread > 1).any()
    assert set(clips["split"]) == {"train", "val", "test"}


def test_checks_fail_with_a_table_of_offenders(corpus_config):
    clips, _, corpus = _build(corpus_config)
    bad = clips.copy()
    bad.loc[bad.index[0], "split"] = "test" if bad.loc[bad.index[0], "split"] != "test" else "val"
    with pytest.raises(DatasetCheckError, match="tape in several splits"):
        check_clips(bad, corpus, 0.1, "tape")
    noise = clips.index[clips["source"] == "noise"][0]
    target = clips[
        (clips["source"] == "target") & (clips["recording"] == clips.at[noise, "recording"])
    ].iloc[0]
    bad = clips.copy()
    bad.loc[noise, ["start_s", "end_s"]] = target["start_s"], target["end_s"]
    with pytest.raises(DatasetCheckError, match="noise within margin_s of an annotation"):
        check_clips(bad, corpus, 0.1, "tape")
    bad = pd.concat([clips, clips.iloc[[0]]])
    with pytest.raises(DatasetCheckError, match="duplicate clips"):
        check_clips(bad, corpus, 0.1, "tape")
    bad = clips.copy()
    bad.loc[bad.index[-1], "end_s"] = 1e4
    with pytest.raises(DatasetCheckError, match=r"clip outside its recording(.|\n)*10000"):
        check_clips(bad, corpus, 0.1, "tape")


def test_variant_labels_unknown_to_corpus_fail_config(tmp_path):
    config = {"datasets": {"x": {"labels": ["owl"]}}}
    with pytest.raises(ConfigError, match=r"datasets.x.labels: \['owl'\] are not in corpus.labels"):
        validate_config(config, ROOT / "workflow/schemas/config.schema.yaml")


def test_animal_spot_export_and_pngs(tmp_path, corpus_config):
    clips, _, corpus = _build(corpus_config, max_targets_per_tape=1)
    export_animal_spot(clips, corpus.recordings, tmp_path / "as", 8000, "mix")
    names = {
        s: (tmp_path / "as" / f"{s}.csv").read_text().split() for s in ("train", "val", "test")
    }
    assert sum(map(len, names.values())) == len(clips)
    first = names["train"][0]
    # LABEL-INFO_ID_YEAR_TAPE_STARTMS_ENDMS.wav, as ANIMAL-SPOT splits it
    label_info, number, year, tape, start_ms, end_ms = first[:-4].split("_")
    assert label_info.split("-")[0] in {"hum", "chirp", "noise"} and year == "2000"
    clip = clips.iloc[int(number)]
    assert tape == clip["tape"] and int(start_ms) == round(clip["start_s"] * 1000)
    audio, rate = sf.read(tmp_path / "as" / first)
    assert rate == 8000 and len(audio) == pytest.approx(
        (clip["end_s"] - clip["start_s"]) * 8000, abs=2
    )
    export_spectrogram_pngs(clips, corpus.recordings, tmp_path / "png", 8000, "mix")
    assert sorted(p.stem for p in (tmp_path / "png").glob("*.png")) == sorted(clips["uid"])


def _busy_and_quiet_tape(tmp_path):
    # tape T: `busy` is covered by its two targets; `quiet` has room between non-target calls
    write_recording(tmp_path / "audio", "busy.wav", 2)
    write_recording(tmp_path / "audio", "quiet.wav", 6)
    write_raven(tmp_path / "raven/busy.txt", [(0.0, 1.0, "hum"), (1.0, 2.0, "chirp")])
    birds = [(1.0, 2.0, "bird"), (3.0, 3.5, "bird"), (4.5, 5.5, "bird")]
    write_raven(tmp_path / "raven/quiet.txt", birds)
    meta = tmp_path / "meta.csv"
    meta.write_text("recording,tape\nbusy,T\nquiet,T\n")
    config = {
        "recordings": str(tmp_path / "audio"),
        "annotations": str(tmp_path / "raven"),
        "metadata": str(meta),
        "labels": ["hum", "chirp"],
    }
    variant = {
        "noise_per_target": 2,
        "noise_duration_s": 0.3,
        "margin_s": 0.1,
        "split": {"train": 1, "val": 0, "test": 0},
    }
    return config, variant, [(a, b) for a, b, _ in birds]


def test_fallback_searches_the_other_recordings_of_the_tape(tmp_path):
    config, variant, birds = _busy_and_quiet_tape(tmp_path)
    clips, counts, _ = _build(config, **variant)
    noise = clips[clips["source"] == "noise"]
    assert len(noise) == 4 and set(noise["recording"]) == {"quiet"}
    assert set(noise["tape"]) == {"T"}
    assert counts == {"wanted": 4, "fallback": 4, "fallback_other_recording": 4, "shortfall": 0}
    for start, end in zip(noise["start_s"], noise["end_s"]):
        assert not any(start < b + 0.1 - 1e-9 and end > a - 0.1 + 1e-9 for a, b in birds)
    spans = sorted(zip(noise["start_s"], noise["end_s"]))
    assert all(a[1] <= b[0] + 1e-9 for a, b in zip(spans, spans[1:]))
    targets = clips.set_index("uid")
    assert (targets.loc[noise["target"], "recording"] == "busy").all()
    assert (noise["split"].to_numpy() == targets.loc[noise["target"], "split"].to_numpy()).all()
    again, _, _ = _build(config, **variant)
    pd.testing.assert_frame_equal(clips, again)


def test_fallback_stays_on_the_target_recording_when_splits_group_recordings(tmp_path):
    config, variant, _ = _busy_and_quiet_tape(tmp_path)
    clips, counts, _ = _build(config, **variant, group_by="recording")
    assert (clips["source"] == "target").all()
    assert counts == {"wanted": 4, "fallback": 0, "fallback_other_recording": 0, "shortfall": 4}
