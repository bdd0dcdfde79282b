"""Bounded, checked decompression of gzip and zstd files.

Two promises the readers build on:
- **Bounded memory.** Every step yields at most about 1 MB (gzip: zlib's `max_length`; zstd: input fed in
  small slices, since python-zstandard's decompressobj has no output limit and one zstd block of 3 bytes can
  inflate to 128 KB), so a 200 KB file holding a 1 GB line never sits in memory whole.
- **Honest damage.** A gzip member's CRC (and a zstd frame's checksum, when the writer stored one) is only
  checked at its end, and a bit flipped in the middle of a member makes zlib emit plausible garbage first:
  on repetitive JSONL, dozens of well-formed records that are not in the input. `check_stream` therefore
  decompresses the file once before it is read (discarding the output) and reports where decompression
  failed and where the damaged member began, so the reader trusts only what it can vouch for.
  Truncation is reported as EOFError (python-zstandard itself returns a cut frame as if it were complete).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import zstandard

CHUNK = 1 << 20
GZIP_FEED = 64 << 10  # compressed bytes per gzip step (output is capped by zlib's max_length anyway)
ZSTD_FEED = 128  # compressed bytes per zstd step: worst case 4 MB out (RLE blocks), as fast as larger slices
ERRORS = (OSError, EOFError, zlib.error, ValueError, zstandard.ZstdError)


class Decompressed:
    """Decompressed chunks of a raw (compressed) stream, across gzip members / zstd frames.

    `pos` counts the bytes yielded so far; `member_start` is the decompressed offset where the member or
    frame being decoded began (what came before it passed its checksum); `raw_at` is the compressed offset
    of the input fed in the last step. Raises EOFError after the last piece if the stream stops inside a
    member or frame. A decompressor that fails drops what it inflated in that step, so from `careful_from`
    (the `raw_at` of a known failure) input is fed one byte at a time, to keep every byte before the error.
    """

    def __init__(self, raw, compression: str | None, chunk_size: int = CHUNK,
                 careful_from: int | None = None):
        self.raw, self.compression, self.chunk_size = raw, compression, chunk_size
        self.careful_from = careful_from
        self.pos = self.member_start = self.raw_at = 0

    def __iter__(self) -> Iterator[bytes]:
        steps = {"gzip": self._gzip, "zstd": self._zstd, None: self._plain}[self.compression]
        with self.raw:
            for out in steps():
                if out:
                    self.pos += len(out)
                    yield out

    def _plain(self) -> Iterator[bytes]:
        while chunk := self.raw.read(self.chunk_size):
            yield chunk

    def _slices(self, step: int) -> Iterator[tuple[int, bytes]]:
        """(compressed offset, bytes) of the raw stream in pieces of `step`, single bytes from
        careful_from."""
        offset, careful = 0, self.careful_from
        while chunk := self.raw.read(self.chunk_size):
            i = 0
            while i < len(chunk):
                at = offset + i
                n = step if careful is None or at + step <= careful else max(careful - at, 1)
                yield at, chunk[i: i + n]
                i += n
            offset += len(chunk)

    def _gzip(self) -> Iterator[bytes]:
        decoder = None
        for at, data in self._slices(GZIP_FEED):
            while data:
                if decoder is None:
                    decoder, self.member_start = zlib.decompressobj(wbits=31), self.pos
                self.raw_at = at
                out = decoder.decompress(data, self.chunk_size)
                yield out
                while len(out) == self.chunk_size and not decoder.unconsumed_tail and not decoder.eof:
                    out = decoder.decompress(b"", self.chunk_size)  # output zlib still holds
                    yield out
                rest = decoder.unused_data if decoder.eof else decoder.unconsumed_tail
                at, data = at + len(data) - len(rest), rest
                if decoder.eof:
                    decoder = None
        if decoder is not None:
            raise EOFError("compressed stream ends before its end marker (truncated file?)")

    def _zstd(self) -> Iterator[bytes]:
        decoder, out, size = None, [], 0
        try:
            for at, data in self._slices(ZSTD_FEED):
                while data:
                    if decoder is None:
                        decoder = zstandard.ZstdDecompressor().decompressobj()
                        self.member_start = self.pos + size
                    self.raw_at = at
                    piece = decoder.decompress(data)
                    if piece:
                        out.append(piece)
                        size += len(piece)
                    rest = decoder.unused_data if decoder.eof else b""
                    at, data = at + len(data) - len(rest), rest
                    if decoder.eof:
                        decoder = None
                if size >= self.chunk_size:  # coalesce the small per-block pieces into ~1 MB chunks
                    yield b"".join(out)
                    out, size = [], 0
        except ERRORS:
            if out:  # what decoded before the error is still good
                yield b"".join(out)
            raise
        if out:
            yield b"".join(out)
        if decoder is not None:
            raise EOFError("compressed stream ends before its end marker (truncated file?)")


@dataclass
class Damage:
    """Where a compressed file stops being readable."""

    error: Exception
    at: int  # decompressed offset where decompression failed
    # decompressed offset where the failing member/frame began: nothing before it is suspect
    member_start: int
    raw_at: int  # compressed offset of the step that failed (see Decompressed.careful_from)

    @property
    def truncated(self) -> bool:
        """A cut stream: its decompressed prefix is exact (no garbage), only the end is missing."""
        return isinstance(self.error, EOFError)


def check_stream(raw, compression: str | None) -> Damage | None:
    """Decompress a whole stream, keeping nothing, and report where it breaks (None: it does not)."""
    stream = Decompressed(raw, compression)
    try:
        for _ in stream:
            pass
    except ERRORS as e:
        return Damage(e, stream.pos, stream.member_start, stream.raw_at)
    return None
