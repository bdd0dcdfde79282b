"""The host of a URL, read one way everywhere: lower-case, without a trailing dot; a site is its host
without a leading `www.`. `host` and `site` read one URL with urllib; `hosts` reads an Arrow column with
one regex (a Python loop per row would be the slowest step of the coarse stage), and also takes a host
written without a scheme (`example.com/a`)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc

HOST = r"^\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?(?:[^@/?#\s]*@)?(?P<host>[^:/?#\s]+)"


def host(url: str | None) -> str | None:
    """The host of one URL; None when there is none (or the URL does not parse)."""
    if not url:
        return None
    try:
        name = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return name.lower().rstrip(".") if name else None


def site(url: str | None) -> str | None:
    """The host of one URL without a leading `www.`."""
    name = host(url)
    return name.removeprefix("www.") if name else None


def hosts(urls: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The site of each URL of a column (lower-case, no `www.`, no trailing dot); null where there is none."""
    name = pc.struct_field(pc.extract_regex(pc.fill_null(urls, ""), HOST), "host")
    name = pc.replace_substring_regex(pc.utf8_lower(name), r"^www\.|\.$", "")
    return pc.if_else(pc.equal(name, ""), pa.scalar(None, pa.string()), name)
