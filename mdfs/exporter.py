"""`mdfs export`: turn a run's corpus into training-ready files of a target size.

A run writes one Parquet part per input shard: sizes follow the input, and the order follows the crawl.
Trainers and tokenisers want files of a chosen size, only the columns they read, often JSONL, and often a
shuffled order. Export reads `data/` and writes `part-NNNNN.<ext>` files of about `target_mb` each, plus
`_export.json` (files, rows, bytes, sha256, columns, seed).

Shuffle is deterministic and needs no global sort in memory: every row gets a key, a hash of (seed, id);
pass 1 scatters the rows of each part into as many buckets as there will be output files (bucket = key
mod n); pass 2 sorts each bucket by key and writes it as one output file. Memory per step is one part or
one bucket (about `target_mb` of compressed data). Both passes are independent per part and per bucket,
so they spread over a cluster the same way; here they run in this process.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import zstandard

from mdfs import storage
from mdfs.errors import InputError, OutputError
from mdfs.metadata import concat, conform, unified_schema
from mdfs.runguard import check_paths, within

log = logging.getLogger(__name__)
FORMATS = {"parquet": ".parquet", "jsonl": ".jsonl", "jsonl.zst": ".jsonl.zst"}
KEY = "__export_key"


def export(source: str, output: str, *, fmt: str = "parquet", columns: list[str] | None = None,
           target_mb: float = 512.0, shuffle_seed: int | None = None, compression: str = "zstd",
           corpus: str | None = None) -> dict:
    """Write the corpus under `source` (a run directory or a folder of Parquet parts) to `output`."""
    if fmt not in FORMATS:
        raise OutputError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    parts = _parts(source)
    # parts may differ in input columns (metadata present in some shards only) or in a JSON field's type
    schema, clash = unified_schema([pq.read_schema(storage.resolve(p)[1], filesystem=storage.resolve(p)[0])
                                    for p in parts])
    missing = [c for c in columns or [] if c not in schema.names]
    if missing:
        raise InputError(f"{source}: no column {', '.join(missing)} (columns: {', '.join(schema.names)})")
    if columns:
        schema = pa.schema([schema.field(c) for c in columns])
    if not storage.is_empty_dir(output):
        raise OutputError(f"{output} is not empty: export writes into a new or empty folder")
    target = int(target_mb * 1024 * 1024)
    writer = _Writer(output, fmt, compression, target)
    if shuffle_seed is None:
        for part in parts:
            for batch in _read(part, columns):
                writer.write(conform(batch, schema, clash))
    else:
        buckets = max(1, math.ceil(sum(storage.file_size(p) for p in parts) / target))
        scratch = storage.join(output, "_scatter")
        for i, part in enumerate(parts):
            _scatter(part, columns, shuffle_seed, buckets, scratch, i)
        for b in range(buckets):
            table = _gather(scratch, b)
            if table is not None:
                writer.write(conform(table.drop_columns([KEY]), schema, clash))
                writer.roll()  # one output file per bucket
        storage.delete_dir(scratch)
    files = writer.close()
    manifest = {"source": source, "format": fmt, "columns": columns or schema.names, "target_mb": target_mb,
                "shuffle_seed": shuffle_seed, "rows": sum(f["rows"] for f in files), "files": files,
                **({"corpus": corpus} if corpus else {})}
    storage.write_json(storage.join(output, "_export.json"), manifest)
    return manifest


def export_path(root: str, cfg) -> str:
    return cfg.path or storage.join(root, "export")


def check_export_path(cfg, root: str, inputs: list[str], shards: list) -> None:
    """Before any work: the final export replaces its folder, so that folder may be neither the run nor
    hold it, nor overlap an input (its parts would be read as input next time: the same rule as for the
    run's output), nor hold anything but an earlier export."""
    if cfg is None:
        return
    out = export_path(root, cfg)
    if within(root, out):
        raise OutputError(f"output.export.path {out} is the run directory or holds it: name a folder of "
                          "its own")
    check_paths(inputs, shards, out)
    _check_replaceable(out)


def _check_replaceable(output: str) -> None:
    if not storage.is_empty_dir(output) and not storage.exists(storage.join(output, "_export.json")):
        raise OutputError(f"{output} is not empty and holds no earlier export (_export.json): refusing to "
                          "replace it; name an empty or new folder in output.export.path")


def export_run(root: str, cfg) -> dict | None:
    """The run's final step when `output.export` is set: export `data/` unless the export already there
    was made from exactly these parts with these settings (a resumed, finished run); a changed corpus or
    changed settings export anew, so an export is never stale. A folder that holds anything but an
    earlier export is never emptied."""
    if cfg is None:
        return None
    output = export_path(root, cfg)
    settings = cfg.model_dump(mode="json", exclude={"path"})
    source = corpus_digest(storage.read_json(storage.join(root, "manifest.json")), settings)
    done = storage.join(output, "_export.json")
    if storage.exists(done):
        if storage.read_json(done).get("corpus") == source:
            log.info("export: %s is up to date", output)
            return None
    else:
        _check_replaceable(output)
    storage.delete_dir(output)
    return export(root, output, fmt=cfg.format, columns=cfg.columns, target_mb=cfg.target_mb,
                  shuffle_seed=cfg.shuffle_seed, corpus=source)


def corpus_digest(manifest: dict, settings: dict) -> str:
    """A digest of the corpus parts a run's manifest lists (names and sha256) and the export settings."""
    parts = sorted((f["path"], f.get("sha256")) for f in manifest["files"] if f.get("kind") == "data")
    return hashlib.sha256(json.dumps([parts, settings], sort_keys=True).encode()).hexdigest()[:16]


def _parts(source: str) -> list[str]:
    data = storage.join(source, "data")
    folder = data if storage.exists(data) else source
    parts = [p for p in storage.list_files(folder) if p.endswith(".parquet") and not _hidden(p)]
    if not parts:
        raise InputError(f"{source}: no Parquet parts to export (a run directory or a folder of "
                         f".parquet files)")
    return parts


def _hidden(path: str) -> bool:
    return path.rsplit("/", 1)[-1].startswith((".", "_"))


def _read(path: str, columns: list[str] | None, batch_rows: int = 8192) -> Iterator[pa.Table]:
    """Batches of the `columns` this part has (a part may lack an input field; conform() adds it)."""
    fs, p = storage.resolve(path)
    with fs.open_input_file(p) as f:
        pf = pq.ParquetFile(f)
        present = None if columns is None else [c for c in columns if c in pf.schema_arrow.names]
        for batch in pf.iter_batches(batch_size=batch_rows, columns=present):
            yield pa.Table.from_batches([batch])


def shuffle_keys(ids: pa.Array, seed: int) -> list[int]:
    """A stable pseudo-random 64-bit key per id: the same seed gives the same order on any machine."""
    salt = seed.to_bytes(8, "little", signed=False)
    return [int.from_bytes(hashlib.blake2b(str(i).encode(), digest_size=8, key=salt).digest(), "little")
            for i in ids.to_pylist()]


def _scatter(part: str, columns, seed: int, buckets: int, scratch: str, index: int) -> None:
    read = columns if columns is None or "id" in columns else [*columns, "id"]
    tables = list(_read(part, read))
    table = pa.concat_tables(tables) if tables else None
    if table is None or not table.num_rows:
        return
    keys = shuffle_keys(table.column("id"), seed)
    table = table.append_column(KEY, pa.array(keys, pa.uint64()))
    if columns is not None and "id" not in columns:
        table = table.drop_columns(["id"])
    which = pa.array([k % buckets for k in keys], pa.int32())
    for b in range(buckets):
        rows = table.filter(pc.equal(which, b))
        if rows.num_rows:
            storage.write_parquet(storage.join(scratch, f"bucket-{b:05d}", f"part-{index:05d}.parquet"), rows)


def _gather(scratch: str, bucket: int) -> pa.Table | None:
    files = [f for f in storage.list_files(storage.join(scratch, f"bucket-{bucket:05d}"))
             if f.endswith(".parquet")]
    if not files:
        return None
    table = concat([storage.read_parquet(f) for f in files])
    return table.take(pc.sort_indices(table, sort_keys=[(KEY, "ascending")]))


class _Writer:
    """Rolls output files at about `target` bytes (measured on the compressed stream as it is written)."""

    def __init__(self, output: str, fmt: str, compression: str, target: int):
        self.output, self.fmt, self.compression, self.target = output, fmt, compression, target
        self.files: list[dict] = []
        self._sink: io.BytesIO | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._zstd = None
        self._rows = 0

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        if self._sink is None:
            self._open(table.schema)
        if self._parquet is not None:
            self._parquet.write_table(table)
        else:
            for batch in table.to_batches(4096):  # not the whole bucket as Python objects at once
                lines = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n"
                                for r in batch.to_pylist())
                (self._zstd or self._sink).write(lines.encode())
        self._rows += table.num_rows
        if self._sink.tell() >= self.target:
            self.roll()

    def _open(self, schema: pa.Schema) -> None:
        self._sink = io.BytesIO()
        if self.fmt == "parquet":
            codec = None if self.compression == "none" else self.compression
            self._parquet = pq.ParquetWriter(self._sink, schema, compression=codec)
        elif self.fmt == "jsonl.zst":
            self._zstd = zstandard.ZstdCompressor(level=3).stream_writer(self._sink, closefd=False)

    def roll(self) -> None:
        """Finish the current file (if any); the next write starts a new one."""
        if self._sink is None:
            return
        if self._parquet is not None:
            self._parquet.close()
        if self._zstd is not None:
            self._zstd.close()
        name = f"part-{len(self.files):05d}{FORMATS[self.fmt]}"
        data = self._sink.getvalue()
        digest = storage.write_bytes(storage.join(self.output, name), data)
        self.files.append({"path": name, "rows": self._rows, "bytes": len(data), "sha256": digest})
        log.info("export: %s (%d rows, %.1f MB)", name, self._rows, len(data) / 1e6)
        self._sink, self._parquet, self._zstd, self._rows = None, None, None, 0

    def close(self) -> list[dict]:
        self.roll()
        return self.files
