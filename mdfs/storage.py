"""One place for file systems: local paths and object-store URIs (s3://...) through pyarrow.fs.

Every write goes through `write_bytes`, which is atomic: a local file is written under a temporary
name and renamed; an object-store PUT is atomic by itself. A full disk surfaces as OutputError.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import uuid
from functools import lru_cache

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from mdfs.errors import OutputError


def is_uri(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


@lru_cache(maxsize=32)
def _fs_for_uri(scheme_and_bucket: str) -> pafs.FileSystem:
    if scheme_and_bucket.startswith("s3://"):
        # Honour AWS_ENDPOINT_URL so S3-compatible stores (MinIO, moto, Ceph) work without code changes.
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
        kwargs = {}
        if endpoint:
            scheme = "https" if endpoint.startswith("https") else "http"
            kwargs = {"endpoint_override": endpoint.split("://", 1)[1], "scheme": scheme}
        region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")
        if region:
            kwargs["region"] = region
        # delayed open: a small object is one PUT, not a multipart upload (create, part, complete) after a
        # HEAD
        return pafs.S3FileSystem(allow_delayed_open=True, **kwargs)
    fs, _ = pafs.FileSystem.from_uri(scheme_and_bucket)
    return fs


def resolve(path: str) -> tuple[pafs.FileSystem, str]:
    """Return (filesystem, path inside it) for a local path or URI."""
    path = path.removeprefix("file://")
    if is_uri(path):
        scheme, rest = path.split("://", 1)
        return _fs_for_uri(f"{scheme}://"), rest.rstrip("/")
    return pafs.LocalFileSystem(), os.path.abspath(path)


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


TEMP_MARK = ".tmp-"  # in the name of a file being written: `.<name>.tmp-<id>`, renamed when complete


def write_bytes(path: str, data: bytes) -> str:
    """Atomically write `data` to `path`; returns its sha256."""
    fs, p = resolve(path)
    digest = hashlib.sha256(data).hexdigest()
    try:
        if isinstance(fs, pafs.LocalFileSystem):
            os.makedirs(os.path.dirname(p), exist_ok=True)
            # dot-prefixed: readers of a folder (pyarrow.dataset, Spark, duckdb) skip it if a kill leaves it
            head, name = os.path.split(p)
            tmp = os.path.join(head, f".{name}{TEMP_MARK}{uuid.uuid4().hex[:8]}")
            try:
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, p)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        else:
            with fs.open_output_stream(p) as f:
                f.write(data)
    except OSError as e:
        hint = " (disk full)" if getattr(e, "errno", None) == errno.ENOSPC or "No space" in str(e) else ""
        raise OutputError(f"cannot write {path}{hint}: {e}") from None
    return digest


def write_json(path: str, obj) -> str:
    return write_bytes(path, json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True).encode())


def read_bytes(path: str) -> bytes:
    fs, p = resolve(path)
    with fs.open_input_stream(p) as f:
        return f.read()


def read_json(path: str):
    return json.loads(read_bytes(path))


def exists(path: str) -> bool:
    fs, p = resolve(path)
    return fs.get_file_info(p).type != pafs.FileType.NotFound


def sha256(path: str, start: int = 0, end: int = -1, chunk: int = 1 << 20) -> str:
    """sha256 of a file, or of its bytes [start, end) (end -1: to the end)."""
    fs, p = resolve(path)
    h = hashlib.sha256()
    with fs.open_input_file(p) as f:
        f.seek(start)
        left = None if end < 0 else end - start
        while left is None or left > 0:
            data = f.read(chunk if left is None else min(chunk, left))
            if not data:
                break
            h.update(data)
            if left is not None:
                left -= len(data)
    return h.hexdigest()


def size_if_exists(path: str) -> int | None:
    """The size of a file, or None if there is none: one metadata call where exists() + file_size() make
    two."""
    fs, p = resolve(path)
    info = fs.get_file_info(p)
    return None if info.type == pafs.FileType.NotFound else (info.size or 0)


def file_size(path: str) -> int:
    fs, p = resolve(path)
    return fs.get_file_info(p).size or 0


def list_files(path: str, recursive: bool = True) -> list[str]:
    """Files under `path` (sorted, as paths/URIs of the same form as `path`)."""
    fs, p = resolve(path)
    info = fs.get_file_info(pafs.FileSelector(p, recursive=recursive, allow_not_found=True))
    prefix = path.split("://", 1)[0] + "://" if is_uri(path) else ""
    return sorted(prefix + i.path for i in info if i.type == pafs.FileType.File)


def list_sizes(path: str) -> dict[str, int]:
    """The files directly in folder `path` and their sizes, in one listing (paths of the same form)."""
    fs, p = resolve(path)
    infos = fs.get_file_info(pafs.FileSelector(p, recursive=False, allow_not_found=True))
    prefix = path.split("://", 1)[0] + "://" if is_uri(path) else ""
    return {prefix + i.path: i.size for i in infos if i.type == pafs.FileType.File}


def list_names(path: str) -> list[str]:
    """Names of the files and folders directly in `path`."""
    fs, p = resolve(path)
    infos = fs.get_file_info(pafs.FileSelector(p, recursive=False, allow_not_found=True))
    return sorted(i.base_name for i in infos)


def local_path(path: str) -> str:
    """A local path without a `file://` prefix (os functions do not understand it)."""
    return path.removeprefix("file://")


def is_empty_dir(path: str) -> bool:
    fs, p = resolve(path)
    info = fs.get_file_info(p)
    if info.type == pafs.FileType.NotFound:
        return True
    return not fs.get_file_info(pafs.FileSelector(p, recursive=False, allow_not_found=True))


def delete_file(path: str) -> None:
    """Delete a file if it is there (a missing file is not an error: cleanup is idempotent)."""
    fs, p = resolve(path)
    try:
        fs.delete_file(p)
    except (FileNotFoundError, OSError):
        pass


def delete_dir(path: str) -> None:
    fs, p = resolve(path)
    if fs.get_file_info(p).type != pafs.FileType.NotFound:
        fs.delete_dir(p)


def table_to_parquet_bytes(table: pa.Table, compression: str = "zstd") -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(
        table, sink, compression=None if compression == "none" else compression,
        row_group_size=64 * 1024, write_statistics=True,
    )
    return sink.getvalue().to_pybytes()


def write_parquet(path: str, table: pa.Table, compression: str = "zstd") -> dict:
    """Atomically write a Parquet file; returns its entry for the manifest."""
    data = table_to_parquet_bytes(table, compression)
    return {"path": path, "rows": table.num_rows, "bytes": len(data), "sha256": write_bytes(path, data)}


WHOLE_READ_BYTES = 32 << 20  # an object this small is fetched in one GET, then parsed in memory


def read_parquet(path: str, columns: list[str] | None = None, filter=None) -> pa.Table:
    """Read a Parquet file. On an object store, `pq.read_table(path)` costs three HEADs and two GETs
    (dataset discovery, open, footer, data); opening the object once costs one HEAD, and a small object
    is then fetched whole in a single GET (parts, keys, removals and markers are mostly small)."""
    fs, p = resolve(path)
    if isinstance(fs, pafs.LocalFileSystem):
        if filter is None:  # one file needs no dataset discovery: ~3x less CPU (global phases read many)
            with pq.ParquetFile(p) as pf:
                if columns is None or _plain_subset(columns, pf.schema_arrow.names):
                    return pf.read(columns=columns)
        return pq.read_table(p, filesystem=fs, columns=columns, filters=filter)
    with fs.open_input_file(p) as f:
        source = pa.BufferReader(f.read()) if f.size() <= WHOLE_READ_BYTES else f
        return pq.read_table(source, columns=columns, filters=filter)


def _plain_subset(columns: list[str], names: list[str]) -> bool:
    """Distinct top-level columns that all exist: there ParquetFile.read returns what read_table does
    (it drops a missing column silently where read_table, and so an object store, raises)."""
    return len(set(columns)) == len(columns) and set(columns) <= set(names)


STORAGE_HINTS = (
    (("NETWORK_CONNECTION", "Could not connect", "Couldn't resolve host", "Could not resolve host"),
     "cannot reach the object store{endpoint}: is it running, and is AWS_ENDPOINT_URL right?"),
    (("ACCESS_DENIED", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "No credentials",
      "Unable to locate credentials", "ExpiredToken"),
     "the object store refused the credentials: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY "
     "(or AWS_PROFILE)"),
    (("NoSuchBucket", "NO_SUCH_BUCKET", "Bucket does not exist"), "the bucket does not exist"),
)


def explain(error: OSError) -> str:
    """One line for a storage failure: what went wrong in words, then the library's own message."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    for needles, hint in STORAGE_HINTS:
        if any(n in text for n in needles):
            endpoint = os.environ.get("AWS_ENDPOINT_URL")
            return f"{hint.format(endpoint=f' at {endpoint}' if endpoint else '')} ({text})"
    return text
