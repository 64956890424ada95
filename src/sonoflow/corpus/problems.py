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
    """Problems of one input (the corpus, or a benchmark read like it).

    `keys` maps a reader setting (`bad_annotations`, `channel`, ...) to the config key it
    came from, so that messages name the key a user has to change; by default `corpus.NAME`.
    """

    def __init__(self, keys: dict[str, str] | None = None, subject: str = "corpus") -> None:
        self.rows: list[tuple[str, int, str, str, str]] = []
        self.keys = dict(keys or {})
        self.subject = subject

    def key(self, name: str) -> str:
        """The config key path of the reader setting `name`."""
        return self.keys.get(name, f"corpus.{name}")

    def add(self, file: object, row: int, check: str, detail: str, action: str) -> None:
        self.rows.append((str(file), int(row), check, detail, action))

    def by_policy(
        self, file: object, row: int, check: str, detail: str, policy: str, name: str
    ) -> None:
        """A problem whose handling the reader setting `name` decides (`error` or `skip`)."""
        action = "error" if policy == "error" else "skipped"
        self.add(file, row, check, f"{detail} [{self.key(name)}: {policy}]", action)

    def frame(self) -> pd.DataFrame:
        table = pd.DataFrame(self.rows, columns=PROBLEM_COLUMNS)
        return table.sort_values(["file", "row", "check"], kind="stable").reset_index(drop=True)

    def raise_errors(self) -> None:
        """Log what was skipped or dropped; raise with every error, as one table."""
        table = self.frame()
        for action in ("skipped", "dropped", "note"):
            rows = table[table["action"] == action]
            if len(rows):
                log.warning(
                    "%d %s problem(s) %s:\n%s", len(rows), self.subject, action, format_table(rows)
                )
        errors = table[table["action"] == "error"]
        if len(errors):
            full_report = (
                " (run check_corpus for the full report)" if self.subject == "corpus" else ""
            )
            raise CorpusError(
                f"{len(errors)} {self.subject} problem(s); fix them, or see the policy key named "
                f"in each row{full_report}:\n{format_table(errors)}"
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
