from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# beside the checkout, or beside the folder of worktrees (/work/wt/NAME -> /work/shared)
SHARED = next(
    (p / "shared" / "data" for p in ROOT.parents[:2] if (p / "shared" / "data").is_dir()),
    ROOT.parent / "shared" / "data",
)
SHARED_FOLDERS = ("real-audio", "raven-tables")


def pytest_collection_modifyitems(config, items):
    """Tests under tests/workflow and tests/slurm run whole workflows: mark them `workflow`."""
    for item in items:
        if {"workflow", "slurm"} & set(Path(item.fspath).relative_to(ROOT / "tests").parts[:1]):
            item.add_marker(pytest.mark.workflow)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real recordings and Raven tables made by others (../shared/data), read in place."""
    missing = [str(SHARED / folder) for folder in SHARED_FOLDERS if not (SHARED / folder).is_dir()]
    if missing:
        pytest.fail(
            "these tests read the shared recordings and Raven tables in place, but "
            + ", ".join(missing)
            + " is missing: put the project's shared/data folder (its README says what it holds)"
            + " beside the checkout",
            pytrace=False,
        )
    return SHARED


@pytest.fixture(scope="session")
def tiny_local_run(tmp_path_factory):
    """The whole workflow on the tiny demo config, run once with profiles/local."""
    import copy

    from workflow_helpers import TINY_CONFIG, copy_project, snakemake

    project = copy_project(tmp_path_factory.mktemp("tiny"), copy.deepcopy(TINY_CONFIG))
    snakemake(project)
    return project
