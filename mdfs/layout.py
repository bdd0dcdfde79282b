"""Names of everything inside a run directory, in one place."""

from __future__ import annotations

from mdfs.storage import join


class RunLayout:
    def __init__(self, root: str):
        self.root = root.rstrip("/")

    def data(self, shard: int) -> str:
        return join(self.root, "data", f"part-{shard:05d}.parquet")

    def work(self, segment: int, shard: int) -> str:
        return join(self.root, "_work", f"seg{segment}", f"part-{shard:05d}.parquet")

    def rejects(self, stage: str, shard: int) -> str:
        return join(self.root, "rejects", stage, f"part-{shard:05d}.parquet")

    def keys_dir(self, stage: str, bucket: int) -> str:
        return join(self.root, "_work", stage, "keys", f"bucket-{bucket:05d}")

    def keys(self, stage: str, bucket: int, shard: int) -> str:
        return join(self.keys_dir(stage, bucket), f"part-{shard:05d}.parquet")

    def removals(self, stage: str, bucket: int) -> str:
        return join(self.root, "_work", stage, "removals", f"bucket-{bucket:05d}.parquet")

    def shard_marker(self, segment: int, shard: int) -> str:
        """Per-shard stats; written last, so it is also the shard's done marker."""
        return join(self.root, "stats", "shards", f"seg{segment}-part-{shard:05d}.json")

    def bucket_marker(self, stage: str, bucket: int) -> str:
        return join(self.root, "stats", "global", f"{stage}-bucket-{bucket:05d}.json")

    @property
    def run_marker(self) -> str:
        return join(self.root, "_mdfs_run.json")

    @property
    def manifest(self) -> str:
        return join(self.root, "manifest.json")

    @property
    def merged_stats(self) -> str:
        return join(self.root, "stats", "stages.json")

    @property
    def work_root(self) -> str:
        return join(self.root, "_work")
