"""Training checkpoints that outlive a killed job: written every epoch, read back on rerun.

A checkpoint holds everything the next epoch depends on (weights, optimiser, RNG states,
history, early-stopping state), so a resumed run continues exactly where it stopped.
It is only resumed when its fingerprint (the training inputs and settings) still matches.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import signal
from pathlib import Path

import torch

from sonoflow.common.atomic import atomic_path

log = logging.getLogger(__name__)


class Interrupted(RuntimeError):
    """SIGTERM arrived (time limit, preemption, scancel); the last checkpoint stands."""


class StopSignal:
    """Turns SIGTERM into a flag that the training loop checks between batches."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self) -> StopSignal:
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGTERM, self._previous)

    def _handle(self, signum, frame) -> None:
        log.warning("SIGTERM: stopping after this batch")
        self.requested = True

    def check(self) -> None:
        if self.requested:
            raise Interrupted("stopped by SIGTERM; rerun to resume from the last finished epoch")


def fingerprint(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def rng_states(loader_generator: torch.Generator) -> dict:
    """Torch's global state (dropout) and the training order's (shuffling, oversampling).

    Augmentation and mixup draw from generators seeded by (seed, epoch), so they have no
    state of their own to keep.
    """
    states = {"torch": torch.get_rng_state(), "loader": loader_generator.get_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict, loader_generator: torch.Generator) -> None:
    torch.set_rng_state(states["torch"])
    loader_generator.set_state(states["loader"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(path: str | Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | Path, expected_fingerprint: str) -> dict | None:
    """The checkpoint at `path` if it belongs to this training run, else None."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as err:
        # a checkpoint cut short (full disk) or damaged must not fail every rerun
        log.warning("%s: corrupt checkpoint discarded, training restarts (%s)", path, err)
        return None
    if not isinstance(state, dict) or state.get("fingerprint") != expected_fingerprint:
        log.info("%s: made with other inputs or settings; starting afresh", path)
        return None
    log.info("%s: resuming after epoch %d", path, state["epoch"])
    return state
