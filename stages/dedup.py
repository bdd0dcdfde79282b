"""Deduplication, global across shards, in one stage `dedup`:

- exact: a digest of the normalised text (whitespace and punctuation removed);
- near (`near.enabled`): MinHash LSH over character n-grams (see `stages.neardup`, `stages.minhash`).

Within a cluster of copies one document is kept by the keep policy (highest quality score, then longest,
then smallest id, configurable); the others go to the rejects as `exact_duplicate` or `near_duplicate`
with `kept=<id>`. One stage rather than two: one pass over the corpus, and a document that is both an
exact and a near duplicate is removed once, under one kept document.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from mdfs.config import Strict
from mdfs.globalwork import GlobalWork
from mdfs.stage import BUCKET, GlobalStage, Phase, StageContext
from mdfs.textnorm import dedup_key

KeepRule = Literal["highest_score", "longest", "smallest_id"]
KEEP_ORDER = {"highest_score": [("score", "descending")], "longest": [("length", "descending")],
              "smallest_id": [("id", "ascending")]}


def keep_sort(keep: list[str]) -> list[tuple[str, str]]:
    """Sort keys that put the document to keep first."""
    return [k for rule in keep for k in KEEP_ORDER[rule]]


class ExactDedup(GlobalStage):
    class Params(Strict):
        buckets: int = Field(16, ge=1, le=65536,
                             description="hash partitions; bounds memory per resolve task")
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
                         "length": pc.utf8_length(batch.column("text")),
                         BUCKET: pa.array(buckets, pa.int32())})

    def resolve(self, keys: pa.Table, ctx: StageContext) -> pa.Table:
        sort = [("hash", "ascending")] + keep_sort(self.params.keep)
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


class NearParams(Strict):
    enabled: bool = Field(False, description="MinHash LSH near-duplicate removal")
    ngram: int = Field(5, ge=1, le=64, description="shingle = this many characters of the normalised text")
    num_perm: int = Field(128, ge=2, le=1024, description="MinHash permutations")
    threshold: float = Field(0.7, gt=0.0, lt=1.0, description="Jaccard similarity the LSH is tuned for "
                             "(bands × rows from datasketch's optimiser) and the verification threshold")
    bands: int | None = Field(None, ge=1, description="set bands and rows to bypass the optimiser")
    rows: int | None = Field(None, ge=1)
    seed: int = Field(1, ge=0, description="permutation seed (datasketch.MinHash's `seed`)")
    hash: Literal["fast", "sha1"] = Field("fast", description="shingle hash: `fast` (vectorised) or `sha1` "
                                          "(datasketch's default, slower)")
    scheme: Literal["affine32", "legacy"] = Field("affine32", description="datasketch's permutation scheme")
    verify: bool = Field(False, description="check candidate pairs by exact Jaccard before merging")
    cluster_partitions: int | None = Field(
        None, ge=1, description="partitions of the cluster phases (stars rounds, labels, clusters); default: "
        "one per 16 input shards, at most the band partitions (every item has a fixed cost)")

    @model_validator(mode="after")
    def _bands_rows(self):
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (derived from threshold)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands × rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self

    def lsh(self) -> tuple[int, int]:
        from mdfs.stages.minhash import lsh_params

        return (self.bands, self.rows) if self.bands is not None \
            else lsh_params(self.threshold, self.num_perm)


class Dedup(ExactDedup):
    """The built-in `dedup`: exact and/or near duplicates. With `near.enabled: false` it is exactly
    `ExactDedup` (keys → resolve per bucket); with near duplicates on, the exact digest becomes one
    more LSH band and both kinds share one set of clusters (phases in `stages.neardup`)."""

    class Params(ExactDedup.Params):
        exact: bool = Field(True, description="remove exact duplicates (normalised-text digest)")
        near: NearParams = Field(default_factory=NearParams)

        @model_validator(mode="after")
        def _something_to_do(self):
            if not self.exact and not self.near.enabled:
                raise ValueError("nothing to do: enable exact or near (or disable the stage)")
            return self

    def _plan(self):
        from mdfs.stages.neardup import NearPlan

        bands, rows = self.params.near.lsh()
        return NearPlan(self.params.near, self.params.exact, self.buckets, bands, rows)

    def setup(self) -> None:
        if self.params.near.enabled:
            self._hasher = self._plan().hasher()

    def map_shard(self, batch: pa.Table, work: GlobalWork, ctx: StageContext) -> None:
        work.write_partitioned("ids", id_digests(batch, self.buckets), BUCKET, self.buckets)
        if not self.params.near.enabled:
            return super().map_shard(batch, work, ctx)
        from mdfs.stages import neardup

        neardup.map_shard(self._plan(), self._hasher, batch, work, ctx, self.params.score_column)

    def phases(self, shards: int) -> list[Phase]:
        if self.params.near.enabled:
            main = self._plan().phases(shards, keep_sort(self.params.keep))
        else:
            main = super().phases(shards)
        return [*main, Phase("ids", self.buckets, self._shared_ids)]

    def _shared_ids(self, item: int, work: GlobalWork, ctx: StageContext) -> None:
        report_shared_ids(work.read("ids", item), ctx)


def id_digests(batch: pa.Table, buckets: int) -> pa.Table:
    """Each document's id and a digest of its text, partitioned by id."""
    ids = batch.column("id").to_pylist()
    digests = [hashlib.blake2b((t or "").encode(), digest_size=8).digest()
               for t in batch.column("text").to_pylist()]
    parts = [int.from_bytes(hashlib.blake2b(str(i).encode(), digest_size=4).digest(), "little") % buckets
             for i in ids]
    return pa.table({"id": pa.array(ids, pa.string()), "digest": pa.array(digests, pa.binary(8)),
                     BUCKET: pa.array(parts, pa.int32())})


SHARED_ID_EXAMPLES = 5


def report_shared_ids(table: pa.Table | None, ctx: StageContext) -> None:
    """Ids carried by documents with different texts (input ids are not unique): counted and reported,
    never silently kept as if they named one document. Documents with the same id and the same text are
    exact duplicates, removed by this stage."""
    if table is None or not table.num_rows:
        return
    groups = table.group_by("id").aggregate([("digest", "count_distinct")])
    shared = groups.filter(pc.greater(groups.column("digest_count_distinct"), 1))
    if not shared.num_rows:
        return
    ctx.count("shared_ids", shared.num_rows)
    examples = sorted(shared.column("id").to_pylist())[:SHARED_ID_EXAMPLES]
    ctx.warn(f"shared_ids_{ctx.shard}",
             f"{shared.num_rows} ids are carried by documents with different texts "
             f"(e.g. {', '.join(examples)}): input ids are not unique; dedup counter shared_ids has the "
             "total")
