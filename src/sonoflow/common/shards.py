"""Which shard (one job) a recording belongs to, for benchmark prediction and detection alike.

Free of heavy imports: Snakemake calls it while it builds the DAG."""

from __future__ import annotations

import hashlib


def shard_of(name: str, shards: int) -> int:
    """The shard a recording belongs to, from a hash of its name (its relative path).

    Unlike dealing sorted files out in turn, adding or removing a recording changes only the
    shard it falls into, so only that job reruns."""
    digest = hashlib.sha1(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shards


def shard_recordings(names: list[str], shard: int, shards: int) -> list[str]:
    """The names among `names` that belong to `shard` (0-based) of `shards`."""
    return [name for name in names if shard_of(name, shards) == shard]
