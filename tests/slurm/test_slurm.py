"""The tiny demo workflow through profiles/slurm on a real single-node Slurm cluster: training
and benchmark; then a detect run and its review added to the config, run as Slurm jobs
(detect, collect_detections, review_sample, calibrate); then a simulated reviewer's verdicts,
and a third Slurm run that submits calibrate alone; last a dataset variant with the reviewed
clips, cached, trained and benchmarked on Slurm (the retrain step).

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

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_helpers import (
    ROOT,
    SNAKEMAKE,
    TINY_CONFIG,
    copy_project,
    scheduled_jobs,
    write_config,
)

GPU_RULES = {"train_fold", "predict", "detect", "check_gpu"}
THREADED_GPU_RULES = ("train_fold", "tune_worker", "predict", "detect")
REVIEW = "spring"


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


def slurm_config(season: Path | None = None) -> dict:
    """The tiny config with one experiment; with `season`, a detect run over it and its
    review."""
    config = copy.deepcopy(TINY_CONFIG)
    config["models"] = {"tiny": config["models"]["tiny"]}  # one experiment is enough here
    if season is None:
        return config
    config["detect"] = {
        "season": {"recordings": str(season), "experiment": "default.mel32.tiny", "threshold": 0.05}
    }
    config["review"] = {
        REVIEW: {
            "detect": "season",
            "size": 4,
            "bins": 2,
            "padding_s": 0.5,
            "resamples": 50,
            "min_verdicts": 2,
        }
    }
    return config


def make_season(folder: Path, shared_data: Path) -> Path:
    """Two real recordings at two sites (no benchmark tape: reviewed recordings train the
    `retrained` variant, and a benchmark recording among them is refused)."""
    for relative, name in {
        "siteA/20240501_053000.wav": "rugr_drum.wav",
        "siteB/20240501_230000.wav": "aru_1.wav",
    }.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(shared_data / "real-audio" / name, folder / relative)
    return folder


def write_test_profile(project: Path) -> None:
    """profiles/slurm with test-only site values: this cluster's partitions, a 2-core node,
    no accounting."""
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    profile["default-resources"]["slurm_partition"] = "cpu"
    for rule in THREADED_GPU_RULES:
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


def run_on_slurm(project: Path) -> dict[str, list[str]]:
    """One `snakemake --profile` run; rule -> the Slurm job ids it submitted."""
    before = _slurm_job_ids(project)
    run = subprocess.run(
        [SNAKEMAKE, "--profile", "profiles/slurm-test"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    after = _slurm_job_ids(project)
    new = {rule: sorted(set(ids) - set(before.get(rule, []))) for rule, ids in after.items()}
    return {rule: ids for rule, ids in new.items() if ids}


def check_jobs_ran_as_the_profile_says(job_ids: dict[str, list[str]]) -> None:
    """Every job completed on the cluster, GPU rules on `gpu` with a GPU request and the
    profile's threads, CPU rules on `cpu` without one."""
    for rule, ids in job_ids.items():
        for job_id in ids:
            job = subprocess.run(
                ["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True
            ).stdout
            asks_gpu = re.search(r"TresPer(Job|Node)=\S*gres[:/]gpu[:=]1", job) is not None
            assert asks_gpu == (rule in GPU_RULES), f"{rule} job {job_id}:\n{job}"
            partition = re.search(r"Partition=(\S+)", job).group(1)
            assert partition == ("gpu" if rule in GPU_RULES else "cpu"), f"{rule}: {partition}"
            assert "JobState=COMPLETED" in job, f"{rule} job {job_id}:\n{job}"
            if rule in THREADED_GPU_RULES:
                assert re.search(r"NumCPUs=2\b", job), f"{rule}: set-threads not passed on"


@pytest.fixture(scope="module")
def trained(cluster, tmp_path_factory):
    """The tiny demo trained and benchmarked as Slurm jobs."""
    project = copy_project(tmp_path_factory.mktemp("slurm") / "project", slurm_config())
    write_test_profile(project)
    job_ids = run_on_slurm(project)
    check_jobs_ran_as_the_profile_says(job_ids)
    return project, job_ids


@pytest.fixture(scope="module")
def detected(trained, tmp_path_factory, shared_data):
    """Then a detect run and its review added to the config: the review loop up to
    calibrate (before any verdict) as Slurm jobs."""
    project, _ = trained
    season = make_season(tmp_path_factory.mktemp("season"), shared_data)
    write_config(project, slurm_config(season))
    loop = {"detect": 1, "collect_detections": 1, "review_sample": 1, "calibrate": 1}
    assert scheduled_jobs(project) == {**loop, "all": 1}  # nothing trained again
    job_ids = run_on_slurm(project)
    assert {rule: len(ids) for rule, ids in job_ids.items()} == loop
    check_jobs_ran_as_the_profile_says(job_ids)
    return project


def test_profile_finishes_on_slurm_with_gpu_requests_and_local_metrics(trained, tiny_local_run):
    project, job_ids = trained
    assert {"make_demo_corpus", "train_fold", "predict", "evaluate", "summarize"} <= set(job_ids)
    # Slurm chose the GPU, and the job saw its choice
    assert "CUDA_VISIBLE_DEVICES=0" in (project / "results/gpu_check.txt").read_text()
    slurm = pd.read_csv(project / "results/metrics.csv")
    local = pd.read_csv(tiny_local_run / "results/metrics.csv")
    local = local[local["experiment"] == slurm["experiment"].iloc[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(slurm, local)


def test_detect_and_review_run_on_slurm(detected):
    project = detected
    assert "CUDA_VISIBLE_DEVICES=0" in (project / "logs/detect/season.shard0.log").read_text()
    summary = pd.read_csv(project / "results/detect/season/summary.csv")
    assert (summary["status"] == "scored").sum() == 2
    out = project / "results/review" / REVIEW
    assert len(pd.read_csv(out / "sample.csv")) > 0, "the tiny model detected nothing to review"
    assert len(list((out / "clips").glob("*.wav"))) > 0
    assert (out / "calibration.csv").is_file()
    assert "no verdict files yet" in (project / f"logs/calibrate/{REVIEW}.log").read_text()


@pytest.fixture(scope="module")
def calibrated(detected):
    """Then a simulated reviewer's verdicts in the verdict folder, and a Slurm run."""
    project = detected
    sample = pd.read_csv(project / "results/review" / REVIEW / "sample.csv", dtype={"id": str})
    median = sample["score"].median()
    reviewed = sample.assign(verdict=np.where(sample["score"] > median, "yes", "no"))
    verdicts = project / "verdicts" / REVIEW
    verdicts.mkdir(parents=True)
    reviewed.to_csv(verdicts / "sample.csv", index=False)
    assert scheduled_jobs(project) == {"calibrate": 1, "all": 1}
    return project, reviewed, run_on_slurm(project)


def test_verdicts_rerun_only_calibrate_on_slurm(calibrated):
    project, reviewed, job_ids = calibrated
    assert {rule: len(ids) for rule, ids in job_ids.items()} == {"calibrate": 1}
    check_jobs_ran_as_the_profile_says(job_ids)
    out = project / "results/review" / REVIEW
    per_class = pd.read_csv(out / "calibration.csv").drop_duplicates("class").set_index("class")
    counts = pd.crosstab(reviewed["class"], reviewed["verdict"])
    expected = counts.reindex(columns=["yes", "no"], fill_value=0)
    assert per_class[["yes", "no"]].sort_index().to_dict() == expected.sort_index().to_dict()
    assert "verdicts read from 1 files" in (project / f"logs/calibrate/{REVIEW}.log").read_text()


def test_reviewed_clips_retrain_a_variant_on_slurm(calibrated):
    """Last: a variant with the reviewed clips, and its experiment, trained on Slurm."""
    project, reviewed, _ = calibrated
    config = yaml.safe_load((project / "config.yaml").read_text())
    config["datasets"]["retrained"] = {**config["datasets"]["default"], "reviewed": [REVIEW]}
    write_config(project, config)  # experiments: all, so retrained.mel32.tiny joins
    scheduled = scheduled_jobs(project)
    assert scheduled["prepare_dataset"] == 1 and scheduled["cache_reviewed"] == 1, scheduled
    assert not {"detect", "review_sample", "calibrate", "cache_spectrograms"} & set(scheduled)

    job_ids = run_on_slurm(project)
    assert {rule: len(ids) for rule, ids in job_ids.items()} == {
        rule: n for rule, n in scheduled.items() if rule != "all"
    }
    assert {"cache_reviewed", "train_fold", "predict"} <= set(job_ids)
    check_jobs_ran_as_the_profile_says(job_ids)
    clips = pd.read_csv(project / "results/datasets/retrained/clips.csv")
    mine = clips[clips["tape"].str.startswith(f"reviewed/{REVIEW}/")]
    confirmed = reviewed[reviewed["verdict"] == "yes"]
    assert (mine["source"] == "reviewed").sum() == len(confirmed) > 0
    assert set(mine["tape"]) <= {f"reviewed/{REVIEW}/{r}" for r in reviewed["recording"]}
    metrics = pd.read_csv(project / "results/metrics.csv")
    assert "retrained.mel32.tiny" in set(metrics["experiment"])


def _slurm_job_ids(project: Path) -> dict[str, list[str]]:
    """Rule -> Slurm job ids, from the plugin's logs: .snakemake/slurm_logs/rule_X/.../ID.log."""
    ids: dict[str, list[str]] = {}
    logs = project / ".snakemake/slurm_logs"
    for log in logs.rglob("*.log") if logs.is_dir() else []:
        rule = next(p for p in log.relative_to(logs).parts if p.startswith("rule_"))
        ids.setdefault(rule.removeprefix("rule_"), []).append(log.stem)
    return ids
