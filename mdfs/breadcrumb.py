"""A worker's last known position: the stage and the documents it was processing in a shard.

A worker killed by a crash in native code or by the OOM killer cannot report anything; Ray only says
the actor died. Before each stage takes a batch, the worker overwrites one small local file per shard,
so that the driver can name the stage and the documents in its error (`mdfs.engine`). Not fsynced, not
written on object stores (a request per batch and stage would cost more than it tells).
"""

from __future__ import annotations

import json
import os

from mdfs import storage


def write(path: str, stage: str, first_id, last_id) -> None:
    p = storage.resolve(path)[1]
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w", encoding="utf-8") as f:
        json.dump({"stage": stage, "first_id": first_id, "last_id": last_id}, f, ensure_ascii=False)


def read(path: str) -> dict | None:
    try:
        return json.loads(storage.read_bytes(path))
    except (OSError, ValueError):
        return None


def describe(path: str) -> str:
    """', in stage X, on documents A … B' (empty when nothing was recorded)."""
    crumb = read(path)
    if not crumb:
        return ""
    return f", in stage {crumb['stage']} on the batch of documents {crumb['first_id']} … {crumb['last_id']}"
