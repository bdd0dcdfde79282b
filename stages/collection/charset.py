"""Decode a web page's bytes to text, or refuse: mojibake must not reach the corpus.

Order: byte-order mark; then valid UTF-8 (non-ASCII bytes that are valid UTF-8 are UTF-8 whatever the
label says: GBK or Big5 text is practically never valid UTF-8 by chance, while UTF-8 pages labelled GBK
or Latin-1 are common); then the declared charsets (HTTP header, then the HTML meta tag), each tried
strictly and believed only if it decodes (almost) cleanly; then detection with charset-normalizer,
restricted to web charsets and believed only if its result is coherent. Otherwise: undecodable.

Chinese specifics: GB2312 and GBK are decoded as GB18030 (their superset: pages labelled GB2312 are
nearly always GBK in practice), Big5 as Big5-HKSCS (its superset, as browsers do), Latin-1 as
Windows-1252 (as browsers do). A single-byte declaration (Latin-1 is many Chinese servers' default
header) never wins over a multi-byte one in the meta tag.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

_META = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{2,40})""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Python codec name (after codecs.lookup) -> the superset actually used on the web.
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs",
             "latin_1": "cp1252", "iso8859_1": "cp1252", "ascii": "cp1252", "euc_cn": "gb18030",
             "hz": "gb18030"}
_SINGLE_BYTE = {"cp1252", "cp1251", "cp1250", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
                "koi8_r", "koi8_u", "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_9", "iso8859_15",
                "tis_620", "cp874", "mac_roman"}
_SNIFF_BYTES = 4096
# What detection may answer: charsets seen on the web (charset-normalizer's names). Without a list it
# also considers EBCDIC and other legacy code pages that turn any byte soup into "plausible" text.
WEB_CHARSETS = ["utf_8", "gb18030", "big5", "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255",
                "cp1256", "cp1257", "cp1258", "koi8_r", "koi8_u", "iso8859_2", "iso8859_5", "iso8859_7",
                "iso8859_15", "shift_jis", "euc_jp", "iso2022_jp", "euc_kr", "cp949", "tis_620", "cp874",
                "utf_16", "utf_32"]


@dataclass(frozen=True)
class Decoded:
    text: str | None  # None: undecodable
    charset: str | None  # the codec used
    how: str  # bom | http | meta | utf8 | detected | undecodable


def canonical(label: str | None) -> str | None:
    """The codec to decode a declared label with, or None for an unknown label."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in ("x-gbk", "gb_2312-80", "gb_2312", "csgb2312", "x-euc-cn", "cp936", "windows-936", "ms936"):
        return "gb18030"
    if label in ("x-big5", "big5-hkscs", "cn-big5", "csbig5"):
        return "big5hkscs"
    if label in ("x-sjis", "shift-jis", "ms_kanji", "csshiftjis"):
        label = "shift_jis"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    name = name.replace("-", "_")
    return _SUPERSET.get(name, name)


def meta_charset(raw: bytes) -> str | None:
    m = _META.search(raw, 0, _SNIFF_BYTES * 2)
    return m.group(1).decode("ascii", "replace") if m else None


def _try(raw: bytes, codec: str, max_errors: float) -> str | None:
    """Strict decode; else a lenient one if the few bad bytes are under `max_errors` of the text
    (real pages have stray bytes: a truncated character, one pasted line in another charset)."""
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    text = raw.decode(codec, errors="replace")
    bad = text.count("\ufffd") - (raw.count(b"\xef\xbf\xbd") if codec.startswith("utf") else 0)
    if bad <= max_errors * max(len(text), 1):
        return text.replace("\ufffd", "")
    return None


def decode_page(raw: bytes, http_charset: str | None = None, *, max_errors: float = 0.001,
                max_chaos: float = 0.2) -> Decoded:
    """Decode `raw` (an HTML or text payload) following the order in the module docstring."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            text = _try(raw, codec, max_errors)
            return Decoded(text, codec, "bom") if text is not None else Decoded(None, codec, "undecodable")
    declared = [(canonical(http_charset), "http"), (canonical(meta_charset(raw)), "meta")]
    declared = [(c, how) for c, how in declared if c]
    if raw.isascii():
        return Decoded(raw.decode("ascii"), "ascii", declared[0][1] if declared else "utf8")
    # Non-ASCII bytes that are valid UTF-8 are UTF-8 whatever the label says: GBK or Big5 text is
    # practically never valid UTF-8 by chance, while UTF-8 pages mislabelled GBK or Latin-1 are common.
    try:
        return Decoded(raw.decode("utf-8"), "utf-8", declared[0][1] if declared and declared[0][0] == "utf_8"
                       else "utf8")
    except UnicodeDecodeError:
        pass
    if len(declared) == 2 and declared[0][0] in _SINGLE_BYTE and declared[1][0] not in _SINGLE_BYTE:
        declared.reverse()
    for codec, how in dict.fromkeys(declared):
        text = _try(raw, codec, max_errors)
        if text is not None:
            return Decoded(text, codec, how)
    return _detect(raw, max_chaos)


def _detect(raw: bytes, max_chaos: float) -> Decoded:
    best = from_bytes(raw, cp_isolation=WEB_CHARSETS).best()
    if best is None or best.chaos > max_chaos:
        return Decoded(None, best.encoding if best else None, "undecodable")
    codec = canonical(best.encoding) or best.encoding
    try:
        return Decoded(raw.decode(codec), codec, "detected")
    except (UnicodeDecodeError, LookupError):
        return Decoded(str(best), best.encoding, "detected")
