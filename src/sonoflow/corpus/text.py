"""Annotation files as text: UTF-8 (with or without a byte-order mark) or UTF-16, named on failure.

Raven Pro on Windows may save tables as UTF-16 (with a byte-order mark) or in the Windows
code page; the first is read as it is, the second stops with the file, the line and the
encoding to save it in. Hand-written because the rule is this short and a guessing library
(charset detection) would silently accept a wrong code page on a few bytes of text.
"""

from __future__ import annotations

import codecs
from pathlib import Path

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class TextEncodingError(ValueError):
    """A text file that is not UTF-8 or UTF-16; `line` is the 1-based line of the first bad byte."""

    def __init__(self, path: str | Path, line: int, detail: str):
        super().__init__(f"{path}, line {line}: {detail}")
        self.line, self.detail = line, detail


def read_text(path: str | Path) -> str:
    """The file's text with line ends as written (a BOM selects UTF-8 or UTF-16)."""
    data = Path(path).read_bytes()
    for bom, codec in BOMS:
        if data.startswith(bom):
            return data.decode(codec)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise TextEncodingError(
            path,
            line,
            f"not UTF-8 text (byte 0x{data[err.start]:02x}, "
            f"{_as_windows_1252(data, err.start)}); save the file as UTF-8 (or UTF-16), "
            "for example with a text editor's 'Save as' encoding choice",
        ) from err


def _as_windows_1252(data: bytes, start: int) -> str:
    try:
        character = data[start : start + 1].decode("cp1252")
    except UnicodeDecodeError:
        return "an encoding other than UTF-8"
    return f"{character!r} in Windows-1252, which the file is probably in"
