"""Web pages for the benchmarks, the model scripts and the tests: the visible text of a whole page (no
main-text extraction, no boilerplate removal: what the filters after collection would see at worst) and the
HTML responses of a WARC file (fastwarc), read without the collection stage that some of these
measurements evaluate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

CJK = re.compile(r"[\u4e00-\u9fff]")
_CHARSET = re.compile(rb"charset=[\"']?([\w-]+)", re.IGNORECASE)


@dataclass
class Page:
    url: str
    charset: str
    text: str


BLOCK = {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "form", "h1",
         "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "nav", "ol", "option", "p", "pre", "section",
         "table", "td", "th", "title", "tr", "ul"}
SKIP = {"script", "style", "noscript", "template", "svg"}


class _Text(HTMLParser):
    """Visible text with a line break at every block element. html.parser rather than an extractor
    library: these measurements are calibrated on one item per line where a page's menus and link lists
    are blocks, which resiliparse's plain text joins into one line."""

    def __init__(self, skip: set[str]):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip, self.skipping = skip, 0

    def handle_starttag(self, tag, attrs):
        if tag in self.skip:
            self.skipping += 1
        elif tag in BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.skip:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def page_lines(html: str, title: bool = True) -> list[str]:
    """The visible text of an HTML page, one block a line, whitespace collapsed, blank lines dropped; with
    the <title> unless `title` is false."""
    parser = _Text(SKIP if title else SKIP | {"title"})
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return [line for line in lines if line]


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
