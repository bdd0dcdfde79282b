"""Web pages for the benchmarks, the model scripts and the tests: the visible text of a whole page (no
main-text extraction, no boilerplate removal: what the filters after collection would see at worst) and the
HTML responses of a WARC file, read with the libraries mdfs depends on (resiliparse, fastwarc) rather than
the collection stage that some of these measurements evaluate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CJK = re.compile(r"[\u4e00-\u9fff]")
_CHARSET = re.compile(rb"charset=[\"']?([\w-]+)", re.IGNORECASE)


@dataclass
class Page:
    url: str
    charset: str
    text: str


def page_lines(html: str, title: bool = True) -> list[str]:
    """The visible text of an HTML page, one block a line, whitespace collapsed, blank lines dropped; the
    <title> first unless `title` is false. Script, style and noscript are never text."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    body = extract_plain_text(tree, main_content=False, list_bullets=False, alt_texts=False)
    lines = ([tree.title] if title and tree.title else []) + body.split("\n")
    return [" ".join(line.split()) for line in lines if line.strip()]


def page_text(html: str, title: bool = True) -> str:
    return "\n".join(page_lines(html, title))


def declared_charset(http_headers: bytes, head: bytes) -> str:
    """The charset a page declares (<meta> in its first bytes, else the HTTP header), gb2312 and gbk read as
    gb18030 (declared charsets lie that way); utf-8 when none is declared."""
    m = _CHARSET.search(head[:4096]) or _CHARSET.search(http_headers)
    name = m.group(1).decode("ascii").lower() if m else "utf-8"
    return "gb18030" if name in ("gb2312", "gbk", "x-gbk") else name


def html_responses(path: Path) -> Iterator[Page]:
    """Every HTML response of a WARC file, decoded with its declared charset, as whole-page text."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    with open(path, "rb") as f:
        for rec in ArchiveIterator(f, record_types=WarcRecordType.response, parse_http=True):
            if rec.http_headers is None or "html" not in (rec.http_headers.get("Content-Type") or "").lower():
                continue
            body = rec.reader.read()
            charset = declared_charset(str(rec.http_headers).encode("latin-1", "replace"), body)
            try:
                html = body.decode(charset, errors="replace")
            except LookupError:
                charset, html = "utf-8", body.decode("utf-8", errors="replace")
            yield Page(rec.headers.get("WARC-Target-URI") or "", charset, page_text(html))


def chinese_pages(path: Path, min_han: int = 20) -> list[Page]:
    """The HTML pages of a WARC file with at least `min_han` Chinese characters (a spam title on an English
    page counts)."""
    return [p for p in html_responses(path) if len(CJK.findall(p.text)) >= min_han]
