"""Problems found in a corpus, collected so that all of them are reported at once.

Each problem names the file, the row (1-based line, 0 for the whole file), what was
checked and what was found, and what happens: `error` (the run stops), `skipped` (the
row, file or recording is left out, as the config asks), `dropped` (always left out,
such as rows with an empty label) or `note` (used as documented, reported for the record).
"""

from __future__ import annotations

import logging

import pandas as pd

log = logging.getLogger(__name__)

PROBLEM_COLUMNS = ["file", "row", "check", "detail", "action"]


class CorpusError(ValueError):
    """A corpus with problems that the config does not allow to skip; the message holds them."""


class Problems:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, str, str, str]] = []

    def add(self, file: object, row: int, check: str, detail: str, action: str) -> None:
        self.rows.append((str(file), int(row), check, detail, action))

    def by_policy(
        self, file: object, row: int, check: str, detail: str, policy: str, key: str
    ) -> None:
        """A problem whose handling the config key `key` decides (`error` or `skip`)."""
        action = "error" if policy == "error" else "skipped"
        self.add(file, row, check, f"{detail} [{key}: {policy}]", action)

    def frame(self) -> pd.DataFrame:
        table = pd.DataFrame(self.rows, columns=PROBLEM_COLUMNS)
        return table.sort_values(["file", "row", "check"], kind="stable").reset_index(drop=True)

    def raise_errors(self) -> None:
        """Log what was skipped or dropped; raise with every error, as one table."""
        table = self.frame()
        for action in ("skipped", "dropped", "note"):
            rows = table[table["action"] == action]
            if len(rows):
                log.warning("%d corpus problem(s) %s:\n%s", len(rows), action, format_table(rows))
        errors = table[table["action"] == "error"]
        if len(errors):
            raise CorpusError(
                f"{len(errors)} corpus problem(s); fix them, or see the policy key named in each "
                f"row (run check_corpus for the full report):\n{format_table(errors)}"
            )


def format_table(table: pd.DataFrame, max_rows: int = 50) -> str:
    """One line per problem: action, file (and line), check, detail; aligned, untruncated
    (a cut path would not name the file)."""
    where = table["file"] + table["row"].map(lambda r: f", line {r}" if r else "")
    check = table["check"] + ":"
    lines = [
        f"{a:<7}  {w:<{where.str.len().max()}}  {c:<{check.str.len().max()}}  {d}"
        for a, w, c, d in zip(table["action"], where, check, table["detail"])
    ]
    if len(lines) > max_rows:
        lines = [*lines[:max_rows], f"... and {len(lines) - max_rows} more"]
    return "\n".join(lines)
