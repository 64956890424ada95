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

# A file a person can run by hand too: snakemake --directory .test --profile profiles/local
TINY_CONFIG = yaml.safe_load((ROOT / ".test/config.yaml").read_text())


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
