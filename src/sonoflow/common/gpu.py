"""Which GPU a job uses.

Snakemake counts a global `gpu` resource but does not say which GPU a job should take.
On Slurm the scheduler sets CUDA_VISIBLE_DEVICES; on a local machine sonoflow does: a job
takes the first GPU whose lock file it can lock exclusively, and holds it until it exits.
No library does this for separate processes on one machine, hence the few lines here.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

_held_locks: list = []  # open lock files live as long as the process


def count_gpus() -> int:
    """NVIDIA GPUs on this machine, asked of nvidia-smi so that CUDA is not initialised yet."""
    if shutil.which("nvidia-smi") is None:
        return 0
    listing = subprocess.run(["nvidia-smi", "--list-gpus"], capture_output=True, text=True)
    return sum(line.startswith("GPU ") for line in listing.stdout.splitlines())


def lock_dir() -> Path:
    path = Path(
        os.environ.get("SONOFLOW_GPU_LOCKS", Path(tempfile.gettempdir()) / "sonoflow-gpu-locks")
    )
    path.mkdir(mode=0o1777, parents=True, exist_ok=True)
    return path


def claim_gpu(
    count: int | None = None, wait_s: float = 3600, locks: Path | None = None
) -> str | None:
    """Set CUDA_VISIBLE_DEVICES to a GPU no other sonoflow job holds; call before any CUDA use.

    Returns the device index taken, or None when a scheduler (or the user) already chose
    the devices or the machine has no GPU.
    """
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        return None
    count = count_gpus() if count is None else count
    if count == 0:
        return None
    locks = locks or lock_dir()
    deadline = time.monotonic() + wait_s
    while True:
        for index in range(count):
            handle = open(locks / f"gpu{index}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            _held_locks.append(handle)
            os.environ["CUDA_VISIBLE_DEVICES"] = str(index)
            return str(index)
        if time.monotonic() > deadline:
            raise TimeoutError(f"no free GPU among {count} after {wait_s} s (locks in {locks})")
        time.sleep(1)


def describe_device() -> str:
    """What this job computes on, for its log."""
    import torch

    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "unset")
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return f"cuda: {', '.join(names)} (CUDA_VISIBLE_DEVICES={visible})"
    return f"cpu: no CUDA device visible (CUDA_VISIBLE_DEVICES={visible})"
