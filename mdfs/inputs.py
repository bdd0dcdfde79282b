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
import stat
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
    key: str = ""  # digest of the pieces and their files' identities (mdfs.fingerprint)
    limit: int | None = None  # read at most this many records (input.limit)
    web_input: bool = True  # the run reads some WARC or HTML (else web-only columns are left out)
    target: int = 0  # the bytes per shard the input was cut for (kept by the run marker for --update)

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


def is_glob(path: str) -> bool:
    """Wildcards make a glob only when no file or folder has that literal name (`a[1].jsonl` is a file)."""
    if not any(ch in path for ch in "*?["):
        return False
    fs, p = storage.resolve(path)
    return fs.get_file_info(p).type == pafs.FileType.NotFound


def glob_root(path: str) -> str:
    """The folder a glob reads below: everything before the first path component with a wildcard."""
    cut = min(path.index(c) for c in "*?[" if c in path)
    return path[:cut].rsplit("/", 1)[0] if "/" in path[:cut] else "."


def _expand(path: str) -> list[tuple[str, str]]:
    """(file, root) pairs for a file, a folder or a glob, local or URI."""
    path = storage.local_path(path)
    fs, p = storage.resolve(path)
    if is_glob(path):
        root = glob_root(path)
        if storage.is_uri(path):
            files = [f for f in storage.list_files(root) if fnmatch.fnmatch(f, path)]
        else:
            # a matched folder is read whole
            matches = sorted(glob.glob(_literal_folders(path), recursive=True))
            files = sorted({f for m in matches for f in (_walk_local(m) if os.path.isdir(m) else [m])
                            if os.path.isdir(m) or _regular_file(f)})
        return [(f, root) for f in files]
    info = fs.get_file_info(p)
    if info.type == pafs.FileType.NotFound:
        raise InputError(f"input not found: {path}")
    if info.type == pafs.FileType.Directory:
        files = storage.list_files(path) if storage.is_uri(path) else _walk_local(path)
        return [(f, path) for f in files]
    if not storage.is_uri(path) and not _regular_file(path):
        raise InputError(f"{path}: not a regular file (a pipe, device or socket cannot be an input)")
    return [(path, os.path.dirname(path.rstrip("/")) if not storage.is_uri(path) else path.rsplit("/", 1)[0])]


def _literal_folders(pattern: str) -> str:
    """`pattern` with its leading existing folders escaped: in /data/crawl[2024]/*.jsonl the folder
    crawl[2024] exists, so its brackets are part of its name, not a character class."""
    parts = pattern.split("/")
    k = 0
    while k < len(parts) - 1 and os.path.isdir("/".join(parts[:k + 1]) or "/"):
        k += 1
    if k == 0:
        return pattern
    return glob.escape("/".join(parts[:k]) or "/") + "/" + "/".join(parts[k:])


def _regular_file(path: str) -> bool:
    """True for a regular file (through symlinks); FIFOs, devices, sockets and broken links are
    skipped with a warning: reading a FIFO would block the run forever."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        log.warning("skipped %s: %s", path, e.strerror or e)
        return False
    if stat.S_ISREG(mode):
        return True
    if not stat.S_ISDIR(mode):
        log.warning("skipped %s: not a regular file (pipe, device or socket)", path)
    return False


def _walk_local(folder: str) -> list[str]:
    """Files below a local folder, following symlinked folders but entering each real folder once
    (a symlink loop would otherwise list the same files again and again)."""
    seen: set[str] = set()
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            log.warning("skipped %s: a symlink back to %s, already read", dirpath, real)
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        files += [f for f in (os.path.join(dirpath, n) for n in filenames) if _regular_file(f)]
    return sorted(files)


def same_file_key(file: str) -> str:
    """One key per file however it is named (`in`, `./in/f.jsonl`, a symlink): its real path."""
    return file if storage.is_uri(file) else os.path.realpath(file)


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
            key = same_file_key(file)
            if key in seen:
                continue
            seen.add(key)
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


def _line_ranges(file: str, size: int, target: int) -> list[tuple[int, int]]:
    """Byte ranges of about `target` bytes that start at line starts: each cut is moved to just after
    the next newline, so a line longer than `target` is one range (not one empty shard per `target`)."""
    fs, p = storage.resolve(file)
    ranges, start = [], 0
    with fs.open_input_file(p) as f:
        while start < size:
            end = _next_line_start(f, start + target, size)
            ranges.append((start, end))
            start = end
    return ranges


def _next_line_start(f, pos: int, size: int, chunk: int = 1 << 20) -> int:
    """The first offset ≥ pos that starts a line (or the end of the file)."""
    if pos >= size:
        return size
    f.seek(pos - 1)
    while data := f.read(chunk):
        nl = data.find(b"\n")
        if nl >= 0:
            return f.tell() - len(data) + nl + 1
    return size


def plan_shards(cfg: InputConfig, target: int | None = None) -> tuple[list[Shard], list[str]]:
    """The input cut into shards of about `target` bytes (default: `shard_target`; a resumed run passes
    the one it was cut for, so that a changed file changes only its own shards)."""
    files, skipped = discover(cfg)
    sizes = [storage.file_size(file) for file, _, _ in files]
    target = target or shard_target(cfg, sum(sizes))
    pieces: list[Piece] = []
    for (file, rel, kind), size in zip(files, sizes, strict=True):
        if kind == "parquet":
            pieces += _parquet_pieces(file, rel, cfg, target)
            continue
        compression = sniff_compression(file) if size else None
        if kind == "jsonl" and compression is None and size > target:
            pieces += [Piece(file, rel, kind, s, e, e - s) for s, e in _line_ranges(file, size, target)]
        else:
            pieces.append(Piece(file, rel, kind, 0, -1, size, compression))
    shards: list[Shard] = []
    for piece in pieces:
        if not shards or shards[-1].size + piece.size > target and shards[-1].pieces:
            shards.append(Shard(len(shards)))
        shards[-1].pieces.append(piece)
    shards = sample_shards(shards, cfg.limit) if cfg.limit else shards
    web = any(p.kind in ("warc", "html") for s in shards for p in s.pieces)
    for s in shards:
        s.web_input, s.target = web, target
    return shards, skipped


def shard_target(cfg: InputConfig, total: int) -> int:
    """Bytes per shard: `shard_size_mb`, or less for an input that would make fewer than `min_shards`
    shards (never below `min_shard_mb`). It depends on the input alone, never on the engine or the number
    of workers, so serial, local Ray and a cluster cut the same shards and write the same parts."""
    most, fewest = cfg.shard_size_mb * 2**20, cfg.min_shard_mb * 2**20
    return int(min(most, max(fewest, total / cfg.min_shards)))


LIMIT_PER_SHARD = 100  # --limit: at least this many documents from each chosen shard (task overhead)


def sample_shards(shards: list[Shard], limit: int) -> list[Shard]:
    """`limit` documents from shards spread evenly over the plan (not only the first file), the first
    records of each; renumbered from 0. Independent of the engine and the number of workers. A shard
    with fewer records than its share gives what it has (the run then reads fewer than `limit`)."""
    k = min(len(shards), max(1, -(-limit // LIMIT_PER_SHARD)))
    chosen = [shards[i * len(shards) // k] for i in range(k)]
    return [Shard(i, s.pieces, limit=limit // k + (i < limit % k)) for i, s in enumerate(chosen)]
