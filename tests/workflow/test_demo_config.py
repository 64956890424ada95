"""The default config (`make demo`) keeps every stage of the workflow; an example adds to it."""

import shutil

from config_helpers import EXAMPLES, default_config
from workflow_helpers import copy_project, snakemake

# Every rule a fresh `make demo` ran before it was cut down to minutes (issue 23).
DEMO_RULES = {
    "check_gpu",
    "make_demo_corpus",
    "prepare_dataset",
    "cache_spectrograms",
    "train_fold",
    "assess_experiment",
    "predict",
    "evaluate",
    "summarize",
    "all",
}


def dry_run_jobs(project, *args) -> dict[str, int]:
    """Rule -> job count of a dry run, from `--quiet rules`'s table."""
    out = snakemake(project, "--dry-run", "--quiet", "rules", *args).stdout
    rows = (line.split() for line in out.split("Job stats:", 1)[1].splitlines())
    return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit()}


def test_the_demo_runs_every_stage(tmp_path):
    jobs = dry_run_jobs(copy_project(tmp_path, default_config()))
    assert set(jobs) - {"total"} == DEMO_RULES
    folds = default_config()["cv"]["folds"]
    assert jobs["train_fold"] == 2 * folds  # resnet18 and band_mlp


def test_the_tabular_example_adds_the_statistics_cache_and_mlp_folds(tmp_path):
    project = copy_project(tmp_path, default_config())
    shutil.copytree(EXAMPLES, project / "config/examples")
    plain = dry_run_jobs(project)
    tabular = dry_run_jobs(project, "--configfile", "config/examples/tabular.yaml")
    folds = default_config()["cv"]["folds"]
    assert tabular["cache_spectrograms"] == plain["cache_spectrograms"] + 1
    assert tabular["train_fold"] == plain["train_fold"] + folds
    assert tabular["predict"] == plain["predict"] + 1
