"""A checkout without ../shared/data fails its tests saying which folder is missing."""

import conftest
import pytest


def test_missing_shared_data_names_the_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "SHARED", tmp_path / "nowhere")
    with pytest.raises(pytest.fail.Exception, match=r"nowhere/real-audio.*is missing"):
        conftest.shared_data.__wrapped__()


def test_present_shared_data_is_returned():
    assert (conftest.shared_data.__wrapped__() / "real-audio").is_dir()
