"""A full disk while writing an output: the error says so and names the file; no partial
file is left, neither the output nor its temporary."""

import errno

import numpy as np
import pandas as pd
import pytest

from sonoflow.common.atomic import DiskFullError, atomic_path, write_csv


def test_no_space_left_names_the_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "out/spectrograms/rec.npy"
    with pytest.raises(DiskFullError, match="disk is full") as raised:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")  # some bytes made it before the disk filled up
            with open("/dev/full", "wb") as full:  # every write fails with ENOSPC
                np.save(full, np.zeros(10_000))
    assert str(target) in str(raised.value)
    assert raised.value.errno == errno.ENOSPC
    assert list(target.parent.iterdir()) == []  # no output, no temporary


def test_numpys_short_write_is_reported_as_a_full_disk(tmp_path, monkeypatch):
    def short_write(self, path, **kwargs):
        open(path, "w").write("recording,label\n")
        raise OSError("23904 requested and 6080 written")

    monkeypatch.setattr(pd.DataFrame, "to_csv", short_write)
    with pytest.raises(DiskFullError, match=r"index.csv: the disk is full .*requested and"):
        write_csv(tmp_path / "index.csv", pd.DataFrame({"recording": ["a"]}))
    assert list(tmp_path.iterdir()) == []


def test_other_os_errors_pass_unchanged(tmp_path):
    with pytest.raises(PermissionError):
        with atomic_path(tmp_path / "x.txt"):
            raise PermissionError(errno.EACCES, "denied")
    assert list(tmp_path.iterdir()) == []
