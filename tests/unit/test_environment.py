"""The conda environment, the package metadata and the pinned requirements agree."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_conda_env_has_the_packages_of_pyproject_at_the_pinned_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "envs/sonoflow.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {_name(r) for r in pip} == {_name(r) for r in project}
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            pins[_name(name)] = version.strip()
    for requirement in pip:
        name, version = requirement.split("==")
        assert pins[_name(name)] == version, (
            f"{name}: env {version}, requirements.txt {pins[_name(name)]}"
        )


def test_conda_env_leaves_the_workflow_runner_out():
    """Jobs import sonoflow's dependencies, not Snakemake: the runner is the `workflow` extra."""
    env = yaml.safe_load((ROOT / "envs/sonoflow.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runner = {_name(r) for r in project["optional-dependencies"]["workflow"]}
    assert runner == {"snakemake", "snakemake-executor-plugin-slurm"}
    assert not runner & {_name(r) for r in pip}
    requirements = (ROOT / "requirements.txt").read_text().split()
    pinned = {_name(line.split("==")[0]) for line in requirements}
    assert runner <= pinned  # `make setup` still installs the runner
