"""A stand-in for Snakemake's process, for the SIGINT tests: installs the forwarding handler,
runs COMMAND through `bash -c` (as Snakemake runs a job) and, on KeyboardInterrupt, waits
for the job as Snakemake's local executor does, then prints its exit status.

Usage: python sigint_parent.py local|cluster READY_FILE COMMAND
"""

import signal
import subprocess
import sys
from pathlib import Path

import psutil

from sonoflow.common.signals import forward_sigint_to_children

mode, ready, command = sys.argv[1:4]
# Python's own handler, even where this process was started with SIGINT ignored (a
# background job of a script), which forward_sigint_to_children respects.
signal.signal(signal.SIGINT, signal.default_int_handler)
assert forward_sigint_to_children(only_if=lambda: mode == "local")
job = subprocess.Popen(["bash", "-c", f"set -euo pipefail; {command}"])
Path(ready).write_text(str(job.pid))
try:
    job.wait(timeout=600)
    print("job ended by itself", flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    try:
        print(f"job exit status {job.wait(timeout=5 if mode == 'cluster' else 300)}", flush=True)
    except subprocess.TimeoutExpired:
        print("job still running", flush=True)
        for process in [*psutil.Process(job.pid).children(recursive=True), psutil.Process(job.pid)]:
            process.kill()
