"""bench/gpu.sh on CPU with its small sizes, once, so that the one-call GPU benchmark cannot rot
between the sessions that have a GPU."""

import os
import re
import subprocess
import sys

from workflow_helpers import ROOT


def test_gpu_bench_runs_every_step_on_cpu_and_prints_one_table():
    done = subprocess.run(
        ["bash", str(ROOT / "bench/gpu.sh"), "--cpu", "--budget-s", "1800"],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=2400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    header, steps = rows[0], rows[1:]
    labels = [cell.strip() for cell in header.strip("|").split("|")]
    assert {"end to end windows/s", "real path samples/s", "jobs", "best F1"} <= set(labels)
    by_step = {}
    for row in steps:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        by_step[cells[0]] = dict(zip(labels, cells, strict=True))
    # eager and onnx side by side, eager with 3 folds, two training inputs, the workflow
    assert len(by_step) == 6, done.stdout
    for name, cells in by_step.items():
        assert cells["status"] == "ok", (name, done.stderr[-3000:])
    for name in ("predict b16 [none]", "predict b16 [onnx]", "predict b16 3 folds [none]"):
        assert float(by_step[name]["end to end windows/s"]) > 0
        assert float(by_step[name]["model alone x eager"]) > 0
    assert float(by_step["predict b16 [none]"]["end to end x eager"]) == 1.0
    assert float(by_step["predict b16 [onnx]"]["max score difference"]) < 1e-3
    for name in ("train resnet10t device", "train resnet10t pinned"):
        assert float(by_step[name]["real path samples/s"]) > 0
    tiny = by_step["tiny workflow"]
    assert int(tiny["jobs"]) > 10
    assert 0 <= float(tiny["best F1"]) <= 1
    assert re.search(r"on CPU only, torch \S+, \d+ CPUs", done.stdout)
