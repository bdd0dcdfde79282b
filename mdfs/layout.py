"""Names of everything inside a run directory, in one place."""

from __future__ import annotations

from mdfs.storage import join


class RunLayout:
    def __init__(self, root: str):
        self.root = root.rstrip("/")

    def resolve(self, path: str) -> str:
        """A path stored in a marker: relative to the run directory (so the run can be moved), or, in
        markers of older runs, absolute."""
        if "://" in path or path.startswith("/"):
            return path
        return join(self.root, path)

    def relative(self, path: str) -> str:
        return path[len(self.root) + 1:] if path.startswith(self.root + "/") else path

    def relative_files(self, files: list[dict]) -> list[dict]:
        """File entries with paths relative to the run directory, so that a run directory can be moved."""
        return [{**f, "path": self.relative(f["path"])} for f in files]

    def data(self, shard: int) -> str:
        return join(self.root, "data", f"part-{shard:05d}.parquet")

    def work(self, segment: int, shard: int) -> str:
        return join(self.root, "_work", f"seg{segment}", f"part-{shard:05d}.parquet")

    def rejects(self, stage: str, shard: int) -> str:
        return join(self.root, "rejects", stage, f"part-{shard:05d}.parquet")

    def global_dir(self, stage: str, output: str, partition: int | None = None) -> str:
        """Where a global stage keeps one named output, or one partition of it."""
        base = join(self.root, "_work", stage, output)
        return base if partition is None else join(base, f"bucket-{partition:05d}")

    def global_part(self, stage: str, output: str, partition: int, phase: str, part: int) -> str:
        """One writer's share of a partition: the map (`phase` "map", `part` = shard) or a phase's work
        item. Named by phase, so the outputs of a shard's map and of the phases can be told apart."""
        return join(self.global_dir(stage, output, partition), f"{phase}-{part:05d}.parquet")

    def rounds_record(self, stage: str, phase: str) -> str:
        """How many rounds a repeated phase took (written when they converged), for the phases after."""
        return join(self.root, "_work", stage, f"{phase}.rounds.json")

    def removals_dir(self, stage: str) -> str:
        return join(self.root, "_work", stage, "removals")

    def removals(self, stage: str, phase: str, item: int) -> str:
        return join(self.removals_dir(stage), f"{phase}-{item:05d}.parquet")

    def edits_dir(self, stage: str) -> str:
        return join(self.root, "_work", stage, "edits")

    def edits(self, stage: str, phase: str, item: int) -> str:
        return join(self.edits_dir(stage), f"{phase}-{item:05d}.parquet")

    def breadcrumb(self, segment: int, shard: int) -> str:
        """The stage and documents a worker is processing in a shard (see mdfs.breadcrumb)."""
        return join(self.root, "_work", "progress", f"seg{segment}-part-{shard:05d}.json")

    def shard_marker(self, segment: int, shard: int) -> str:
        """Per-shard stats; written last, so it is also the shard's done marker."""
        return join(self.root, "stats", "shards", f"seg{segment}-part-{shard:05d}.json")

    def phase_marker(self, stage: str, phase: str, item: int) -> str:
        """Counters and files of one work item of a global phase; written last, so also its done marker."""
        return join(self.root, "stats", "global", f"{stage}-{phase}-{item:05d}.json")

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
