"""What a run read, so that a rerun can tell whether its inputs changed.

Each input file has an identity (size and modification time, one metadata call per file); each shard
has a key: a digest of its pieces (file, byte or row-group range, format) and of its files' identities.
The run marker keeps both. A rerun compares keys shard by shard: equal keys mean the shard's output is
still right; a different key means the shard must be redone (`--update`) or the run refused. Workers
write the key into every shard marker, and conservation checks it, so an output made from other inputs
can never be counted as this run's.
"""

from __future__ import annotations

import hashlib
import json

from mdfs import storage

LIST_MAX = 100_000  # more input files than this: the run marker keeps only a digest of their identities


def file_identities(shards: list) -> dict[str, list[int]]:
    """{input file: [size, mtime in ns]} for every file the shards read."""
    out: dict[str, list[int]] = {}
    for shard in shards:
        for piece in shard.pieces:
            if piece.path not in out:
                fs, path = storage.resolve(piece.path)
                info = fs.get_file_info(path)
                out[piece.path] = [int(info.size or 0), int(info.mtime_ns or 0)]
    return out


def assign_keys(shards: list, identities: dict[str, list[int]]) -> list[str]:
    """Set `shard.key` on every shard and return the keys in shard order."""
    for shard in shards:
        parts = [[p.path, p.kind, p.start, p.end, p.compression, identities.get(p.path)]
                 for p in shard.pieces]
        parts += [shard.limit, shard.web_input]  # web_input: which columns every part has
        shard.key = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:24]
    return [s.key for s in shards]


def compact(identities: dict[str, list[int]]) -> dict:
    """The identities as stored in the run marker: listed, or a digest past LIST_MAX files."""
    if len(identities) <= LIST_MAX:
        return identities
    digest = hashlib.sha256(json.dumps(sorted(identities.items())).encode()).hexdigest()
    return {"__digest__": [len(identities), digest]}


def describe_changes(old: dict, new: dict) -> str:
    """Which input files differ between two stored identity maps, in a few words ('' when none)."""
    if "__digest__" in old or "__digest__" in new:
        return "" if old == new else "the list of input files, their sizes or times"
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    parts = [f"{label} {', '.join(names[:3])}{' …' if len(names) > 3 else ''} ({len(names)})"
             for label, names in (("added", added), ("removed", removed), ("changed", changed)) if names]
    return "; ".join(parts)


def stale_shards(old_keys: list[str], new_keys: list[str]) -> list[int]:
    """Indexes whose output no longer matches the inputs: changed keys, and shards that no longer exist."""
    changed = [i for i, k in enumerate(new_keys) if i < len(old_keys) and old_keys[i] != k]
    return changed + list(range(len(new_keys), len(old_keys)))


def piece_digest(piece) -> str | None:
    """sha256 of the bytes a piece covers (a byte range of plain JSONL, else the whole file): the
    lineage of every output part, recorded in its shard marker and the manifest. A Parquet file cut
    into row-group pieces is hashed whole once, by its first piece (None for the others)."""
    if piece.kind == "parquet" and piece.start > 0:
        return None
    whole = piece.kind != "jsonl" or piece.compression is not None
    return storage.sha256(piece.path) if whole else storage.sha256(piece.path, piece.start, piece.end)
