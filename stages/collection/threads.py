"""The page's main run of sibling blocks (posts, paragraphs): replies an extractor missed, junk after it.

Article extractors keep the first post of a thread (or the question) and drop the replies as "comments":
on flarum and paopao pages trafilatura keeps 30% of the thread. A run is a set of sibling elements of one
kind (same tag and first class: `PostStream-item`, `reply-item`, an article's `<p>`s), holding prose
rather than links; `thread_posts` finds the one with the most text outside links. Two uses
(`with_structure`): `add_thread` appends the posts the extractor left out, only when they hold `ratio`
times its text and the text holds one of them (it kept the question and missed the replies; an article
with a short comment block, or a teaser list beside it, is left as it was), and
`trim_tail` cuts what the extractor kept after the run when that is not prose (related lists, hot
lists, app banners after an article). Tuned on the tuning side of the gold pages (docs/collection.md).
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from mdfs.stages.collection.extract import Extractor, word_chars

_SKIP = ("script", "style", "noscript", "template", "svg", "button", "select", "textarea", "form", "nav",
         "header", "footer", "aside")
_BLOCKS = frozenset(("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre",
                     "blockquote", "article", "section", "dd", "dt", "ul", "ol", "table"))
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")  # lxml refuses it in a decoded string
_SPACE = re.compile(r"[ \t\r\f\v\u3000\xa0]+")

MIN_POSTS = 3  # a question and two replies
MIN_POST_CHARS = 15  # mean letters and digits per post outside links: posts, not menu entries
MIN_ANCHOR_CHARS = 8  # a line of the run this long in the extractor's text anchors the run to it
MAX_LINK_SHARE = 0.3  # of a run's letters and digits inside <a>: link lists are not threads


def _signature(el) -> tuple[str, str]:
    classes = (el.get("class") or "").split()
    return el.tag, classes[0] if classes else ""


def _text_parts(el, out: list[str]) -> None:
    """Text of `el` in document order, blocks on their own lines."""
    if not isinstance(el.tag, str) or el.tag in _SKIP:
        if el.tail:
            out.append(el.tail)
        return
    if el.tag in _BLOCKS:
        out.append("\n")
    if el.text:
        out.append(el.text)
    for child in el:
        _text_parts(child, out)
    if el.tag in _BLOCKS:
        out.append("\n")
    if el.tail:
        out.append(el.tail)


def block_text(el) -> str:
    """`el`'s visible text, one block per line."""
    parts: list[str] = []
    tail, el.tail = el.tail, None
    try:
        _text_parts(el, parts)
    finally:
        el.tail = tail
    lines = (_SPACE.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _char_counts(elements: list) -> dict:
    """element -> (letters and digits of its visible text, how many of them in links), in one bottom-up
    pass over `elements` (document order)."""
    counts: dict = {}
    for el in reversed(elements):
        if not isinstance(el.tag, str) or el.tag in _SKIP:
            counts[el] = (0, 0)
            continue
        chars, links = word_chars(el.text) if el.text else 0, 0
        for child in el:
            c, n = counts[child]
            chars, links = chars + c + (word_chars(child.tail) if child.tail else 0), links + n
        counts[el] = (chars, chars if el.tag == "a" else links)
    return counts


@lru_cache(maxsize=1)
def _parser():
    from lxml import etree

    return etree.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)


def thread_posts(html: str) -> list[str]:
    """The texts of the largest run of sibling posts on the page ([] when it has no thread)."""
    from lxml import etree

    try:  # plain etree elements: lxml.html's element classes cost a lookup per node
        tree = etree.fromstring(_XML_DECLARATION.sub("", html, count=1), _parser())
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return []
    if tree is None:
        return []
    elements = list(tree.iter())
    counts = _char_counts(elements)
    best, best_prose = [], 0
    for parent in elements:
        if not isinstance(parent.tag, str) or parent.tag in _SKIP or len(parent) < MIN_POSTS:
            continue
        groups = defaultdict(list)
        for child in parent:
            if isinstance(child.tag, str) and child.tag not in _SKIP and counts[child][0]:
                groups[_signature(child)].append(child)
        for items in groups.values():
            if len(items) < MIN_POSTS:
                continue
            chars = sum(counts[item][0] for item in items)
            prose = chars - sum(counts[item][1] for item in items)
            if chars - prose <= MAX_LINK_SHARE * chars and prose >= MIN_POST_CHARS * len(items) \
                    and prose > best_prose:
                best, best_prose = items, prose
    try:
        return [block_text(item) for item in best]
    except RecursionError:  # a post nested deeper than Python's stack: no thread rather than a crash
        return []


def _key(line: str) -> str:
    return "".join(ch for ch in line if ch.isalnum())


def add_thread(text: str, posts: list[str], ratio: float) -> str:
    """`text` with the lines of `posts` it lacks appended, when the posts hold `ratio` times more letters
    and digits than `text` and `text` has a line of them (the extractor kept a fraction of this thread:
    the first post, the question); else `text` unchanged (the run is somewhere else on the page: a
    comment block or a list of teasers beside an article)."""
    thread = "\n".join(posts)
    if not posts or word_chars(thread) < ratio * word_chars(text):
        return text
    have = _key(text)
    if not any(len(key) >= MIN_ANCHOR_CHARS and key in have for key in map(_key, thread.split("\n"))):
        return text
    extra, added = [], set()
    for line in thread.split("\n"):
        key = _key(line)
        if key and key not in added and key not in have:
            extra.append(line)
            added.add(key)
    return "\n".join([text, *extra]) if text else "\n".join(extra)


_SENTENCE_END = re.compile(r"[。！？!?…；”」』]$")
MIN_RUN_SHARE = 0.3  # of the text's letters and digits in the run for the run to be the main text
MIN_SENTENCE_SHARE = 0.5  # a tail with this share of its letters and digits in sentences is prose: kept


def trim_tail(text: str, posts: list[str]) -> str:
    """`text` without the lines after the last one of the post run, when the run holds at least
    `MIN_RUN_SHARE` of the text and the lines after it are not prose (related-article lists, hot lists,
    hospital ads, app banners: titles, dates and names, few of them sentences). Replies a thread has
    after the run end in sentences and are kept."""
    if not posts:
        return text
    run = _key("".join(posts))
    lines = text.split("\n")
    inside = [bool(key) and key in run for key in map(_key, lines)]
    if True not in inside or sum(word_chars(line) for line, i in zip(lines, inside) if i) \
            < MIN_RUN_SHARE * word_chars(text):
        return text
    end = len(lines) - inside[::-1].index(True)
    tail = [line.strip() for line in lines[end:]]
    chars = sum(map(word_chars, tail))
    if not chars or sum(word_chars(line) for line in tail if _SENTENCE_END.search(line)) \
            >= MIN_SENTENCE_SHARE * chars:
        return text
    return "\n".join(lines[:end])


def with_structure(extract: Extractor, ratio: float | None, trim: bool) -> Extractor:
    """`extract` followed by `add_thread` (when `ratio`) and `trim_tail` (when `trim`) on the page's run."""
    def run(html: str) -> str:
        text = extract(html)
        posts = thread_posts(html)
        if ratio is not None:
            text = add_thread(text, posts, ratio)
        return trim_tail(text, posts) if trim else text

    return run
