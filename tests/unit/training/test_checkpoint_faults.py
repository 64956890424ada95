"""A corrupt training checkpoint is discarded with a warning; training starts afresh."""

import logging

import pytest
import torch

from sonoflow.training.checkpoints import fingerprint, load_checkpoint, save_checkpoint


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupt_checkpoint_is_discarded_with_a_warning(tmp_path, caplog, damage):
    path = tmp_path / "fold0.pt"
    key = fingerprint("settings")
    save_checkpoint(path, {"fingerprint": key, "epoch": 3, "weights": torch.zeros(1000)})
    assert load_checkpoint(path, key)["epoch"] == 3
    data = path.read_bytes()
    damaged = {"truncated": data[: len(data) // 2], "garbage": b"not a checkpoint", "empty": b""}
    path.write_bytes(damaged[damage])
    with caplog.at_level(logging.WARNING, logger="sonoflow.training.checkpoints"):
        assert load_checkpoint(path, key) is None
    assert "fold0.pt: corrupt checkpoint discarded, training restarts" in caplog.text
