"""JSONL lines in bounded memory, and the text encoding of a JSONL file.

A line longer than the cap is not materialised: its first bytes are kept as a preview and the rest is
discarded up to the next newline, so one 1 GB line costs about `cap` bytes of memory, not 1 GB.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

PREVIEW_BYTES = 6000
SAMPLE_BYTES = 64 << 10
NEWLINES = {"utf-8": b"\n", "gb18030": b"\n", "utf-16-le": b"\n\x00", "utf-16-be": b"\x00\n"}


@dataclass
class Line:
    offset: int  # byte offset of the line's first byte in the (decompressed) file
    data: bytes  # the whole line with its newline; only a preview if `size` > the cap
    size: int  # bytes of the whole line

    def too_large(self, cap: int) -> bool:
        return self.size > cap


def iter_lines(chunks: Iterable[bytes], cap: int, offset: int = 0, newline: bytes = b"\n",
               skip_first: bool = False, until: int | None = None) -> Iterator[Line]:
    """Lines of a stream of chunks whose first byte sits at `offset`, each with its newline (the last one
    may lack it). A newline of two bytes (UTF-16) counts only at an even offset, where code units start.
    `skip_first` drops the partial line a byte range starts inside (it belongs to the range before); if
    no newline comes before `until` (the range's end), no line starts in the range and reading stops, so
    the pieces of one huge line do not each scan it to its end."""
    unit = len(newline)
    parts: list[bytes] = []
    size, pos, skipping = 0, offset, skip_first
    for chunk in _aligned(chunks, unit):
        start = 0
        while start < len(chunk):
            end = chunk.find(newline, start)
            while unit > 1 and end >= 0 and (end - start) % unit:
                end = chunk.find(newline, end + 1)
            stop = len(chunk) if end < 0 else end + unit
            piece = chunk[start:stop]
            if not skipping and size <= cap:
                if size + len(piece) > cap:  # keep a preview, discard the rest of this line
                    parts = [_preview(parts + [piece])]
                else:
                    parts.append(piece)
            size += stop - start
            start = stop
            if skipping and end < 0 and until is not None and pos + size >= until:
                return
            if end >= 0:
                if not skipping:
                    yield Line(pos, b"".join(parts), size)
                pos, parts, size, skipping = pos + size, [], 0, False
    if size and not skipping:
        yield Line(pos, b"".join(parts), size)


def _preview(parts: list[bytes]) -> bytes:
    head = b""
    for part in parts:
        head += part[: PREVIEW_BYTES - len(head)]
        if len(head) >= PREVIEW_BYTES:
            break
    return head


def _aligned(chunks: Iterable[bytes], unit: int) -> Iterator[bytes]:
    """Chunks cut to whole code units, so a two-byte newline never straddles two chunks."""
    if unit == 1:
        yield from chunks
        return
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        cut = len(data) - len(data) % unit
        carry = data[cut:]
        if cut:
            yield data[:cut]
    if carry:
        yield carry


def sniff_encoding(head: bytes) -> tuple[str | None, int]:
    """(encoding, BOM length) of a JSONL file from its first 64 KB (decompressed); None: not text we read.

    Decided once per file, because a line-by-line guess turns one UTF-16 file into hundreds of
    pseudo-records and one GBK file into a wall of `invalid_utf8`:
    - a byte-order mark decides (UTF-8, UTF-16 LE/BE); a UTF-32 mark, or NUL bytes without one, is not text
      we read (BOM-less UTF-16 is recognised only by a first `{` next to a NUL: no JSONL starts otherwise);
    - otherwise the file is UTF-8 unless most sampled lines with non-ASCII bytes are invalid UTF-8. Then it
      is GB18030 (a superset of GBK and GB2312) only if those lines decode strictly as GB18030 to mostly
      CJK text (`looks_chinese`) of which most is in GB2312 (the 7,445 everyday characters): GB18030 accepts
      almost any byte string, and binary junk, Big5 or Latin-1 would otherwise come out as plausible CJK
      mojibake (their byte pairs mostly land outside GB2312). GBK files of Traditional Chinese fail this
      too and are rejected whole, which is the safe side. A UTF-8 file with a few bad lines stays UTF-8
      (those lines are `invalid_utf8`); a GBK file is read as GB18030 (a line that is valid UTF-8 is still
      taken as UTF-8).
    """
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return None, 0
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if head.startswith(b"{\x00"):
        return "utf-16-le", 0
    if head.startswith(b"\x00{"):
        return "utf-16-be", 0
    if head.count(b"\x00") > len(head) // 10:
        return None, 0
    lines = head.split(b"\n")
    if len(lines) > 1 and len(head) >= SAMPLE_BYTES:
        lines.pop()  # cut by the sample's end
    bad = []
    nonascii = 0
    for line in lines:
        if line.isascii():
            continue
        nonascii += 1
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as e:
            if len(head) < SAMPLE_BYTES or e.start < len(line) - 4:  # not just a character cut by the sample
                bad.append(line)
    if len(bad) * 2 <= nonascii:
        return "utf-8", 0
    try:
        text = b"\n".join(bad).decode("gb18030")
    except UnicodeDecodeError:
        return None, 0
    return ("gb18030", 0) if looks_chinese(text) and _mostly_gb2312(text) else (None, 0)


def _mostly_gb2312(text: str, share: float = 0.8) -> bool:
    wide = [c for c in text if not c.isascii()]
    inside = 0
    for c in wide:
        try:
            c.encode("gb2312")
            inside += 1
        except UnicodeEncodeError:
            pass
    return inside >= share * len(wide)


def looks_chinese(text: str) -> bool:
    """Mostly CJK and printable ASCII, with some CJK: what GB18030-decoded Chinese looks like, and what
    GB18030-decoded binary or another legacy encoding does not."""
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return True
    cjk = sum("\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
              for c in visible)
    ascii_ = sum(c.isascii() and c.isprintable() for c in visible)
    return (cjk + ascii_) / len(visible) > 0.9 and cjk > 0
