"""Per-stage statistics, owned by the framework: one typed record per stage that merges by addition.

Workers fill a `StageStats` per stage and shard; the driver merges them into `RunStats` for the
conservation check, the manifest, the report and the benchmarks. On disk (shard markers, manifest) a
record is the plain JSON object of `to_json()`, so any reader of the manifest keeps working.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def text_chars(table: pa.Table) -> int:
    """Characters of the `text` column (0 without one)."""
    if "text" not in table.column_names or table.num_rows == 0:
        return 0
    return int(pc.sum(pc.utf8_length(table.column("text"))).as_py() or 0)


@dataclass
class Clock:
    """Wall and CPU seconds since it was made; `charge` adds them to a stage's stats."""

    wall: float = field(default_factory=time.perf_counter)
    cpu: float = field(default_factory=time.process_time)

    def seconds(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu

    def charge(self, stats: StageStats) -> None:
        wall, cpu = self.seconds()
        stats.seconds += wall
        stats.cpu_seconds += cpu


@dataclass
class StageStats:
    """Documents and characters in and out of a stage, why the others left, and what it counted."""

    docs_in: int = 0
    docs_out: int = 0
    chars_in: int = 0
    chars_out: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    counters: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of the process that did the work (time.process_time)

    @property
    def rejected(self) -> int:
        return sum(self.reasons.values())

    @property
    def conserved(self) -> bool:
        """Every document in was kept or rejected with a reason."""
        return self.docs_in == self.docs_out + self.rejected

    def took_in(self, table: pa.Table) -> None:
        self.docs_in += table.num_rows
        self.chars_in += text_chars(table)

    def kept(self, table: pa.Table) -> None:
        self.docs_out += table.num_rows
        self.chars_out += text_chars(table)

    def rejected_for(self, reasons: Iterable[str]) -> None:
        _add(self.reasons, Counter(reasons))

    def add_counters(self, counters: Mapping[str, float]) -> None:
        _add(self.counters, counters)

    def merge(self, other: StageStats) -> StageStats:
        """Add `other` into this record (associative: shards and work items merge in any order)."""
        self.docs_in += other.docs_in
        self.docs_out += other.docs_out
        self.chars_in += other.chars_in
        self.chars_out += other.chars_out
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds
        _add(self.reasons, other.reasons)
        _add(self.counters, other.counters)
        _merge_notes(self.notes, other.notes)
        return self

    def to_json(self) -> dict:
        out = {"docs_in": self.docs_in, "docs_out": self.docs_out, "chars_in": self.chars_in,
               "chars_out": self.chars_out, "reasons": dict(self.reasons), "counters": dict(self.counters),
               "seconds": self.seconds}
        if self.cpu_seconds:
            out["cpu_seconds"] = self.cpu_seconds
        if self.notes:
            out["notes"] = self.notes
        return out

    @classmethod
    def from_json(cls, data: Mapping) -> StageStats:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class RunStats(dict[str, StageStats]):
    """Stats per stage name, in pipeline order once `ordered()`."""

    def add(self, name: str, stats: StageStats) -> None:
        self.setdefault(name, StageStats()).merge(stats)

    def merge(self, other: Mapping[str, StageStats]) -> RunStats:
        for name, stats in other.items():
            self.add(name, stats)
        return self

    def ordered(self, order: list[str]) -> RunStats:
        return RunStats({n: self[n] for n in order if n in self})

    def to_json(self) -> dict:
        return {name: stats.to_json() for name, stats in self.items()}

    @classmethod
    def from_json(cls, data: Mapping) -> RunStats:
        return cls({name: StageStats.from_json(st) for name, st in data.items()})


def _add(total: dict, part: Mapping) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value


def _merge_notes(total: dict, part: Mapping) -> None:
    """Notes do not add up: a later value replaces an earlier one, nested tables merge key-wise."""
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(total.get(key), dict):
            _merge_notes(total[key], value)
        else:
            total[key] = value
