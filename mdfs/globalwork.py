"""What one work item of a global stage reads and writes.

Besides removals (whole rows), an item may write edits: lines to cut out of a row, `shard`, `row`, `line`
(index in `text.split("\n")`) and `kind`. The next segment hands each shard's edits to the stage's
`apply_edits()`, which the default leaves alone (see `mdfs.lineedits` for the line-cutting helper).

Outputs are named and partitioned: `_work/<stage>/<output>/bucket-<partition>/<phase>-<item>.parquet`
(phase `map` for the map over shards), one file per writer, so items never write the same file and a
partition is read by listing its folder. Every
file written is recorded, and goes into the item's done marker: a resumed run trusts an item only when
its marker parses and every file it lists is still there with the same size.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mdfs import storage
from mdfs.layout import RunLayout

REMOVAL_SCHEMA = pa.schema([("shard", pa.int32()), ("row", pa.int64()), ("reason", pa.string()),
                            ("detail", pa.string())])
EDIT_SCHEMA = pa.schema([("shard", pa.int32()), ("row", pa.int64()), ("line", pa.int32()),
                         ("kind", pa.string())])


class GlobalWork:
    def __init__(self, layout: RunLayout, stage: str, phase: str, item: int, *, compression: str,
                 segment: int,
                 shards: int | None = None):
        self.layout, self.stage, self.phase, self.item = layout, stage, phase, item
        self.compression = compression
        self.segment = segment  # the segment whose output documents this global stage sees
        self.shards = shards  # number of shards (known in phases; None in the map)
        self.files: list[dict] = []
        self._removals: list[pa.Table] = []
        self._edits: list[pa.Table] = []
        self.edited = 0  # edit rows written by close()

    # -- writing -------------------------------------------------------------------------------------
    def write(self, output: str, partition: int, table: pa.Table) -> None:
        path = self.layout.global_part(self.stage, output, partition, self.phase, self.item)
        self.files.append({**storage.write_parquet(path, table, self.compression), "kind": "global"})

    def write_partitioned(self, output: str, table: pa.Table, by: str | np.ndarray, partitions: int) -> None:
        """Split `table` by an int partition id in [0, partitions) — a column name (dropped before
        writing) or an array — and write each non-empty partition."""
        if isinstance(by, str):
            ids = np.asarray(table.column(by).to_numpy(zero_copy_only=False), dtype=np.int64)
            table = table.drop_columns([by])
        else:
            ids = np.asarray(by, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= partitions):
            raise ValueError(f"partition ids must be in [0, {partitions})")
        order = np.argsort(ids, kind="stable")
        bounds = np.searchsorted(ids[order], np.arange(partitions + 1))
        for p in np.flatnonzero(np.diff(bounds)):
            self.write(output, int(p), table.take(pa.array(order[bounds[p]:bounds[p + 1]])))

    def write_removals(self, table: pa.Table) -> None:
        """Rows to remove from the shards: `shard`, `row`, `reason`, `detail`."""
        self._removals.append(table.select(REMOVAL_SCHEMA.names).cast(REMOVAL_SCHEMA))

    def write_edits(self, table: pa.Table) -> None:
        """Lines to cut from rows that stay: `shard`, `row`, `line` (index in the text's lines), `kind`
        (what the cut is counted as)."""
        self._edits.append(table.select(EDIT_SCHEMA.names).cast(EDIT_SCHEMA))

    def close(self) -> int:
        """Write the removals and edits gathered by this item; returns how many removals."""
        if self._edits:
            edits = pa.concat_tables(self._edits)
            path = self.layout.edits(self.stage, self.phase, self.item)
            self.files.append({**storage.write_parquet(path, edits, self.compression), "kind": "global"})
            self.edited = edits.num_rows
        if not self._removals:
            return 0
        table = pa.concat_tables(self._removals)
        path = self.layout.removals(self.stage, self.phase, self.item)
        self.files.append({**storage.write_parquet(path, table, self.compression), "kind": "global"})
        return table.num_rows

    # -- reading -------------------------------------------------------------------------------------
    def rounds(self, phase: str) -> int:
        """How many rounds the repeated phase `phase` of this stage took (it converged before this item)."""
        return int(storage.read_json(self.layout.rounds_record(self.stage, phase))["rounds"])

    def read(self, output: str, partition: int, columns: list[str] | None = None) -> pa.Table | None:
        """All parts of one partition (in writer order), or None if nothing was written to it."""
        return _concat(storage.list_files(self.layout.global_dir(self.stage, output, partition)), columns)

    def read_all(self, output: str, columns: list[str] | None = None) -> pa.Table | None:
        """Every partition of an output (small outputs only: edges, not band keys)."""
        return _concat(storage.list_files(self.layout.global_dir(self.stage, output)), columns)

    def read_docs(self, shard: int, rows: np.ndarray, columns: list[str]) -> pa.Table:
        """Rows of the documents this stage saw in `shard`, in the order asked, reading only the row
        groups that hold them."""
        rows = np.asarray(rows, dtype=np.int64)
        fs, path = storage.resolve(self.layout.work(self.segment, shard))
        with fs.open_input_file(path) as f:
            pf = pq.ParquetFile(f)
            sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)]
            starts = np.concatenate([[0], np.cumsum(sizes)])
            if rows.size and (rows.min() < 0 or rows.max() >= starts[-1]):
                raise IndexError(f"rows out of range for shard {shard} ({starts[-1]} rows)")
            groups = np.unique(np.searchsorted(starts, rows, side="right") - 1)
            table = pf.read_row_groups(groups.tolist(), columns=columns)
        # position of each asked row inside the row groups just read
        offset = np.concatenate([[0], np.cumsum([sizes[g] for g in groups])])
        where = np.searchsorted(groups, np.searchsorted(starts, rows, side="right") - 1)
        local = rows - starts[groups[where]] + offset[where]
        return table.take(pa.array(local))


def _concat(files: list[str], columns: list[str] | None) -> pa.Table | None:
    files = [f for f in files if f.endswith(".parquet")]
    if not files:
        return None
    return pa.concat_tables([storage.read_parquet(f, columns) for f in files], promote_options="default")


def removals_for_shard(layout: RunLayout, stage: str, shard: int) -> pa.Table:
    """What the global stage's phases resolved to remove from `shard`: `row`, `reason`, `detail`."""
    return _shard_rows(layout.removals_dir(stage), shard, REMOVAL_SCHEMA)


def edits_for_shard(layout: RunLayout, stage: str, shard: int) -> pa.Table:
    """The lines the global stage's phases resolved to cut from rows of `shard`: `row`, `line`, `kind`."""
    return _shard_rows(layout.edits_dir(stage), shard, EDIT_SCHEMA)


def _shard_rows(folder: str, shard: int, schema: pa.Schema) -> pa.Table:
    """The rows of every Parquet file in `folder` (removals or edits) that concern `shard`, in file order.
    Each file is read whole (one HEAD and one GET on an object store): they are small, and a shard needs
    every one of them, since any phase item may resolve rows of any shard."""
    names = [n for n in schema.names if n != "shard"]
    files = [f for f in storage.list_files(folder) if f.endswith(".parquet")]
    parts = [storage.read_parquet(f, schema.names, filter=pc.field("shard") == shard).select(names)
             for f in files]
    return pa.concat_tables(parts) if parts else schema.empty_table().select(names)
