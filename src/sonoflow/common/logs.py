"""Logging for workflow scripts: messages, warnings and errors go to the rule's log."""

from __future__ import annotations

import logging
import sys
import time

import psutil


def log_to(path: str) -> logging.Logger:
    logging.basicConfig(
        filename=path,
        filemode="w",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    logger = logging.getLogger("sonoflow")

    def log_exception(kind, value, trace):
        logger.error("failed", exc_info=(kind, value, trace))
        sys.__excepthook__(kind, value, trace)

    sys.excepthook = log_exception
    return logger


def seconds_since_process_start() -> float:
    """Wall-clock seconds since this process started (interpreter start-up and imports included)."""
    return time.time() - psutil.Process().create_time()


def log_startup(logger: logging.Logger, what: str = "first batch") -> None:
    """One log line: how long the job took from process start to `what` (a GPU job's start-up
    cost: imports, CUDA initialisation, model loading, first data)."""
    logger.info("start-up: %.1f s from process start to %s", seconds_since_process_start(), what)


def log_startup_at_first_forward(logger: logging.Logger) -> None:
    """`log_startup` when the first batch reaches a model (a module with `probabilities`),
    for code whose loop this script does not own; the global hook then removes itself."""
    from torch.nn.modules.module import register_module_forward_pre_hook  # not at DAG time

    def first_forward(module, args) -> None:
        if hasattr(module, "probabilities"):
            handle.remove()
            log_startup(logger)

    handle = register_module_forward_pre_hook(first_forward)
