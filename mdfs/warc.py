"""WARC/WET records as raw web documents, robust to damaged files.

Parsing is FastWARC's (fast, well kept, Common Crawl's own format knowledge). What it does not do is
recover: a truncated `.warc.gz` yields a bogus empty record, and a record whose Content-Length lies
makes the *next* header invalid and ends iteration. So we feed it a decompressed stream we control
(`DecodedStream`) and add the two things no library does for us: noticing truncation, and resyncing
on the next `WARC/1.x` header after a bad record, so one lie costs one record, not the rest of the file.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from fastwarc.stream_io import BrotliReader, ChunkedReader, GzipReader
from fastwarc.warc import ArchiveIterator, WarcRecordType

from mdfs import storage
from mdfs.hosts import host
from mdfs.streams import ERRORS as STREAM_ERRORS
from mdfs.streams import Decompressed, check_stream

DOC_TYPES = WarcRecordType.response | WarcRecordType.resource | WarcRecordType.conversion
HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)
MAX_RESYNCS = 1000  # per file; past that the file is treated as corrupt from there on
_HEADER_STARTS = (b"WARC/1.0\r\n", b"WARC/1.1\r\n")
# Magic numbers of payloads that are certainly not text, whatever Content-Type claims.
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b",
                 b"\x28\xb5\x2f\xfd", b"RIFF", b"\x00\x00\x01\x00", b"BZh", b"7z\xbc\xaf", b"Rar!",
                 b"\x7fELF", b"OggS", b"ID3", b"wOFF", b"wOF2", b"\x00\x00\x00")


@dataclass
class RawRecord:
    """One WARC record turned into a document candidate, or the reason it is not one."""

    id: str
    url: str | None
    domain: str | None
    fetch_date: datetime | None
    record_id: str | None
    content_type: str | None
    http_charset: str | None
    offset: int  # decompressed byte offset of the record header, for error messages
    raw: bytes = b""
    block_length: int = -1  # the WARC Content-Length (-1: unknown)
    reason: str | None = None  # set: quarantine with this reason
    detail: str = ""


class DecodedStream(io.RawIOBase):
    """A file's decompressed bytes as a readable stream that can restart at an offset.

    A decompression error (truncated gzip/zstd) ends the stream cleanly and is kept in `error`,
    so the complete records before the damage are still parsed; the caller reports the damage.
    A compressed file is checked first (`check_stream`): a member that fails its checksum is cut off
    where it starts, because what zlib inflates from a damaged member is garbage that may still parse;
    one that ends early is read to its end, and `iter_records` decides what of it to vouch for
    (`trusted_until`, `ran_out`). Decompression is bounded.
    """

    def __init__(self, path: str, compression: str | None):
        self.path, self.compression = path, compression
        self.error: Exception | None = None
        damage = check_stream(self._raw(), compression) if compression else None
        self._limit, self._cut, self._careful = None, None, damage.raw_at if damage else None
        self.trusted_until = damage.member_start if damage else None  # decoded bytes vouched for
        self.ran_out = damage is not None and damage.truncated  # the failing member just ends early
        if damage is not None and not damage.truncated:
            self._limit = damage.member_start
            self._cut = ValueError(f"{damage.error} at byte {damage.at}: the damaged member starts at byte "
                                   f"{damage.member_start}")
        self._open(0)

    def _raw(self):
        fs, p = storage.resolve(self.path)
        return fs.open_input_stream(p, compression=None)

    def _open(self, skip: int) -> None:
        self._it = iter(Decompressed(self._raw(), self.compression, careful_from=self._careful))
        self._buf, self._off, self.pos, self._made = b"", 0, 0, 0
        while self.pos < skip:
            chunk = self._next()
            if not chunk:
                return
            take = min(len(chunk), skip - self.pos)
            self.pos += take
            self._buf, self._off = chunk, take

    def _next(self) -> bytes:
        """The rest of the current chunk, else the next chunk ("" at the end or after an error)."""
        if self._off < len(self._buf):
            chunk = self._buf[self._off:] if self._off else self._buf
            self._buf, self._off = b"", 0
            return chunk
        if self.error is not None:
            return b""
        try:
            chunk = next(self._it, b"")
        except STREAM_ERRORS as e:
            self.error = e
            return b""
        if self._limit is not None and self._made + len(chunk) >= self._limit:
            chunk, self.error = chunk[: self._limit - self._made], self._cut
        self._made += len(chunk)
        return chunk

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        out = []
        want = size if size >= 0 else 1 << 62
        while want > 0:
            if self._off >= len(self._buf):
                self._buf, self._off = self._next(), 0
                if not self._buf:
                    break
            piece = self._buf[self._off: self._off + want]
            self._off += len(piece)
            out.append(piece)
            want -= len(piece)
        data = out[0] if len(out) == 1 else b"".join(out)
        self.pos += len(data)
        return data

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self.pos

    def record_end(self, rec: RawRecord) -> int | None:
        """Where `rec` ends (header, block, blank line), from its header read again; None if unknown."""
        error, self.error = self.error, None
        try:
            self._open(rec.offset)
            blank = self.read(1 << 16).find(b"\r\n\r\n")
            return None if blank < 0 or rec.block_length < 0 \
                else rec.offset + blank + 4 + rec.block_length + 4
        finally:
            self.error = self.error or error

    def cut_in_header_after(self, rec: RawRecord) -> int | None:
        """Where `rec` ends, if the stream (which ended with an error) ends inside the header that follows
        it: that header is then invalid because the file is cut there, not because `rec`'s length lies."""
        end = self.record_end(rec)
        if end is None:
            return None
        error, self.error = self.error, None
        try:
            self._open(end)
            rest = self.read(1 << 16)
            cut = self.error is not None and b"\r\n\r\n" not in rest and b"WARC/1."[: len(rest)] == rest[:7]
            return end if cut else None
        finally:
            self.error = self.error or error

    def resync(self, after: int) -> int | None:
        """Restart at the first `WARC/1.x` header line starting after byte `after`; its offset, or None."""
        error = self.error
        self.error = None
        self._open(after + 1)
        carry, base = b"", self.pos
        while True:
            chunk = self._next()
            if not chunk:
                self.error = self.error or error
                return None
            data = carry + chunk
            hits = [i for i in (data.find(b"\n" + h) for h in _HEADER_STARTS) if i >= 0]
            if hits:
                start = min(hits) + 1
                self._buf, self._off, self.pos = data, start, base + start
                return self.pos
            keep = min(len(data), 16)
            carry, base = data[-keep:], base + len(data) - keep


def _media_type(value: str | None) -> str | None:
    return value.split(";", 1)[0].strip().lower() or None if value else None


def looks_binary(payload: bytes) -> bool:
    """Certainly not a text page: a known binary magic number, or NUL bytes in the head without a
    UTF-16/32 byte-order mark (the only text encodings with NULs)."""
    head = payload[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    return head.startswith(_BINARY_MAGIC) or head.count(b"\x00") > 8


def iter_records(stream: DecodedStream, rel: str, max_bytes: int) -> Iterator[RawRecord]:
    """Document candidates of a WARC/WET stream, in file order, each either with its raw payload or
    with a quarantine reason. Ends with a `corrupt_file` record if the stream itself is damaged.

    A record is held back until the next one parses: an invalid header right after it means its
    Content-Length lied (too long or too short), so it is quarantined and parsing resyncs.
    Records decoded from a gzip member or zstd frame that fails are vouched for only as `_vouch` says.
    """
    resyncs, base, doubt = 0, 0, False
    while True:
        pending: RawRecord | None = None
        failure: Exception | None = None
        try:
            for rec in ArchiveIterator(stream, record_types=DOC_TYPES, parse_http=True):
                if pending is not None:
                    yield _vouch(stream, pending, rec.stream_pos, last=False, doubt=doubt)
                pending = _record(rec, rel, max_bytes)
        except (OSError, ValueError) as e:  # FastWARC: "Invalid WARC header" and friends
            failure = e
        if failure is None:
            if pending is not None:
                if stream.error is not None and pending.reason is not None:
                    # the stream broke inside this record: whatever it looked like, it is cut short
                    pending.detail = f"{pending.detail} (the file is damaged inside this record)"
                    pending.reason = "truncated_record"
                end = stream.pos
                if stream.trusted_until is not None and end > stream.trusted_until:
                    end = stream.record_end(pending) or end  # the stream may run on into a cut header
                yield _vouch(stream, pending, end, last=True, doubt=doubt)
            break
        end = stream.cut_in_header_after(pending) if pending is not None and stream.error is not None \
            else None
        if end is not None:  # the file ends inside the next header: damage, not a lie; this record is whole
            yield _vouch(stream, pending, end, last=False, doubt=doubt)
            break
        doubt = doubt or (stream.trusted_until is not None and (pending.offset if pending else base)
                          >= stream.trusted_until)  # a broken structure inside the failing member
        if pending is not None:
            pending.reason = "bad_content_length"
            pending.detail = (f"{stream.path}: record {pending.record_id} ({pending.url}) at byte "
                              f"{pending.offset}: the next header is invalid ({failure}), so this record's "
                              "Content-Length is wrong; parsing resumed at the next record")
            yield pending
            after = pending.offset
        else:
            after = base
            yield _bad(rel, stream, base, "bad_record", f"{stream.path}: invalid WARC record at byte {base}: "
                       f"{failure}; skipped to the next record header")
        resyncs += 1
        found = stream.resync(after) if resyncs <= MAX_RESYNCS else None
        if found is None:
            break
        base = found
    if stream.error is not None:
        at = stream.pos if stream.trusted_until is None or stream.ran_out else stream.trusted_until
        yield _bad(rel, stream, at, "corrupt_file", f"{stream.path}: unreadable after byte {at} of the "
                   f"decompressed stream: {stream.error}; the rest of the file is lost")


def _vouch(stream: DecodedStream, rec: RawRecord, end: int, last: bool, doubt: bool) -> RawRecord:
    """The record, or a `truncated_record` if its bytes reach into a gzip member or zstd frame that fails.

    A member that fails its checksum is garbage from an unknown point, so none of it is vouched for. A
    member that just ends early is usually a cut file (exact up to the cut), but a damaged one may also
    run out of input: there, records are vouched for only until the structure breaks (`doubt`), and never
    the last one, where a cut or damage shows. So a cut single-member `.warc.gz` keeps its complete
    records, and in a Common Crawl file (a member per record) the failing member's record is never a
    document. Limit: a single-member file both damaged and cut can keep a whole-looking record whose
    payload carries the damage (without its CRC, nothing tells the two apart)."""
    inside = stream.trusted_until is not None and end > stream.trusted_until
    if inside and (not stream.ran_out or last or doubt) and rec.reason != "truncated_record":
        rec.reason = "truncated_record"
        rec.detail = (f"{stream.path}: record {rec.record_id} ({rec.url}) at byte {rec.offset}: the file is "
                      f"cut or damaged inside this record (its compressed member starts at byte "
                      f"{stream.trusted_until} and fails)")
    return rec


def _bad(rel: str, stream: DecodedStream, offset: int, reason: str, detail: str) -> RawRecord:
    return RawRecord(f"{rel}@{offset}", None, None, None, None, None, None, offset, reason=reason,
                     detail=detail)


def _record(rec, rel: str, max_bytes: int) -> RawRecord:
    headers = rec.headers
    url = headers.get("WARC-Target-URI")
    record_id = headers.get("WARC-Record-ID")
    offset = rec.stream_pos  # FastWARC counts from the stream's tell(): absolute in the decompressed file
    try:
        date = rec.record_date
    except (ValueError, OSError):
        date = None
    http = rec.is_http and rec.record_type == WarcRecordType.response
    ctype = rec.http_content_type if http else headers.get("Content-Type")
    block = headers.get("Content-Length") or ""
    out = RawRecord(
        id=record_id.strip("<>") if record_id else f"{rel}@{offset}", url=url, domain=host(url),
        fetch_date=date, record_id=record_id, content_type=_media_type(ctype),
        http_charset=rec.http_charset if http else None, offset=offset,
        block_length=int(block) if block.strip().isdigit() else -1)
    where = f"{rel}: record {record_id} ({url})"
    if http and rec.http_headers.status_code != 200:
        out.reason, out.detail = "http_status", f"{where}: {rec.http_headers.status_line}"
        return out
    if rec.record_type == WarcRecordType.response and not rec.is_http:
        out.reason, out.detail = "not_html", f"{where}: a response record without an HTTP message"
        return out
    media = out.content_type or (headers.get("WARC-Identified-Payload-Type") or "").lower() or None
    if media not in HTML_TYPES + TEXT_TYPES:
        out.reason, out.detail = "not_html", f"{where}: content type {media}"
        return out
    out.content_type = media
    length = rec.content_length
    if length > max_bytes:
        out.raw = rec.reader.read(4096)
        out.reason, out.detail = "too_large", f"{where}: payload of {length} bytes > input.max_doc_mb"
        return out
    out.raw = rec.reader.read()
    if len(out.raw) < length:
        out.reason = "truncated_record"
        out.detail = f"{where}: {len(out.raw)} of {length} payload bytes before the end of the stream"
        return out
    if http:
        try:
            out.raw = _http_decode(out.raw, rec.http_headers, max_bytes)
        except (OSError, ValueError) as e:
            out.reason, out.detail = "bad_http_encoding", f"{where}: {e}"
            return out
        if len(out.raw) > max_bytes:
            out.raw = out.raw[:4096]
            out.reason = "too_large"
            encoding = rec.http_headers.get("Content-Encoding")
            out.detail = (f"{where}: payload of {length} bytes decodes ({encoding}) to more than {max_bytes} "
                          "bytes > input.max_doc_mb; decoding stopped there")
            return out
    if not out.raw.strip():
        out.reason, out.detail = "empty_text", f"{where}: empty payload"
    elif looks_binary(out.raw):
        out.reason, out.detail = "binary_payload", f"{where}: binary content declared as {media}"
    return out


def _http_decode(payload: bytes, headers, max_bytes: int) -> bytes:
    """Undo chunked transfer and gzip/deflate/br content encoding (crawlers other than Common Crawl,
    which stores decoded payloads, keep them as sent). Reads at most `max_bytes + 1` decoded bytes:
    a 200 KB gzip body can inflate to gigabytes."""
    transfer = (headers.get("Transfer-Encoding") or "").lower()
    encoding = (headers.get("Content-Encoding") or "").strip().lower()
    if "chunked" not in transfer and encoding in ("", "identity"):
        return payload
    stream = ChunkedReader(io.BytesIO(payload)) if "chunked" in transfer else io.BytesIO(payload)
    if encoding in ("gzip", "x-gzip"):
        stream = GzipReader(stream)
    elif encoding == "deflate":
        stream = GzipReader(stream, zlib=True)
    elif encoding == "br":
        stream = BrotliReader(stream)
    elif encoding not in ("", "identity"):
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    out, size = [], 0
    while size <= max_bytes:
        piece = stream.read(min(max_bytes + 1 - size, 1 << 20))
        if not piece:
            break
        out.append(piece)
        size += len(piece)
    return b"".join(out)
