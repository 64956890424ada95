"""Running the workflow from tests: a copy of the project in a temporary folder, via the CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))

TINY_CONFIG = {
    "demo": {
        "seed": 11,
        "train_tapes": 5,
        "tape_duration_s": [25, 35],
        "benchmark_tapes": 1,
        "benchmark_duration_s": 40,
        "calls_per_minute": 24,
    },
    "datasets": {
        "default": {"noise_per_target": 1, "split": {"train": 0.6, "val": 0.2, "test": 0.2}}
    },
    "features": {"mel32": {"window_s": 0.5, "n_bins": 32, "hop_length": 320, "fmax": 8000}},
    "models": {
        "tiny": {"backbone": "resnet10t", "epochs": 2, "batch_size": 32, "lr": 0.002},
        "tiny_b": {"backbone": "band_mlp", "epochs": 2, "batch_size": 32, "dropout": 0.5},
    },
    "cv": {"folds": 2},
    "benchmarks": {
        "demo": {"recordings": "demo", "hop_s": 0.1, "shards": 2}
    },  # one tape: a shard stays empty
    "evaluation": {"thresholds": [0.0, 0.5, 0.8], "sweep_steps": 4, "min_iou": 0.3},
}


def copy_project(target: Path, config: dict) -> Path:
    """The workflow's files (not results) in `target`, with `config` as its config.yaml."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "profiles", "envs"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    write_config(target, config)
    return target


def reordered_keys(value):
    """The same config with every dict's keys in reverse order (lists keep theirs)."""
    if isinstance(value, dict):
        return {k: reordered_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reordered_keys(v) for v in value]
    return value


def write_config(project: Path, config: dict) -> None:
    (project / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def snakemake(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [SNAKEMAKE, "--profile", "profiles/local", "--cores", "2", *args],
        cwd=project,
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


def scheduled_jobs(project: Path) -> dict[str, int]:
    """Rule name -> job count that a dry run would execute now."""
    result = snakemake(project, "--dry-run")
    out = result.stdout + result.stderr
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:", 1)[1]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", table, flags=re.MULTILINE))
    jobs.pop("total", None)
    return {rule: int(n) for rule, n in jobs.items()}
