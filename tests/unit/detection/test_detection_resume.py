"""A detection shard killed mid-way resumes without redoing finished recordings and ends
with the outputs of an uninterrupted run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from detection_helpers import SCORED, fold_models, make_season

from sonoflow.detection.listing import find_recordings

RUNNER = Path(__file__).parents[2] / "helpers/detect_runner.py"
SRC = Path(__file__).parents[3] / "src"


def run_shard(root, models, out, kill_after=None):
    args = [sys.executable, str(RUNNER), str(root), str(models), str(out)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [*args, *([str(kill_after)] if kill_after else [])], capture_output=True, text=True, env=env
    )


def test_killed_shard_resumes_and_matches_an_uninterrupted_run(shared_data, tmp_path):
    root = make_season(tmp_path / "season", shared_data)
    models = tmp_path / "models"
    fold_models(models)
    recordings = find_recordings(root)

    whole = run_shard(root, models, tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    assert sorted(json.loads(whole.stdout)["scored"]) == sorted(SCORED)

    killed = run_shard(root, models, tmp_path / "killed", kill_after=4)
    assert killed.returncode == -9, killed.stderr  # SIGKILL: no cleanup ran
    assert not (tmp_path / "killed/shard0.parquet").exists()
    markers = sorted(
        p.relative_to(next((tmp_path / "killed/work").iterdir())).as_posix()[: -len(".json")]
        for p in (tmp_path / "killed/work").rglob("*.json")
    )
    assert markers == recordings[:4]  # finished recordings, in order

    rerun = run_shard(root, models, tmp_path / "killed")
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    assert sorted(result["scored"]) == sorted(set(SCORED) - set(recordings[:4]))
    assert sorted(result["reused"]) == sorted(set(SCORED) & set(recordings[:4]))

    for name in ("shard0.parquet", "shard0.status.csv"):
        read = pd.read_parquet if name.endswith("parquet") else pd.read_csv
        pd.testing.assert_frame_equal(
            read(tmp_path / "killed" / name), read(tmp_path / "whole" / name)
        )


TWO = ["siteA/20240501_053000.wav", "siteB/20240501_230000.wav"]


def shard_of_two(root, models, out, hop_s=0.1):
    """Run a shard over the two recordings TWO, writing under `out`."""
    from sonoflow.detection.shard import ScoringSettings, detect_shard

    return detect_shard(
        root, TWO, models, out / "work", out / "s.parquet", out / "s.csv", ScoringSettings(hop_s)
    )


def test_other_settings_score_again_and_drop_stale_results(shared_data, tmp_path):
    root = make_season(tmp_path / "season", shared_data)
    models = fold_models(tmp_path / "models")
    recordings = TWO

    def run(hop_s):
        return shard_of_two(root, models, tmp_path, hop_s)

    assert run(0.1).scored == recordings
    assert run(0.1).reused == recordings
    assert run(0.2).scored == recordings  # new fingerprint: nothing reused
    assert len(list((tmp_path / "work").iterdir())) == 1
    assert (
        len(pd.read_parquet(tmp_path / "s.parquet").query("recording == 'siteB/20240501_230000'"))
        == 13
    )


def test_a_replaced_recording_is_rescored_and_an_unchanged_one_never(shared_data, tmp_path):
    """Resume records are keyed on the file's size and modification time too: a recording
    replaced by a longer one at the same path is scored again, the others are reused."""
    import soundfile as sf

    root = make_season(tmp_path / "season", shared_data)
    models = fold_models(tmp_path / "models")
    recordings = TWO

    def run():
        result = shard_of_two(root, models, tmp_path)
        return result, pd.read_csv(tmp_path / "s.csv").set_index("path")

    first, before = run()
    assert first.scored == recordings
    replaced = root / recordings[1]
    wave, rate = sf.read(replaced)
    sf.write(replaced, np.concatenate([wave, wave, wave]), rate)  # same path, 3x as long

    second, after = run()
    assert second.scored == [recordings[1]]
    assert second.reused == [recordings[0]]
    assert after.loc[recordings[1], "duration_s"] == pytest.approx(
        3 * before.loc[recordings[1], "duration_s"], rel=1e-3
    )
    assert after.loc[recordings[1], "windows"] > 2 * before.loc[recordings[1], "windows"]
    scores = pd.read_parquet(tmp_path / "s.parquet")
    replaced_rows = scores[scores["recording"] == recordings[1][: -len(".wav")]]
    assert len(replaced_rows) == after.loc[recordings[1], "windows"]

    third, _ = run()
    assert third.scored == []
    assert third.reused == recordings


MEMORY_PROBE = """
import resource, sys
from pathlib import Path
from sonoflow.detection.listing import find_recordings
from sonoflow.detection.shard import ScoringSettings, detect_shard
root, out = Path(sys.argv[1]), Path(sys.argv[2])
detect_shard(root, find_recordings(root), sorted(out.parent.glob("models/fold*/model.pt")),
             out / "work", out / "s.parquet", out / "s.csv", ScoringSettings(hop_s=0.05))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_peak_memory_does_not_grow_with_the_number_of_recordings(tmp_path):
    """1 and 12 two-minute recordings (22.05 kHz, resampled): the scores and audio of all 12
    would add tens of MB if held at once; per-recording writing keeps the peak flat."""
    import numpy as np
    import soundfile as sf

    fold_models(tmp_path / "models")
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(22050 * 120)).astype(np.float32)
    peaks = {}
    for count in (1, 12):
        root = tmp_path / f"season{count}"
        for i in range(count):
            (root / f"site{i % 3}").mkdir(parents=True, exist_ok=True)
            sf.write(root / f"site{i % 3}/rec{i:02d}.wav", wave, 22050, subtype="FLOAT")
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, str(root), str(tmp_path / f"out{count}")],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(SRC)},
        )
        assert out.returncode == 0, out.stderr
        peaks[count] = int(out.stdout.split()[-1]) / 1024  # MB
    assert len(pd.read_parquet(tmp_path / "out12/s.parquet")) == 12 * len(
        pd.read_parquet(tmp_path / "out1/s.parquet")
    )
    assert peaks[12] - peaks[1] < 25, peaks
