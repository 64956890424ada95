"""SIGINT to the workflow's own process reaches the jobs it runs, as SIGTERM.

Ctrl-C in a terminal sends SIGINT to the whole process group, so every running job gets it.
SIGINT sent to Snakemake's process alone (`kill -INT PID`, a job manager, an IDE's stop
button) does not: Snakemake's local executor waits for its running jobs and signals none of
them, so a training fold trains on to its end, deletes its checkpoint, and its outputs are
then thrown away as incomplete; the rerun starts the fold from epoch 1.

`forward_sigint_to_children` installs a SIGINT handler in the Snakemake process that first
sends SIGTERM to every descendant process (the scripts and commands the job shells run) and
then does what the previous handler did (Python's: raise KeyboardInterrupt, which Snakemake
handles as Ctrl-C). Training stops on SIGTERM after its current batch and keeps its last
checkpoint (training/checkpoints.py `StopSignal`); other jobs end as on Ctrl-C, and their
outputs are written atomically, so none is left partial.

Only local jobs are signalled: under a cluster executor (Slurm) the descendants are
short-lived `sbatch`/`sacct`/`scancel` clients, and a killed `sbatch` could leave a job
running that Snakemake never learned about; there Snakemake cancels its jobs itself.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

import psutil

# A job's shell that runs a command is left alone: it ends with that command, with its exit
# status, so Snakemake waits until the job has really stopped (a shell killed first would
# leave its command running on, unwaited for, while a rerun starts the same job again).
SHELLS = {"bash", "sh", "dash", "zsh", "ksh"}


def terminate_descendants() -> list[int]:
    """Send SIGTERM to every descendant of this process but shells that run a command;
    the ids of those signalled."""
    signalled = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.name() in SHELLS and child.children():
                continue
            child.send_signal(signal.SIGTERM)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue  # ended meanwhile, or not ours to signal
        signalled.append(child.pid)
    return signalled


def _forwarding(previous, only_if: Callable[[], bool]):
    def handle(signum, frame):
        if only_if():
            pids = terminate_descendants()
            if pids:
                print(
                    f"SIGINT: sent SIGTERM to {len(pids)} running job process(es), so that "
                    "training stops after its current batch and keeps its checkpoint",
                    file=sys.stderr,
                )
        if callable(previous):
            return previous(signum, frame)
        return signal.default_int_handler(signum, frame)  # SIG_DFL, or a handler set in C

    handle.forwards_sigint = True
    return handle


def forward_sigint_to_children(only_if: Callable[[], bool] = lambda: True) -> bool:
    """Install the forwarding SIGINT handler in this process; `only_if` is asked when the
    signal arrives (for example: is Snakemake running jobs locally?). Returns whether a
    handler was installed: not outside the main thread, not where SIGINT is ignored (a job
    started in the background), and not a second time."""
    try:
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.SIG_IGN or getattr(previous, "forwards_sigint", False):
            return False
        signal.signal(signal.SIGINT, _forwarding(previous, only_if))
    except ValueError:  # not the main thread of the main interpreter
        return False
    return True
