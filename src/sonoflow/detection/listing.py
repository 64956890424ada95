"""The recordings of a detection run: found recursively, named by relative path (the shards
they fall into: sonoflow.common.shards).

Imported while Snakemake builds the DAG, so free of torch.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from sonoflow.corpus.suffixes import AUDIO_SUFFIXES


def find_recordings(root: str | Path, key: str = "detect.NAME.recordings") -> list[str]:
    """Audio files under `root`, at any depth, as sorted POSIX paths relative to `root`.

    Hidden files and folders (names starting with a dot, such as the `._x.wav` files macOS
    leaves on SD cards) are left out. Two files whose paths differ only in their audio suffix
    would share output tables, so they are an error naming both; so is a folder without audio."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"config key {key}: {root} is not a directory")
    found = sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.suffix.lower() in AUDIO_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
        and path.is_file()
    )
    if not found:
        # stop while the DAG is built, not after scoring nothing (collect then had no rows)
        raise ValueError(
            f"config key {key}: {root} holds no audio ({', '.join(AUDIO_SUFFIXES)} files, "
            "at any depth, hidden ones left out)"
        )
    seen: dict[str, str] = {}
    for relative in found:
        name = output_name(relative)
        if name in seen:
            raise ValueError(
                f"config key {key}: {seen[name]} and {relative} differ only in their suffix; "
                f"their detection tables would collide (rename or move one)"
            )
        seen[name] = relative
    return found


def output_name(relative: str) -> str:
    """A recording's name in every output: its relative path without the audio suffix."""
    return str(PurePosixPath(relative).with_suffix(""))
