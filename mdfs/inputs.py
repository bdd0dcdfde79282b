"""Find input files and cut them into shards of roughly `shard_size_mb`.

A shard is a list of pieces: a byte range of a plain JSONL file, a range of Parquet row groups,
a whole compressed file, or a whole text, WARC/WET or HTML file. Small files are packed together;
large splittable files are cut. The plan is a pure function of the inputs and the config, so every
engine and every rerun sees the same shards.
"""

from __future__ import annotations

import fnmatch
import glob
import logging
import os
from dataclasses import dataclass, field

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from mdfs import storage
from mdfs.config import InputConfig
from mdfs.errors import InputError

log = logging.getLogger(__name__)

COMPRESSIONS = (".gz", ".zst", ".zstd")
JSONL_EXT = (".jsonl", ".ndjson", ".json")
WARC_EXT = (".warc", ".wet")
HTML_EXT = (".html", ".htm", ".xhtml")


@dataclass(frozen=True)
class Piece:
    path: str  # path or URI readable by storage.resolve
    rel: str  # path relative to the input root: provenance and default ids
    kind: str  # jsonl | parquet | txt | warc | html
    start: int = 0  # byte offset (jsonl) or first row group (parquet)
    end: int = -1  # exclusive; -1 = to the end
    size: int = 0  # bytes this piece covers, for planning and progress
    compression: str | None = None  # gzip | zstd, from the extension or the file's magic bytes


@dataclass
class Shard:
    index: int
    pieces: list[Piece] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(p.size for p in self.pieces)

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}"


def detect_kind(path: str, forced: str = "auto") -> str | None:
    if forced != "auto":
        return forced
    name = path.lower()
    for ext in COMPRESSIONS:
        name = name.removesuffix(ext)
    if name.endswith(JSONL_EXT):
        return "jsonl"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(".txt"):
        return "txt"
    if name.endswith(WARC_EXT):
        return "warc"
    if name.endswith(HTML_EXT):
        return "html"
    return None


def _expand(path: str) -> list[tuple[str, str]]:
    """(file, root) pairs for a file, a folder or a glob, local or URI."""
    fs, p = storage.resolve(path)
    has_glob = any(ch in path for ch in "*?[")
    if has_glob:
        if storage.is_uri(path):
            root = path[: min(path.index(c) for c in "*?[" if c in path)].rsplit("/", 1)[0]
            files = [f for f in storage.list_files(root) if fnmatch.fnmatch(f, path)]
        else:
            root = os.path.dirname(path.split("*")[0].split("?")[0].split("[")[0]) or "."
            files = sorted(f for f in glob.glob(path, recursive=True) if os.path.isfile(f))
        return [(f, root) for f in files]
    info = fs.get_file_info(p)
    if info.type == pafs.FileType.NotFound:
        raise InputError(f"input not found: {path}")
    if info.type == pafs.FileType.Directory:
        return [(f, path) for f in storage.list_files(path)]
    return [(path, os.path.dirname(path.rstrip("/")) if not storage.is_uri(path) else path.rsplit("/", 1)[0])]


def _rel(file: str, root: str) -> str:
    file_p, root_p = storage.resolve(file)[1], storage.resolve(root)[1]
    rel = os.path.relpath(file_p, root_p) if file_p.startswith(root_p) else os.path.basename(file_p)
    return rel.replace(os.sep, "/")


def discover(cfg: InputConfig) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Return ([(file, rel, kind)], skipped files). A file named explicitly must have a known format."""
    if not cfg.paths:
        raise InputError("no input given: pass --input or set input.paths")
    found, skipped, seen = [], [], set()
    for path in cfg.paths:
        pairs = _expand(path)
        explicit = len(pairs) == 1 and pairs[0][0] == path
        for file, root in pairs:
            if file in seen:
                continue
            seen.add(file)
            kind = detect_kind(file, cfg.format)
            if kind is None:
                if explicit:
                    raise InputError(f"{file}: unknown input format (use .jsonl[.gz|.zst], .parquet, .txt, "
                                     ".warc[.gz], .wet[.gz] or .html, or set input.format)")
                skipped.append(file)
                continue
            found.append((file, _rel(file, root), kind))
    if skipped:
        log.warning("skipped %d files of unknown format, e.g. %s", len(skipped), skipped[:3])
    if not found:
        raise InputError(f"no readable input files in {cfg.paths}")
    return found, skipped


MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}


def sniff_compression(file: str) -> str | None:
    """gzip or zstd by extension, else by magic bytes (a compressed file without its extension)."""
    name = file.lower()
    if name.endswith(".gz"):
        return "gzip"
    if name.endswith((".zst", ".zstd")):
        return "zstd"
    fs, p = storage.resolve(file)
    with fs.open_input_stream(p, compression=None) as f:
        head = f.read(4)
    return next((kind for magic, kind in MAGIC.items() if head.startswith(magic)), None)


def _parquet_pieces(file: str, rel: str, cfg: InputConfig, target: int) -> list[Piece]:
    fs, p = storage.resolve(file)
    try:
        meta = pq.ParquetFile(p, filesystem=fs).metadata
    except Exception as e:  # pyarrow raises several types for a damaged footer
        raise InputError(f"{file}: not a readable Parquet file: {e}") from None
    names = meta.schema.names
    if cfg.text_field not in names:
        raise InputError(f"{file}: no text column {cfg.text_field!r} (columns: {names}); "
                         "set input.text_field")
    pieces, start, acc = [], 0, 0
    for rg in range(meta.num_row_groups):
        acc += meta.row_group(rg).total_byte_size
        if acc >= target:
            pieces.append(Piece(file, rel, "parquet", start, rg + 1, acc))
            start, acc = rg + 1, 0
    if start < meta.num_row_groups or not pieces:
        pieces.append(Piece(file, rel, "parquet", start, meta.num_row_groups, acc))
    return pieces


def plan_shards(cfg: InputConfig) -> tuple[list[Shard], list[str]]:
    files, skipped = discover(cfg)
    target = int(cfg.shard_size_mb * 1024 * 1024)
    pieces: list[Piece] = []
    for file, rel, kind in files:
        size = storage.file_size(file)
        if kind == "parquet":
            pieces += _parquet_pieces(file, rel, cfg, target)
            continue
        compression = sniff_compression(file) if size else None
        if kind == "jsonl" and compression is None and size > target:
            pieces += [Piece(file, rel, kind, s, min(s + target, size), min(target, size - s))
                       for s in range(0, size, target)]
        else:
            pieces.append(Piece(file, rel, kind, 0, -1, size, compression))
    shards: list[Shard] = []
    for piece in pieces:
        if not shards or shards[-1].size + piece.size > target and shards[-1].pieces:
            shards.append(Shard(len(shards)))
        shards[-1].pieces.append(piece)
    return shards, skipped
