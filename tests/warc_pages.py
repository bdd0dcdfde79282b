"""TEST HELPER, temporary: the Chinese pages of a plain (uncompressed) WARC file as text, with the stdlib.

Used by the coarse-filter measurement until mdfs's own WARC/HTML reader (kind `warc` in mdfs/readers.py)
lands; then the measurement should read the WARC through it. Deliberately small: split records by
Content-Length, decode the HTTP body with the charset the page declares (gb2312/gbk read as gb18030,
since declared charsets lie), strip tags with html.parser (a block tag ends a line; script and style are
dropped). No boilerplate removal: what the coarse stage sees is the whole page's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

BLOCK = {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "form", "h1",
         "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "nav", "ol", "p", "pre", "section", "table",
         "td", "th", "title", "tr", "ul"}
SKIP = {"script", "style", "noscript", "template", "svg"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Page:
    url: str
    charset: str
    text: str


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP:
            self.skipping += 1
        elif tag in BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _charset(http_headers: bytes, body: bytes) -> str:
    m = re.search(rb"charset=[\"']?([\w-]+)", body[:4096], re.IGNORECASE) \
        or re.search(rb"charset=([\w-]+)", http_headers, re.IGNORECASE)
    name = m.group(1).decode("ascii").lower() if m else "utf-8"
    return "gb18030" if name in ("gb2312", "gbk", "x-gbk") else name


def responses(path: Path):
    """(target URI, HTTP headers, HTTP body) of every response record."""
    raw = path.read_bytes()
    pos = 0
    while (start := raw.find(b"WARC/1.", pos)) >= 0:
        end = raw.find(b"\r\n\r\n", start)
        head = raw[start:end].decode("latin-1")
        length = int(re.search(r"Content-Length:\s*(\d+)", head, re.IGNORECASE).group(1))
        block = raw[end + 4:end + 4 + length]
        pos = end + 4 + length
        if re.search(r"WARC-Type:\s*response", head, re.IGNORECASE):
            uri = re.search(r"WARC-Target-URI:\s*(\S+)", head, re.IGNORECASE).group(1)
            split = block.find(b"\r\n\r\n")
            yield uri, block[:split], block[split + 4:]


def chinese_pages(path: Path, min_han: int = 20) -> list[Page]:
    """Pages with at least `min_han` Chinese characters (a spam title on an English page counts)."""
    pages = []
    for uri, headers, body in responses(path):
        charset = _charset(headers, body)
        text = html_text(body.decode(charset, errors="replace"))
        if len(CJK.findall(text)) >= min_han:
            pages.append(Page(uri, charset, text))
    return pages
