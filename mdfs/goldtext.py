"""Gold main text of real pages, named by path: a gold file holds ids, page types, sites and paths under
the shared corpora, never the text itself (the text stays in `../shared/corpora`).

A gold file is JSONL, one page per line:

    {"id": "magic-forum-6db2e2d672d8b4fe", "type": "forum", "site": "tieba.baidu.com", "split": "test",
     "gold": "html-zh/magic-html/forum/groundtruth.json#<key>", "html": "html-zh/magic-html/forum/<key>.html"}

`gold` is either `<file>.json#<key>` (an object whose entry has the main text in `content`, as the
magic-html ground truth) or an `.html` file of the expected article (as the readability tests), read as
text with one block per line. Inline gold text in a `text` field is accepted too (for tests).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from mdfs.errors import MdfsError

_ROOT = Path(__file__).resolve().parents[1]
_BLOCKS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "blockquote")


def shared_corpora() -> Path:
    """`$MDFS_SHARED/corpora`, else `../shared/corpora` next to the repository."""
    return Path(os.environ.get("MDFS_SHARED", _ROOT.parent / "shared")) / "corpora"


def html_text(html: str) -> str:
    """Text of an expected-article HTML fragment, one block per line."""
    import lxml.html

    tree = lxml.html.fromstring(html)
    for el in tree.iter(*_BLOCKS):
        el.tail = "\n" + (el.tail or "")
    return tree.text_content()


@lru_cache(maxsize=16)
def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _entry(ref: str, root: Path) -> dict:
    file, _, key = ref.partition("#")
    try:
        return _json(root / file)[key]
    except (OSError, KeyError, json.JSONDecodeError) as e:
        raise MdfsError(f"gold {ref!r} under {root}: {e}") from None


def gold_text(row: dict, root: Path | None = None) -> str:
    """The gold main text of one gold-file row."""
    if "text" in row:
        return row["text"]
    root, ref = root or shared_corpora(), row["gold"]
    if "#" in ref:
        return _entry(ref, root)["content"]
    try:
        return html_text((root / ref).read_bytes().decode("utf-8"))
    except OSError as e:
        raise MdfsError(f"gold {ref!r} under {root}: {e}") from None


def page_url(row: dict, root: Path | None = None) -> str | None:
    """The page's URL when its gold entry records one (magic-html does), else None."""
    ref = row.get("gold", "")
    return _entry(ref, root or shared_corpora()).get("url") if "#" in ref else None


def read_gold_file(path: str, split: str | None = None) -> list[dict]:
    """The rows of a gold file, optionally only those of one split."""
    from mdfs.evaluate import read_rows

    return read_rows(path, split, lambda r: "id" in r and ("gold" in r or "text" in r),
                     "an id and a gold path (or text)", "gold pages")
