"""Logging for workflow scripts: messages, warnings and errors go to the rule's log."""

from __future__ import annotations

import logging
import sys


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
