"""The tiny demo workflow through profiles/slurm on a real single-node Slurm cluster.

tests/slurm/start_cluster.sh starts the cluster (CI runs it before the tests; this test
runs it too, which is quick when the cluster is up). It needs root to install and start
Slurm; elsewhere, where no cluster answers, the test is skipped with the reason.
"""

import copy
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflow_helpers import ROOT, SNAKEMAKE, TINY_CONFIG, copy_project

GPU_RULES = {"train_fold", "predict", "check_gpu"}


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() == 0:
        subprocess.run(
            ["bash", str(ROOT / "tests/slurm/start_cluster.sh")],
            check=True,
            capture_output=True,
            text=True,
        )
    if shutil.which("sbatch") is None or subprocess.run(["sinfo"], capture_output=True).returncode:
        pytest.skip("no Slurm cluster: run tests/slurm/start_cluster.sh as root (CI does)")


def test_profile_finishes_on_slurm_with_gpu_requests_and_local_metrics(
    cluster, tmp_path, tiny_local_run
):
    config = copy.deepcopy(TINY_CONFIG)
    config["models"] = {"tiny": config["models"]["tiny"]}  # one experiment is enough here
    project = copy_project(tmp_path, config)
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    # test-only site values: this cluster's partitions, a 2-core node, no accounting
    profile["default-resources"]["slurm_partition"] = "cpu"
    for rule in ("train_fold", "tune_worker", "predict"):
        profile["set-resources"][rule].update(slurm_partition="gpu", mem_mb=4000)
        profile["set-threads"][rule] = 2  # as in the local run, so that results are equal
    profile["set-resources"]["check_gpu"]["slurm_partition"] = "gpu"
    profile.update(
        {
            "slurm-status-command": "squeue",
            "slurm-init-seconds-before-status-checks": 2,
            "latency-wait": 5,
            "seconds-between-status-checks": 2,
            "slurm-keep-successful-logs": True,  # the job ids are read from them
        }
    )
    (project / "profiles/slurm-test").mkdir()
    (project / "profiles/slurm-test/config.yaml").write_text(yaml.safe_dump(profile))

    run = subprocess.run(
        [SNAKEMAKE, "--profile", "profiles/slurm-test"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]

    job_ids = _slurm_job_ids(project)
    assert {"make_demo_corpus", "train_fold", "predict", "evaluate", "summarize"} <= set(job_ids)
    for rule, ids in job_ids.items():
        for job_id in ids:
            job = subprocess.run(
                ["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True
            ).stdout
            asks_gpu = re.search(r"TresPer(Job|Node)=\S*gres[:/]gpu[:=]1", job) is not None
            assert asks_gpu == (rule in GPU_RULES), f"{rule} job {job_id}:\n{job}"
            partition = re.search(r"Partition=(\S+)", job).group(1)
            assert partition == ("gpu" if rule in GPU_RULES else "cpu"), f"{rule}: {partition}"
            assert "JobState=COMPLETED" in job
            if rule in {"train_fold", "predict"}:
                assert re.search(r"NumCPUs=2\b", job), f"{rule}: set-threads not passed on"

    # Slurm chose the GPU, and the job saw its choice
    assert "CUDA_VISIBLE_DEVICES=0" in (project / "results/gpu_check.txt").read_text()
    slurm = pd.read_csv(project / "results/metrics.csv")
    local = pd.read_csv(tiny_local_run / "results/metrics.csv")
    local = local[local["experiment"] == slurm["experiment"].iloc[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(slurm, local)


def _slurm_job_ids(project: Path) -> dict[str, list[str]]:
    """Rule -> Slurm job ids, from the plugin's logs: .snakemake/slurm_logs/rule_X/.../ID.log."""
    ids: dict[str, list[str]] = {}
    for log in (project / ".snakemake/slurm_logs").rglob("*.log"):
        rule = next(
            p
            for p in log.relative_to(project / ".snakemake/slurm_logs").parts
            if p.startswith("rule_")
        )
        ids.setdefault(rule.removeprefix("rule_"), []).append(log.stem)
    return ids
