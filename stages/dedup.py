"""Exact deduplication, global across shards: a digest of the normalised text (whitespace and
punctuation removed). Within a cluster of copies one document is kept by the keep policy."""

from __future__ import annotations

from collections import Counter
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.stage import BUCKET, GlobalStage, StageContext
from mdfs.textnorm import dedup_key

KeepRule = Literal["highest_score", "longest", "smallest_id"]


class ExactDedup(GlobalStage):
    class Params(Strict):
        buckets: int = Field(16, ge=1, le=65536, description="hash partitions; bounds memory per resolve task")
        score_column: str = "quality__score"
        keep: list[KeepRule] = Field(default_factory=lambda: ["highest_score", "longest", "smallest_id"],
                                     min_length=1)

    def keys(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        digests = [dedup_key(t) for t in batch.column("text").to_pylist()]
        buckets = [int.from_bytes(d[:4], "little") % self.buckets for d in digests]
        col = self.params.score_column
        score = (pc.fill_null(batch.column(col).cast(pa.float64()), -1.0) if col in batch.column_names
                 else pa.array([0.0] * batch.num_rows, pa.float64()))
        return pa.table({"id": batch.column("id"), "hash": pa.array(digests, pa.binary(16)), "score": score,
                         "length": pc.utf8_length(batch.column("text")), BUCKET: pa.array(buckets, pa.int32())})

    def resolve(self, keys: pa.Table, ctx: StageContext) -> pa.Table:
        order = {"highest_score": [("score", "descending")], "longest": [("length", "descending")],
                 "smallest_id": [("id", "ascending")]}
        sort = [("hash", "ascending")] + [k for rule in self.params.keep for k in order[rule]]
        # Final tie-breaks make the choice independent of shard order and engine.
        sort += [("id", "ascending"), ("shard", "ascending"), ("row", "ascending")]
        keys = keys.take(pc.sort_indices(keys, sort_keys=sort))
        hashes, ids = keys.column("hash").to_pylist(), keys.column("id").to_pylist()
        remove, detail, sizes = [], [], Counter()
        start = 0
        for i in range(1, len(hashes) + 1):
            if i == len(hashes) or hashes[i] != hashes[start]:
                size = i - start
                if size > 1:
                    sizes[size] += 1
                    remove.extend(range(start + 1, i))
                    detail.extend([f"kept={ids[start]}"] * (size - 1))
                start = i
        ctx.count("clusters", sum(sizes.values()))
        ctx.count("removed", len(remove))
        for size, n in sizes.items():
            ctx.count(f"cluster_size_{size if size < 10 else '10+'}", n)
        out = keys.take(pa.array(remove, pa.int64())).select(["shard", "row"])
        return out.append_column("reason", pa.array(["exact_duplicate"] * len(remove), pa.string())) \
                  .append_column("detail", pa.array(detail, pa.string()))
