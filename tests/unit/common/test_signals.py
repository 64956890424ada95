"""SIGINT to the workflow's process alone reaches its local jobs as SIGTERM (issue 24)."""

import os
import signal
import sys
import time

import pytest
from signal_helpers import start_parent

from sonoflow.common.signals import forward_sigint_to_children

CHILD = """
import signal, sys, time
from pathlib import Path
out = Path(sys.argv[1])
def record(signum, frame):
    with out.open("a") as file:  # every signal, in the order they came
        file.write(signal.Signals(signum).name + "\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, record)
signal.signal(signal.SIGINT, record)
out.with_suffix(".ready").write_text("")
time.sleep(60)
"""


def _run_child(tmp_path, mode, group=False):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / "child.signal"
    parent = start_parent(tmp_path, mode, f"{sys.executable} {script} {out}")
    deadline = time.monotonic() + 60
    while not out.with_suffix(".ready").exists():
        assert parent.poll() is None and time.monotonic() < deadline, "the child did not start"
        time.sleep(0.05)
    if group:  # Ctrl-C in a terminal: the whole foreground process group
        os.killpg(parent.pid, signal.SIGINT)
    else:
        parent.send_signal(signal.SIGINT)  # to the parent alone
    stdout, _ = parent.communicate(timeout=60)
    return stdout, out


def test_sigint_to_the_parent_alone_reaches_its_job_as_sigterm(tmp_path):
    stdout, out = _run_child(tmp_path, "local")
    assert out.read_text().split() == ["SIGTERM"]  # the grandchild, under the job's bash
    assert "KeyboardInterrupt" in stdout  # the previous handler ran too: Snakemake's Ctrl-C
    assert "job exit status" in stdout


def test_ctrl_c_to_the_whole_group_still_ends_parent_and_job(tmp_path):
    stdout, out = _run_child(tmp_path, "local", group=True)
    assert out.read_text().split()[0] == "SIGINT"  # the job got Ctrl-C itself, as before
    assert "KeyboardInterrupt" in stdout and "job exit status" in stdout


def test_nothing_is_forwarded_where_only_if_says_no(tmp_path):
    stdout, out = _run_child(tmp_path, "cluster")
    assert "KeyboardInterrupt" in stdout and "job still running" in stdout
    assert not out.exists()


@pytest.fixture
def sigint_handler():
    previous = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, previous)


def test_installed_once_and_never_where_sigint_is_ignored(sigint_handler):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a job started in the background
    assert not forward_sigint_to_children()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    signal.signal(signal.SIGINT, signal.default_int_handler)
    asked = []
    assert forward_sigint_to_children(only_if=lambda: asked.append(1))  # falsy: no forwarding
    assert not forward_sigint_to_children()  # a Snakefile parsed twice: one handler
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGINT, None)
    assert asked == [1]  # asked when the signal came, not when installed
