from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real recordings and Raven tables made by others (../shared/data), read in place."""
    assert SHARED.is_dir(), f"shared test data not found at {SHARED}"
    return SHARED
