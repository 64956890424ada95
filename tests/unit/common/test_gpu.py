"""Local GPU assignment: concurrent GPU jobs take different devices (simulated on CPU)."""

import os
import subprocess
import sys
import time

from sonoflow.common.gpu import claim_gpu

CLAIM = """
import os, sys, time
from pathlib import Path
from sonoflow.common.gpu import claim_gpu
print(claim_gpu(count=int(sys.argv[1]), wait_s=30, locks=Path(sys.argv[2])), flush=True)
time.sleep(float(sys.argv[3]))
"""


def _claim(count, locks, hold_s):
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    return subprocess.Popen(
        [sys.executable, "-c", CLAIM, str(count), str(locks), str(hold_s)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_concurrent_jobs_take_different_gpus_and_wait_for_a_free_one(tmp_path):
    first, second = _claim(2, tmp_path, 3), _claim(2, tmp_path, 3)
    taken = {first.stdout.readline().strip(), second.stdout.readline().strip()}
    assert taken == {"0", "1"}
    started = time.monotonic()
    third = _claim(2, tmp_path, 0)
    assert third.stdout.readline().strip() in {"0", "1"}  # only once one of the two has exited
    assert time.monotonic() - started > 1
    for job in (first, second, third):
        assert job.wait() == 0


def test_scheduler_choice_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert claim_gpu(count=4, locks=tmp_path) is None
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"


def test_no_gpu_no_claim(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert claim_gpu(count=0, locks=tmp_path) is None
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
