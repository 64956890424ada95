"""A fold killed by SIGTERM resumes from its checkpoint and ends where an uninterrupted run ends."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from signal_helpers import start_parent
from training_helpers import FEATURES, build_training_corpus

RUNNER = Path(__file__).parents[2] / "helpers/train_runner.py"
MODEL = {
    "backbone": "resnet10t",
    "epochs": 5,
    "patience": 5,
    "batch_size": 8,
    "lr": 0.002,
    "weight_decay": 0.0001,
    "dropout": 0.2,
    "seed": 0,
    # every source of randomness a resumed run must continue: sampler, mixup, per-window draws
    "imbalance": {"oversample": True},
    "augment": {
        "mixup": {"enabled": True},
        "spec_augment": {"enabled": True},
        "gain": {"enabled": True},
        "noise": {"enabled": True},
    },
}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    work = build_training_corpus(tmp_path_factory.mktemp("resume"))
    (work / "settings.json").write_text(json.dumps({"features": FEATURES, "model": MODEL}))
    return work


def _train(work, out_dir, checkpoint=None):
    args = [sys.executable, str(RUNNER), str(work), str(out_dir)] + (
        [str(checkpoint)] if checkpoint else []
    )
    return subprocess.Popen(args, stderr=subprocess.PIPE, text=True)


def test_sigterm_then_rerun_equals_uninterrupted_run(work):
    straight = _train(work, work / "straight")
    assert straight.wait() == 0, straight.stderr.read()

    checkpoint = work / "checkpoints/fold0.pt"
    interrupted = _train(work, work / "resumed", checkpoint)
    deadline = time.monotonic() + 300
    while not checkpoint.exists():  # the first epoch has finished
        assert interrupted.poll() is None and time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.05)
    interrupted.send_signal(signal.SIGTERM)
    assert interrupted.wait() != 0
    assert "stopped by SIGTERM" in interrupted.stderr.read()
    stopped_after = torch.load(checkpoint, weights_only=True)["epoch"]
    assert 1 <= stopped_after < MODEL["epochs"]
    assert not (work / "resumed/model.pt").exists()

    rerun = _train(work, work / "resumed", checkpoint)
    assert rerun.wait() == 0, rerun.stderr.read()
    results = json.loads((work / "resumed/results.json").read_text())
    assert results["resumed_after_epoch"] == stopped_after
    history = pd.read_csv(work / "resumed/history.csv")
    assert history["epoch"].tolist() == list(range(1, MODEL["epochs"] + 1))  # none repeated or lost
    straight_history = pd.read_csv(work / "straight/history.csv")
    pd.testing.assert_series_equal(history["val_macro_f1"], straight_history["val_macro_f1"])
    a = torch.load(work / "straight/model.pt", weights_only=True)["state_dict"]
    b = torch.load(work / "resumed/model.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert not checkpoint.exists()  # removed once the outputs are written


def test_checkpoint_of_other_settings_is_not_resumed(work):
    checkpoint = work / "other/fold0.pt"
    checkpoint.parent.mkdir()
    torch.save({"fingerprint": "something else", "epoch": 3}, checkpoint)
    run = _train(work, work / "fresh", checkpoint)
    assert run.wait() == 0, run.stderr.read()
    results = json.loads((work / "fresh/results.json").read_text())
    assert results["resumed_after_epoch"] is None and results["epochs_run"] == MODEL["epochs"]


def test_checkpoint_over_a_rebuilt_cache_is_not_resumed(work):
    """A recording replaced at the same path reruns the cache job, which rewrites the cache's
    index; a checkpoint made over the old cache must not be resumed (issue 24), even though
    the clips table (frame offsets) is unchanged."""
    import os

    checkpoint = work / "rebuilt/fold0.pt"
    interrupted = _train(work, work / "stale", checkpoint)
    deadline = time.monotonic() + 300
    while not checkpoint.exists():
        assert interrupted.poll() is None and time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.05)
    interrupted.send_signal(signal.SIGTERM)
    assert interrupted.wait() != 0
    index = work / "cache/index.csv"
    stat = index.stat()
    os.utime(index, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # as a rebuilt cache
    rerun = _train(work, work / "stale", checkpoint)
    assert rerun.wait() == 0, rerun.stderr.read()
    results = json.loads((work / "stale/results.json").read_text())
    assert results["resumed_after_epoch"] is None and results["epochs_run"] == MODEL["epochs"]


def test_sigint_to_the_workflow_process_alone_stops_the_fold_and_keeps_its_checkpoint(
    work, tmp_path
):
    """SIGINT to a stand-in for Snakemake's process (not to its process group) stops the
    fold it runs after the current batch, the checkpoint stays, and a rerun resumes
    (issue 24; before: the fold trained on to its end, and the rerun started at epoch 1)."""
    checkpoint = tmp_path / "fold0.pt"
    out_dir = tmp_path / "model"
    command = f"{sys.executable} {RUNNER} {work} {out_dir} {checkpoint} 2> {tmp_path / 'err'}"
    parent = start_parent(tmp_path, "local", command)
    deadline = time.monotonic() + 300
    while not checkpoint.exists():  # the first epoch has finished
        assert parent.poll() is None and time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.05)
    parent.send_signal(signal.SIGINT)
    stdout, _ = parent.communicate(timeout=120)
    assert "KeyboardInterrupt" in stdout and "job exit status 1" in stdout
    assert "stopped by SIGTERM" in (tmp_path / "err").read_text()
    stopped_after = torch.load(checkpoint, weights_only=True)["epoch"]
    assert 1 <= stopped_after < MODEL["epochs"]
    assert not (out_dir / "model.pt").exists()
    rerun = _train(work, out_dir, checkpoint)
    assert rerun.wait() == 0, rerun.stderr.read()
    assert json.loads((out_dir / "results.json").read_text())["resumed_after_epoch"] == (
        stopped_after
    )
