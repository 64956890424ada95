"""Detection over a season of unannotated recordings: listing, sharding, skipping broken
files, events and tables, thresholds."""

import json
import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from detection_helpers import BROKEN, CLASSES, SCORED, fold_models, make_season

from sonoflow.common.shards import shard_of, shard_recordings
from sonoflow.corpus.raven import read_raven_raw
from sonoflow.detection.collect import CollectSettings, collect_detections, recording_start
from sonoflow.detection.figures import plot_detections
from sonoflow.detection.listing import find_recordings
from sonoflow.detection.shard import ScoringSettings, detect_shard, spread_column, with_spread
from sonoflow.detection.thresholds import resolve_thresholds
from sonoflow.prediction.predict import predict_recordings

LABELS = [c for c in CLASSES if c != "noise"]
EVENTS = {"event_extent": "centre", "merge_gap_s": 0.0, "min_duration_s": 0.0, "hop_s": 0.1}


@pytest.fixture(scope="module")
def season(shared_data, tmp_path_factory):
    return make_season(tmp_path_factory.mktemp("season") / "2024", shared_data)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return fold_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def scored(season, models, tmp_path_factory):
    """Two shards of the season, scored; (output folder, results, recordings)."""
    out = tmp_path_factory.mktemp("detect")
    recordings = find_recordings(season)
    before = {p: p.stat().st_mtime_ns for p in season.rglob("*")}
    results = [
        detect_shard(
            season,
            shard_recordings(recordings, k, 2),
            models,
            out / "work",
            out / f"shard{k}.parquet",
            out / f"shard{k}.status.csv",
            ScoringSettings(hop_s=0.1, block_s=4.0, score_dtype="float32"),
        )
        for k in range(2)
    ]
    assert {p: p.stat().st_mtime_ns for p in season.rglob("*")} == before  # input untouched
    return out, results, recordings


def test_recordings_are_found_at_any_depth_without_hidden_files(season):
    found = find_recordings(season)
    assert found == sorted([*SCORED, *BROKEN, "siteC/empty_2c.wav", "siteC/stereo_header_only.wav"])
    assert not any(".trash" in r or "/._" in r for r in found)
    with pytest.raises(ValueError, match="config key detect.x.recordings: .*not a directory"):
        find_recordings(season / "nowhere", "detect.x.recordings")


def test_a_folder_without_audio_is_an_error_naming_the_key(tmp_path):
    (tmp_path / "site1").mkdir()
    (tmp_path / "site1/notes.txt").write_text("no audio here")
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash/old.wav").write_bytes(b"")  # hidden: not counted
    with pytest.raises(ValueError, match=r"config key detect.x.recordings: .* holds no audio"):
        find_recordings(tmp_path, "detect.x.recordings")


def test_same_name_with_two_suffixes_is_an_error(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "a.flac").write_bytes(b"")
    with pytest.raises(ValueError, match="a.flac and a.wav differ only in their suffix"):
        find_recordings(tmp_path)


def test_an_added_recording_changes_only_its_own_shard():
    recordings = [f"site{s}/rec{i:04d}.wav" for s in range(3) for i in range(200)]
    before = [set(shard_recordings(recordings, k, 8)) for k in range(8)]
    assert sum(map(len, before)) == 600 and min(map(len, before)) > 40
    added = "site1/rec9999.wav"
    after = [set(shard_recordings([*recordings, added], k, 8)) for k in range(8)]
    changed = [k for k in range(8) if before[k] != after[k]]
    assert changed == [shard_of(added, 8)]


def test_broken_recordings_are_skipped_with_their_reason(scored):
    out, results, recordings = scored
    status = pd.concat(pd.read_csv(out / f"shard{k}.status.csv") for k in range(2))
    status = status.set_index("path")
    assert set(status.index) == set(recordings)
    assert set(status.index[status["status"] == "scored"]) == set(SCORED)
    skipped = status[status["status"] == "skipped"]["reason"]
    for path, reason in BROKEN.items():
        assert reason in skipped[path]
    assert "no samples" in skipped["siteC/empty_2c.wav"]
    assert "shorter than one spectrogram frame" in skipped["siteC/stereo_header_only.wav"]
    assert sorted(r for res in results for r in res.scored) == sorted(SCORED)


def test_a_missing_channel_is_skipped_naming_the_detect_key(season, models, tmp_path):
    """Not `set corpus.channel`: the key that chose the channel (issue 24)."""
    mono = "siteB/toad.wav"
    detect_shard(
        season,
        [mono],
        models,
        tmp_path / "work",
        tmp_path / "shard0.parquet",
        tmp_path / "shard0.status.csv",
        ScoringSettings(hop_s=0.1, channel=1),
        channel_key="detect.season.channel",
    )
    (row,) = pd.read_csv(tmp_path / "shard0.status.csv").to_dict("records")
    assert row["status"] == "skipped" and row["channels"] == 1
    assert "channel 1 requested, but the file has 1 channel(s)" in row["reason"]
    assert "set detect.season.channel to `mix`" in row["reason"]
    assert "corpus.channel" not in row["reason"]


def test_a_benchmark_recording_without_the_channel_names_the_benchmark_key(season, models):
    from sonoflow.corpus.audio import AudioError

    with pytest.raises(AudioError, match=r"toad.wav: channel 3 .*\(set benchmarks\.demo\.channel"):
        predict_recordings(
            [season / "siteB/toad.wav"],
            models,
            hop_s=0.1,
            channel=3,
            channel_key="benchmarks.demo.channel",
        )


def test_scores_cover_each_recording_with_ensemble_probabilities(scored):
    out, _, _ = scored
    scores = pd.concat(pd.read_parquet(out / f"shard{k}.parquet") for k in range(2))
    windows = scores.groupby("recording").size()
    assert windows["siteA/20240501_053000"] == 95  # 10 s at hop 0.1 s with 0.5 s windows
    assert windows["siteC/stub"] == 1  # shorter than a window: one padded window
    spreads = [spread_column(c) for c in CLASSES]
    assert list(scores.columns) == ["recording", "start_s", "end_s", *CLASSES, *spreads]
    assert scores[CLASSES].sum(axis=1).round(4).eq(1).all()


def test_fold_spread_is_the_standard_deviation_of_the_fold_scores(scored, season, models):
    out, _, _ = scored
    scores = pd.concat(pd.read_parquet(out / f"shard{k}.parquet") for k in range(2))
    recording = "siteA/20240501_053000"
    stored = scores[scores["recording"] == recording].reset_index(drop=True)
    path = season / f"{recording}.wav"
    folds = [predict_recordings([path], [m], hop_s=0.1, block_s=4.0) for m in models]
    for label in CLASSES:
        each = np.stack([f[label].to_numpy() for f in folds])
        assert np.allclose(stored[label], each.mean(axis=0), atol=1e-5)
        assert np.allclose(stored[spread_column(label)], each.std(axis=0), atol=1e-5)
    assert stored[spread_column("drum")].max() > 1e-4  # the two folds do disagree


def test_onnx_detection_scores_the_season_as_eager_did(scored, season, models, tmp_path):
    """`compile: onnx`: one exported graph for the whole shard, scores and spreads within
    1e-3 of eager, the padded window of a recording shorter than a window included."""
    out, _, recordings = scored
    shard = shard_recordings(recordings, 0, 2)
    settings = ScoringSettings(hop_s=0.1, block_s=4.0, score_dtype="float32")
    parquet, status = tmp_path / "onnx.parquet", tmp_path / "onnx.csv"
    detect_shard(
        season, shard, models, tmp_path / "work", parquet, status, settings, compile="onnx"
    )
    got, expected = pd.read_parquet(parquet), pd.read_parquet(out / "shard0.parquet")
    assert list(got.columns) == list(expected.columns) and len(got) == len(expected) > 0
    columns = [*CLASSES, *(spread_column(c) for c in CLASSES)]
    np.testing.assert_allclose(got[columns], expected[columns], atol=1e-3)


def test_work_files_without_spread_are_reused_with_nan_spread():
    old = pa.table({"recording": ["a"], "start_s": [0.0], "end_s": [0.5], "drum": [0.2]})
    table = with_spread(old, ["drum"])
    assert table.column_names[-1] == spread_column("drum")
    assert np.isnan(table.column(spread_column("drum"))[0].as_py())


def collect(scored, season, out_dir, thresholds, formats=("raven", "csv")):
    out, _, _ = scored
    settings = CollectSettings(thresholds, EVENTS, list(formats))
    return collect_detections(
        [out / f"shard{k}.parquet" for k in range(2)],
        [out / f"shard{k}.status.csv" for k in range(2)],
        season,
        settings,
        out_dir,
    )


def test_tables_mirror_the_input_folders_and_open_as_raven_tables(scored, season, tmp_path):
    summary = collect(scored, season, tmp_path, {"drum": 0.3, "song": 0.3})
    assert summary["path"].tolist() == sorted(summary["path"])
    tables = sorted(
        p.relative_to(tmp_path / "tables").as_posix() for p in (tmp_path / "tables").rglob("*.*")
    )
    names = [p.rsplit(".", 1)[0] for p in SCORED]
    assert [t for t in tables if t.endswith(".selections.txt")] == sorted(
        f"{n}.selections.txt" for n in names
    )
    detections = pd.read_csv(tmp_path / "detections.csv")
    assert len(detections) > 0 and set(detections["label"]) <= set(LABELS)
    assert (detections["score"] >= 0.3).all()
    toad = detections[detections["recording"] == "siteB/toad"]
    raven = tmp_path / "tables/siteB/toad.selections.txt"
    table, _ = read_raven_raw(raven)
    assert len(table) == len(toad)
    assert table["Begin Path"].eq(str(season.resolve() / "siteB/toad.wav")).all()
    offsets = table["File Offset (s)"].astype(float).tolist()
    assert offsets == pytest.approx(table["Begin Time (s)"].astype(float).tolist())
    header = raven.read_text().splitlines()[0].split("\t")
    raven_columns = ["Selection", "View", "Channel", "Begin Time (s)", "End Time (s)"]
    assert header[:7] == [*raven_columns, "Low Freq (Hz)", "High Freq (Hz)"]
    assert {"Annotation", "Score", "Begin Path", "File Offset (s)"} <= set(header)
    skipped = pd.read_csv(tmp_path / "skipped.csv")
    assert set(skipped["path"]) == {*BROKEN, "siteC/empty_2c.wav", "siteC/stereo_header_only.wav"}
    assert skipped["reason"].str.len().gt(0).all()
    row = summary.set_index("path").loc["siteB/toad.wav"]
    assert row["events_song"] + row["events_drum"] == len(toad)
    assert row["duration_s"] == pytest.approx(44.57, abs=0.01)
    plot_detections(
        pd.read_csv(tmp_path / "detections.csv", keep_default_na=False),
        LABELS,
        tmp_path / "detections.png",
    )
    assert (tmp_path / "detections.png").stat().st_size > 1000


def test_a_higher_threshold_keeps_fewer_events(scored, season, tmp_path):
    low = collect(scored, season, tmp_path / "low", {"drum": 0.2, "song": 0.2}, ["csv"])
    high = collect(scored, season, tmp_path / "high", {"drum": 0.2, "song": 0.9}, ["csv"])
    assert high["events_song"].sum() < low["events_song"].sum()
    assert high["events_drum"].sum() == low["events_drum"].sum()
    assert not list((tmp_path / "low").rglob("*.selections.txt"))


def test_start_times_come_from_file_names():
    assert recording_start("siteA/20240501_053000.wav").isoformat() == "2024-05-01T05:30:00"
    assert recording_start("S4A01234_20240501T230000.flac").hour == 23
    assert recording_start("toad.wav") is None
    assert recording_start("20241399_999999.wav") is None  # not a date


def test_best_thresholds_come_from_the_benchmark_sweep(tmp_path, caplog):
    metrics = pd.DataFrame(
        {
            "threshold": [0.5, 0.5, 0.5, 0.7, 0.7, 0.7],
            "class": ["drum", "song", "all"] * 2,
            "best_f1_threshold": [0.7, None, 0.5] * 2,
        }
    )
    metrics.to_csv(tmp_path / "metrics.csv", index=False)
    with caplog.at_level(logging.WARNING):
        best = resolve_thresholds("best", LABELS, tmp_path / "metrics.csv", "detect.x.threshold")
    assert best == {"drum": 0.7, "song": 0.5}
    assert "no best-F1 threshold for 'song'" in caplog.text
    assert resolve_thresholds(0.4, LABELS, None, "k") == {"drum": 0.4, "song": 0.4}
    given = {"drum": 0.2, "song": 0.8}
    assert resolve_thresholds(given, LABELS, None, "k") == given
    with pytest.raises(ValueError, match=r"detect.x.threshold: .*missing \['song'\]"):
        resolve_thresholds({"drum": 0.2}, LABELS, None, "detect.x.threshold")


def test_status_records_say_why(scored):
    out, _, _ = scored
    records = [json.loads(p.read_text()) for p in (out / "work").rglob("*.json")]
    assert {r["status"] for r in records} == {"scored", "skipped"}


def _config(detect, benchmarks=None):
    import yaml

    from sonoflow.common.schema import SCHEMA

    config = yaml.safe_load((SCHEMA.parents[2] / "config.yaml").read_text())
    config["detect"] = detect
    if benchmarks:
        config["benchmarks"] = benchmarks
    return config


def test_detect_section_gets_defaults_and_names_bad_keys():
    from sonoflow.common.schema import SCHEMA, ConfigError
    from sonoflow.config import detect_benchmark, validate_config

    run = {"recordings": "/data/2024", "experiment": "default.mel64.resnet18"}
    config = validate_config(_config({"season": dict(run)}), SCHEMA)
    season = config["detect"]["season"]
    assert season["threshold"] == "best" and season["shards"] == 1
    assert season["formats"] == ["raven", "csv"] and season["score_dtype"] == "float16"
    assert detect_benchmark(config, "season") == "demo"
    assert validate_config(_config({}), SCHEMA)["detect"] == {}
    bad = [
        ({**run, "experiment": "default.mel64.vgg"}, "detect.s.experiment: 'default.mel64.vgg'"),
        ({**run, "threshold": 1.5}, "detect.s.threshold"),
        ({**run, "threshold": {"owl": 0.5}}, r"detect.s.threshold: \['owl'\] are not in"),
        ({**run, "benchmark": "nope"}, "detect.s.benchmark: 'nope' is not one of"),
        ({**run, "formats": ["pdf"]}, "detect.s.formats.0"),
    ]
    for entry, message in bad:
        with pytest.raises(ConfigError, match=message):
            validate_config(_config({"s": entry}), SCHEMA)
    two = {"a": {"recordings": "demo"}, "b": {"recordings": "demo"}}
    with pytest.raises(ConfigError, match="detect.s.benchmark: threshold `best` needs"):
        validate_config(_config({"s": run}, two), SCHEMA)
    config = validate_config(_config({"s": {**run, "threshold": 0.5}}, two), SCHEMA)
    assert detect_benchmark(config, "s") is None
