"""sonoflow as a module of another workflow: Snakemake's `module` directive with a prefix."""

import copy
import re

from workflow_helpers import (
    ROOT,
    TINY_CONFIG,
    copy_project,
    scheduled_jobs,
    snakemake,
    write_config,
)

PREFIX = "sono"


def _outer_workflow(folder, config):
    """A workflow in `folder` that imports sonoflow's Snakefile in place, as docs/reuse.md says."""
    folder.mkdir(parents=True)
    (folder / "Snakefile").write_text(
        f"""configfile: "config.yaml"


module sonoflow:
    snakefile:
        "{ROOT / "Snakefile"}"
    config:
        config
    prefix:
        "{PREFIX}"


use rule * from sonoflow as sonoflow_*


rule all:
    default_target: True
    input:
        rules.sonoflow_all.input,
"""
    )
    # The outer workflow's own profile: sonoflow's local one, as a user would copy it.
    (folder / "profiles").mkdir()
    (folder / "profiles/local").symlink_to(ROOT / "profiles/local")
    write_config(folder, config)
    return folder


def test_module_with_a_prefix_plans_every_job_under_the_prefix(tmp_path):
    outer = _outer_workflow(tmp_path / "outer", copy.deepcopy(TINY_CONFIG))
    result = snakemake(outer, "--dry-run")
    out = result.stdout + result.stderr

    alone = scheduled_jobs(copy_project(tmp_path / "alone", copy.deepcopy(TINY_CONFIG)))
    expected = {f"sonoflow_{rule}": n for rule, n in alone.items() if rule != "all"}
    assert scheduled_jobs(outer) == {**expected, "all": 1}
    assert expected["sonoflow_train_fold"] == 4  # 2 models x 2 folds

    for kind in ("output", "log"):
        paths = [
            p for line in re.findall(rf"^\s+{kind}: (.+)$", out, re.M) for p in line.split(", ")
        ]
        assert paths, kind
        assert all(p.startswith(f"{PREFIX}/") for p in paths), [
            p for p in paths if not p.startswith(f"{PREFIX}/")
        ]
    assert f"{PREFIX}/results/demo_corpus/manifest.json" in out
    assert f"{PREFIX}/results/metrics.csv" in out


def test_module_jobs_read_and_write_under_the_prefix(tmp_path):
    """Params that name files the workflow makes (the demo corpus) follow the prefix too."""
    outer = _outer_workflow(tmp_path / "outer", copy.deepcopy(TINY_CONFIG))
    snakemake(
        outer,
        f"{PREFIX}/results/datasets/default/clips.csv",
        f"{PREFIX}/results/cache/mel32/index.csv",
    )
    results = outer / PREFIX / "results"
    assert (results / "demo_corpus/manifest.json").is_file()
    assert (results / "datasets/default/recordings.csv").is_file()
    recordings = (results / "datasets/default/recordings.csv").read_text()
    assert f"{PREFIX}/results/demo_corpus/train/audio/" in recordings
    assert len((results / "cache/mel32/index.csv").read_text().splitlines()) > 1
    assert not (outer / "results").exists() and not (outer / "logs").exists()
    assert (outer / PREFIX / "logs/prepare_dataset/default.log").is_file()
