"""Runs one detection shard in its own process, for the interruption tests.

Usage: python detect_runner.py ROOT MODELS_DIR OUT_DIR [KILL_AFTER]
With KILL_AFTER, the process kills itself (SIGKILL, as a Slurm time limit's last resort or
an out-of-memory kill would) right after finishing that many recordings. Prints the
shard's result as JSON.
"""

import json
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path

from sonoflow.detection import shard
from sonoflow.detection.listing import find_recordings

root, models, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
kill_after = int(sys.argv[4]) if len(sys.argv) > 4 else None
finished = 0
write_marker = shard.write_json


def write_and_maybe_die(path, obj):
    global finished
    write_marker(path, obj)
    finished += 1
    if finished == kill_after:
        os.kill(os.getpid(), signal.SIGKILL)


shard.write_json = write_and_maybe_die
result = shard.detect_shard(
    root,
    find_recordings(root),
    sorted(models.glob("fold*/model.pt")),
    out / "work",
    out / "shard0.parquet",
    out / "shard0.status.csv",
    shard.ScoringSettings(hop_s=0.1, block_s=3.0),
)
print(json.dumps(asdict(result)))
