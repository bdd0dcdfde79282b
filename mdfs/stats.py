"""Per-stage statistics as plain JSON-able dicts that merge associatively (sum, key-wise)."""

from __future__ import annotations

from collections import Counter


def empty_stage_stats() -> dict:
    return {"docs_in": 0, "docs_out": 0, "chars_in": 0, "chars_out": 0, "reasons": {}, "counters": {},
            "seconds": 0.0}


def merge_into(total: dict, part: dict) -> dict:
    """Add `part` (a stats dict of the same shape) into `total` recursively; numbers add up."""
    for key, value in part.items():
        if isinstance(value, dict):
            merge_into(total.setdefault(key, {}), value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            total[key] = total.get(key, 0) + value
        else:
            total[key] = value
    return total


def merge_all(parts: list[dict]) -> dict:
    total: dict = {}
    for part in parts:
        merge_into(total, part)
    return total


def add_counter(target: dict, counter: Counter) -> None:
    for k, v in counter.items():
        target[k] = target.get(k, 0) + v
