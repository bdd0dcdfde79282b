"""Main-text extraction from decoded HTML: navigation, ads and widgets out, paragraph breaks kept.

Two well-kept libraries are wired in and compared by `python -m tools.bench.extraction` on the Chinese
pages of html-zh (see docs/collection.md for the numbers that chose the default). Each extractor
takes a decoded HTML string and returns plain text with one paragraph per line ("" when nothing).
"""

from __future__ import annotations

from collections.abc import Callable

Extractor = Callable[[str], str]


def resiliparse_main(html: str) -> str:
    """Resiliparse's main-content heuristics (fast, C++ Lexbor parser)."""
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(html, preserve_formatting=True, main_content=True, alt_texts=False,
                              links=False, form_fields=False, noscript=False, list_bullets=False)


def resiliparse_full(html: str) -> str:
    """All visible text, no boilerplate removal: the recall ceiling, for comparison."""
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(html, preserve_formatting=True, main_content=False, alt_texts=False,
                              list_bullets=False)


def _trafilatura(**options) -> Extractor:
    def run(html: str) -> str:
        import trafilatura

        return trafilatura.extract(html, output_format="txt", include_images=False, include_links=False,
                                   deduplicate=False, with_metadata=False, **options) or ""

    return run


EXTRACTORS: dict[str, Extractor] = {
    "trafilatura": _trafilatura(),
    "trafilatura_fast": _trafilatura(fast=True),
    "trafilatura_recall": _trafilatura(favor_recall=True),
    "trafilatura_precision": _trafilatura(favor_precision=True),
    "resiliparse": resiliparse_main,
    "resiliparse_full": resiliparse_full,
}


def get_extractor(name: str) -> Extractor:
    return EXTRACTORS[name]


FALLBACK_MIN_CHARS = 30  # the coarse stage's default min_chars: fewer would be dropped anyway


def word_chars(text: str) -> int:
    """Letters (Han included) and digits: how much text an extraction holds, spaces and punctuation aside."""
    return sum(map(str.isalnum, text))


def choose(text: str, fallback: Callable[[], str], min_chars: int, ratio: float | None) -> tuple[str, bool]:
    """The extractor's `text`, or the fallback extractor's (and True) when `text` holds fewer than
    `min_chars` letters and digits (no main text: the page would be too short for the rules), or, with a
    `ratio`, when the fallback's text holds `ratio` times more (replies of a thread the extractor missed)."""
    n = word_chars(text)
    if n < min_chars:
        return fallback(), True
    if ratio is not None:
        other = fallback()
        if word_chars(other) >= ratio * n:
            return other, True
    return text, False


def with_fallback(primary: Extractor, fallback: Extractor, min_chars: int,
                  ratio: float | None = None) -> Extractor:
    """`primary` with `fallback` as the collection stage combines them (`choose`)."""
    def run(html: str) -> str:
        return choose(primary(html), lambda: fallback(html), min_chars, ratio)[0]

    return run
