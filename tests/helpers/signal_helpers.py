"""Start a stand-in for Snakemake's process (sigint_parent.py) that runs a command as a job."""

import subprocess
import sys
import time
from pathlib import Path

PARENT = Path(__file__).parent / "sigint_parent.py"


def start_parent(tmp_path: Path, mode: str, command: str) -> subprocess.Popen:
    """The stand-in running `command` through bash, with the SIGINT forwarding installed
    (`mode`: `local` forwards, `cluster` does not), in a process group of its own (as a
    terminal's foreground job); returns once the job has started."""
    ready = tmp_path / "parent.ready"
    parent = subprocess.Popen(
        [sys.executable, str(PARENT), mode, str(ready), command],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert parent.poll() is None and time.monotonic() < deadline, "the parent did not start"
        time.sleep(0.05)
    return parent
