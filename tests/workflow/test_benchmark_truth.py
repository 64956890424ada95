"""Benchmark ground truth at the evaluation stage of a finished run: nothing scored silently."""

import copy
import shutil

import pandas as pd
from workflow_helpers import TINY_CONFIG, snakemake, write_config


def test_benchmark_recording_without_table_stops_evaluation_unless_call_free(
    tiny_local_run, tmp_path
):
    project = tmp_path / "run"
    shutil.copytree(tiny_local_run, project, symlinks=True)  # the shared run stays as it is
    tables = project / "results/demo_corpus/benchmark/annotations"
    for table in tables.iterdir():
        table.unlink()
    failed = snakemake(project, "--forcerun", "evaluate", check=False)
    assert failed.returncode != 0
    logs = "".join(p.read_text() for p in (project / "logs/evaluate").glob("*.log"))
    assert "bench01.wav" in logs and "unannotated recording" in logs
    assert "[benchmarks.demo.unannotated: error]" in logs

    config = copy.deepcopy(TINY_CONFIG)
    config["benchmarks"]["demo"]["unannotated"] = "call_free"
    write_config(project, config)
    snakemake(project)  # the changed policy reruns evaluation only
    per_tape = pd.read_csv(project / "results/metrics_per_tape.csv")
    assert set(per_tape["recording"]) == {"bench01"}
    assert (per_tape["n_reference"] == 0).all() and (per_tape["tp"] == 0).all()
