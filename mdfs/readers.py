"""Read shard pieces into Arrow batches of documents, quarantining what cannot be read.

Bad records never crash a run and are never dropped silently: each becomes a reject of the
pseudo-stage `read` with a reason (malformed_json, invalid_utf8, missing_text, empty_text,
too_large, undecodable, undecodable_file, corrupt_file; for WARC/HTML also http_status, not_html,
binary_payload, truncated_record, bad_content_length, bad_record, bad_http_encoding) and enough of its bytes
to look at. Reading is bounded: no record over `input.max_doc_mb` is ever held whole (`mdfs/lines.py`,
`mdfs/streams.py`), and nothing decoded from a damaged gzip member or zstd frame is trusted blindly.

Every kind yields the same schema (DOC_SCHEMA). Text inputs fill `text`; web inputs (WARC, WET, HTML
files) cannot decode their bytes here without guessing, so they leave `text` null and carry the payload
in the binary column `raw` with its provenance; the collection stage decodes, extracts and drops `raw`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from mdfs import metadata, storage
from mdfs.config import InputConfig
from mdfs.inputs import Piece
from mdfs.lines import NEWLINES, SAMPLE_BYTES, Line, iter_lines, looks_chinese, sniff_encoding
from mdfs.streams import ERRORS as STREAM_ERRORS
from mdfs.streams import Damage, Decompressed, check_stream
from mdfs.warc import DecodedStream, RawRecord, iter_records, looks_binary

DOC_SCHEMA = pa.schema([
    ("id", pa.string()), ("text", pa.string()), ("url", pa.string()), ("source", pa.string()),
    ("domain", pa.string()), ("fetch_date", pa.timestamp("ms", tz="UTC")), ("warc_record_id", pa.string()),
    ("content_type", pa.string()), ("http_charset", pa.string()),
    ("raw", pa.large_binary()),  # undecoded web payload; null for text inputs; dropped by collection
])
WEB_FIELDS = ("domain", "fetch_date", "warc_record_id", "content_type", "http_charset", "raw")
PREVIEW_CHARS = 2000
BATCH_RAW_BYTES = 64 << 20  # a batch of web pages is cut at this many payload bytes


@dataclass
class ReadBatch:
    """Documents read so far plus the records quarantined on the way."""

    docs: dict[str, list] = field(default_factory=lambda: {n: [] for n in DOC_SCHEMA.names})
    bad: list[dict] = field(default_factory=list)
    bytes_read: int = 0
    meta: list[dict | None] = field(default_factory=list)  # kept input fields per document (JSONL)
    meta_table: pa.Table | None = None  # kept input columns, one row per document (Parquet)
    meta_prefix: str = ""

    def add(self, id_: str, text: str, url, source: str, meta: dict | None = None) -> None:
        for k, v in (("id", id_), ("text", text), ("url", url), ("source", source)):
            self.docs[k].append(v)
        for k in WEB_FIELDS:
            self.docs[k].append(None)
        self.meta.append(meta)

    def add_web(self, rec: RawRecord, source: str) -> None:
        """A web payload still to be decoded by the collection stage (text stays null)."""
        for k, v in (("id", rec.id), ("text", None), ("url", rec.url), ("source", source),
                     ("domain", rec.domain), ("fetch_date", rec.fetch_date),
                     ("warc_record_id", rec.record_id),
                     ("content_type", rec.content_type), ("http_charset", rec.http_charset),
                     ("raw", rec.raw)):
            self.docs[k].append(v)
        self.meta.append(None)

    def quarantine(self, id_: str, reason: str, detail: str, preview, source: str) -> None:
        if isinstance(preview, bytes):
            head = preview[: PREVIEW_CHARS * 3]
            preview = decode_text(head) or head.decode("utf-8", errors="replace")
        self.bad.append({"id": id_, "reason": reason, "detail": detail,
                         "text": (preview or "")[:PREVIEW_CHARS], "source": source})

    def __len__(self) -> int:
        return len(self.docs["id"]) + len(self.bad)

    def table(self) -> pa.Table:
        table = pa.table(self.docs, schema=DOC_SCHEMA)
        if self.meta_table is not None:
            extra = {metadata.column_name(n, self.meta_prefix): c
                     for n, c in zip(self.meta_table.column_names, self.meta_table.columns)}
        else:
            extra = metadata.columns_from_records(self.meta, self.meta_prefix) if any(self.meta) else {}
        for name, column in extra.items():
            table = table.append_column(name, column)
        return table


class PieceReader:
    def __init__(self, cfg: InputConfig, batch_docs: int = 2000):
        self.cfg = cfg
        self.batch_docs = batch_docs
        self.max_bytes = int(cfg.max_doc_mb * 1024 * 1024)

    def read(self, piece: Piece) -> Iterator[ReadBatch]:
        reader = {"jsonl": self._jsonl, "parquet": self._parquet, "txt": self._txt, "warc": self._warc,
                  "html": self._html}[piece.kind]
        yield from reader(piece)

    # -- JSONL ---------------------------------------------------------------------------------
    def _open(self, piece: Piece):
        fs, p = storage.resolve(piece.path)
        return fs.open_input_stream(p, compression=None)

    def _head(self, piece: Piece) -> bytes:
        """The first bytes of the (decompressed) file, to decide its encoding; short if it is damaged."""
        out, size = [], 0
        try:
            for chunk in Decompressed(self._open(piece), piece.compression, chunk_size=SAMPLE_BYTES):
                out.append(chunk)
                size += len(chunk)
                if size >= SAMPLE_BYTES:
                    break
        except STREAM_ERRORS:
            pass
        return b"".join(out)[:SAMPLE_BYTES]

    def _lines(self, piece: Piece, newline: bytes, damage: Damage | None) -> Iterator[Line]:
        """The lines of the piece: a byte range of a plain file, or a whole compressed file."""
        if piece.compression:
            careful = damage.raw_at if damage else None
            return iter_lines(Decompressed(self._open(piece), piece.compression, careful_from=careful),
                              self.max_bytes, 0, newline)
        unit = len(newline)
        # a line belongs to the piece holding its first byte: start on the code unit before the range
        # and skip the line we land in
        first = 0 if piece.start <= 0 else -(-piece.start // unit) * unit - unit
        fs, p = storage.resolve(piece.path)
        f = fs.open_input_file(p)
        f.seek(first)
        return iter_lines(Decompressed(f, None), self.max_bytes, first, newline, skip_first=piece.start > 0,
                          until=piece.end if piece.end >= 0 else None)

    def _jsonl(self, piece: Piece) -> Iterator[ReadBatch]:
        batch = ReadBatch(meta_prefix=self.cfg.metadata_prefix)
        damage = check_stream(self._open(piece), piece.compression) if piece.compression else None
        head = self._head(piece)
        encoding, bom = sniff_encoding(head)
        if encoding is None and damage:  # the sample may be garbage from the damage: read line by line,
            encoding = "utf-8"           # the damage rule below stops at the first unreadable line
        if encoding is None:
            if piece.start <= 0:  # one reason for the whole file, from its first piece
                batch.quarantine(piece.rel, "undecodable_file", f"{piece.path}: not JSONL text in UTF-8, "
                                 "UTF-16 (with BOM) or GB18030: the whole file is skipped", head, piece.rel)
                yield batch
            return
        lines, pos = self._lines(piece, NEWLINES[encoding], damage), max(piece.start, 0)
        while True:
            try:
                line = next(lines, None)
            except STREAM_ERRORS as e:
                batch.quarantine(f"{piece.rel}@{pos}", "corrupt_file", _damage_detail(piece, pos, e, damage),
                                 b"", piece.rel)
                break
            if line is None or 0 <= piece.end <= line.offset:
                break
            pos = line.offset + line.size
            batch.bytes_read += line.size
            if line.data.strip():
                bad = len(batch.bad)
                self._jsonl_record(line, encoding, bom, piece, batch)
                if damage and line.offset >= damage.member_start and len(batch.bad) > bad:
                    # inside the member that fails its checksum, the first unreadable record is where the
                    # damage shows: what follows may be well-formed garbage, so it is not read
                    batch.bad.pop()
                    batch.quarantine(f"{piece.rel}@{line.offset}", "corrupt_file",
                                     _damage_detail(piece, line.offset, damage.error, damage), b"", piece.rel)
                    break
            if len(batch) >= self.batch_docs:
                yield batch
                batch = ReadBatch(meta_prefix=self.cfg.metadata_prefix)
        if len(batch):
            yield batch

    def _jsonl_record(self, line: Line, encoding: str, bom: int, piece: Piece, batch: ReadBatch) -> None:
        cfg = self.cfg
        rid, raw = f"{piece.rel}@{line.offset}", line.data
        if line.too_large(self.max_bytes):
            batch.quarantine(rid, "too_large", f"{piece.path}: record of {line.size} bytes at byte "
                             f"{line.offset} > input.max_doc_mb ({cfg.max_doc_mb} MB)", raw, piece.rel)
            return
        if line.offset == 0 and bom:
            raw = raw[bom:]
        try:
            text_line = _decode_line(raw, encoding)
        except UnicodeDecodeError as e:
            reason = "invalid_utf8" if encoding == "utf-8" else "undecodable"
            batch.quarantine(rid, reason, f"{piece.path}: {e} (file read as {encoding})", raw, piece.rel)
            return
        try:
            rec = json.loads(text_line)
        except ValueError as e:  # JSONDecodeError, or an integer over Python's int/str digit limit
            batch.quarantine(rid, "malformed_json", f"{piece.path}: {e}", text_line, piece.rel)
            return
        except RecursionError:
            batch.quarantine(rid, "malformed_json",
                             f"{piece.path}: JSON nested deeper than Python's recursion "
                             "limit", text_line, piece.rel)
            return
        if not isinstance(rec, dict):
            batch.quarantine(rid, "malformed_json",
                             f"{piece.path}: a JSON {type(rec).__name__}, not an object",
                             text_line, piece.rel)
            return
        text = rec.get(cfg.text_field)
        rid = str(rec[cfg.id_field]) if cfg.id_field and rec.get(cfg.id_field) is not None else rid
        url = rec.get(cfg.url_field) if cfg.url_field else None
        if ("\\ud" in text_line or "\\uD" in text_line) and not _encodable(text, rid, url):
            batch.quarantine(rid.encode("utf-8", "replace").decode(), "invalid_utf8",
                             f"{piece.path}: a lone UTF-16 surrogate escape", text_line, piece.rel)
            return
        if not isinstance(text, str):
            batch.quarantine(rid, "missing_text", f"{piece.path}: field {cfg.text_field!r} missing or not a "
                             "string", text_line, piece.rel)
        elif not text.strip():
            batch.quarantine(rid, "empty_text", "", "", piece.rel)
        else:
            consumed = (cfg.text_field, cfg.id_field, cfg.url_field)
            meta = {k: v for k, v in rec.items() if k not in consumed and metadata.wanted(k, cfg)}
            batch.add(rid, text, url if isinstance(url, str) else None, piece.rel, meta or None)

    # -- Parquet -------------------------------------------------------------------------------
    def _parquet(self, piece: Piece) -> Iterator[ReadBatch]:
        cfg = self.cfg
        fs, p = storage.resolve(piece.path)
        pf = pq.ParquetFile(p, filesystem=fs)
        cols = [c for c in (cfg.text_field, cfg.id_field, cfg.url_field) if c and c in pf.schema_arrow.names]
        extra = [c for c in pf.schema_arrow.names if c not in cols and metadata.wanted(c, cfg)]
        row = sum(pf.metadata.row_group(i).num_rows for i in range(piece.start))
        for rg in range(piece.start, piece.end):
            try:
                t = pf.read_row_group(rg, columns=cols + extra)
            except Exception as e:  # damaged pages: pyarrow raises OSError or ArrowInvalid
                batch = ReadBatch()
                batch.quarantine(f"{piece.rel}#rg{rg}", "corrupt_file", f"{piece.path}: row group {rg}: {e}",
                                 b"", piece.rel)
                yield batch
                continue
            batch = ReadBatch(bytes_read=pf.metadata.row_group(rg).total_byte_size,
                              meta_prefix=cfg.metadata_prefix)
            kept: list[int] = []
            texts = t.column(cfg.text_field).to_pylist()
            ids = t.column(cfg.id_field).to_pylist() if cfg.id_field in cols else [None] * len(texts)
            urls = t.column(cfg.url_field).to_pylist() if cfg.url_field in cols else [None] * len(texts)
            for i, (text, id_, url) in enumerate(zip(texts, ids, urls)):
                id_, url = _as_str(id_), _as_str(url)
                rid = str(id_) if id_ is not None else f"{piece.rel}#{row + i}"
                if isinstance(text, bytes):  # a binary column: text only if it is UTF-8
                    try:
                        text = text.decode("utf-8")
                    except UnicodeDecodeError as e:
                        batch.quarantine(rid, "invalid_utf8", f"{piece.path}: row {row + i}: binary column "
                                         f"{cfg.text_field!r} is not UTF-8: {e}", text, piece.rel)
                        continue
                if not isinstance(text, str):
                    what = "null" if text is None else f"a {type(text).__name__}, not text"
                    batch.quarantine(rid, "missing_text", f"{piece.path}: {cfg.text_field!r} is {what}", "",
                                     piece.rel)
                elif not text.strip():
                    batch.quarantine(rid, "empty_text", "", "", piece.rel)
                elif len(text) * 3 > self.max_bytes and len(text.encode()) > self.max_bytes:
                    batch.quarantine(rid, "too_large",
                                     f"{piece.path}: {len(text)} characters > input.max_doc_mb",
                                     text, piece.rel)
                else:
                    batch.add(rid, text, url if isinstance(url, str) else None, piece.rel)
                    kept.append(i)
            if extra:
                batch.meta_table = t.select(extra).take(pa.array(kept, pa.int64()))
            row += len(texts)
            yield batch

    # -- Plain text: one document per file ----------------------------------------------------
    def _whole_file(self, piece: Piece, batch: ReadBatch) -> bytes | None:
        """The file's bytes (one document per file), or None after quarantining it as corrupt/too large."""
        fs, p = storage.resolve(piece.path)
        try:
            with fs.open_input_stream(p, compression=piece.compression) as f:
                raw = f.read(self.max_bytes + 1)
        except (OSError, EOFError, zlib.error) as e:
            batch.quarantine(piece.rel, "corrupt_file", f"{piece.path}: {e}", b"", piece.rel)
            return None
        batch.bytes_read = len(raw)
        if len(raw) > self.max_bytes:
            batch.quarantine(piece.rel, "too_large", f"{piece.path}: larger than input.max_doc_mb", raw,
                             piece.rel)
            return None
        return raw

    def _txt(self, piece: Piece) -> Iterator[ReadBatch]:
        batch = ReadBatch()
        raw = self._whole_file(piece, batch)
        if raw is not None:
            text = decode_text(raw)
            if text is None:
                batch.quarantine(piece.rel, "undecodable", f"{piece.path}: neither UTF-8 nor GB18030", raw,
                                 piece.rel)
            elif not text.strip():
                batch.quarantine(piece.rel, "empty_text", f"{piece.path}: empty", "", piece.rel)
            else:
                batch.add(piece.rel, text, None, piece.rel)
        yield batch

    # -- WARC / WET: one document per response, resource or conversion record --------------------
    def _warc(self, piece: Piece) -> Iterator[ReadBatch]:
        stream = DecodedStream(piece.path, piece.compression)
        batch, raw_bytes, last = ReadBatch(), 0, 0
        for rec in iter_records(stream, piece.rel, self.max_bytes):
            batch.bytes_read += stream.pos - last
            last = stream.pos
            if rec.reason:
                batch.quarantine(rec.id, rec.reason, rec.detail, rec.raw, piece.rel)
            else:
                batch.add_web(rec, piece.rel)
                raw_bytes += len(rec.raw)
            if len(batch) >= self.batch_docs or raw_bytes >= BATCH_RAW_BYTES:
                yield batch
                batch, raw_bytes = ReadBatch(), 0
        if len(batch):
            yield batch

    # -- HTML files: one page per file -----------------------------------------------------------
    def _html(self, piece: Piece) -> Iterator[ReadBatch]:
        batch = ReadBatch()
        raw = self._whole_file(piece, batch)
        if raw is None:
            yield batch
            return
        rec = RawRecord(piece.rel, None, None, None, None, "text/html", None, 0, raw=raw)
        if not raw.strip():
            batch.quarantine(piece.rel, "empty_text", f"{piece.path}: empty", "", piece.rel)
        elif looks_binary(raw):
            batch.quarantine(piece.rel, "binary_payload", f"{piece.path}: binary content", raw, piece.rel)
        else:
            batch.add_web(rec, piece.rel)
        yield batch


def decode_text(raw: bytes) -> str | None:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312), else None.

    GB18030 decodes almost any byte string, so it is accepted only when the result is mostly CJK
    and printable: otherwise binary junk would come out as plausible-looking mojibake.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return text if looks_chinese(text) else None


def _encodable(*values) -> bool:
    """False if a string holds a lone surrogate (valid JSON escape, not valid UTF-8)."""
    try:
        for v in values:
            if isinstance(v, str):
                v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _as_str(value):
    """A binary id or url column's value as text (undecodable bytes replaced: they only name a record)."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _decode_line(raw: bytes, encoding: str) -> str:
    """A line in the file's encoding; in a GB18030 file a line that is valid UTF-8 stays UTF-8 (GBK
    text is practically never valid UTF-8 by chance, while UTF-8 lines pasted into a GBK file happen)."""
    if encoding == "gb18030":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return raw.decode(encoding)


def _damage_detail(piece: Piece, pos: int, error: Exception, damage: Damage | None) -> str:
    where = f"{piece.path}: unreadable from byte {pos} of the decompressed stream: {error}"
    if damage is not None and not damage.truncated:
        where += (f" (decompression fails at byte {damage.at}; the damaged gzip member or zstd "
                  f"frame starts at "
                  f"byte {damage.member_start}, so records after its first unreadable one are not trusted)")
    return where + "; the rest of the file is lost"
