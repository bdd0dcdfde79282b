"""Document metrics from characters and lines: length, script ratios, line shape, URL density.

Ratios are over visible (non-whitespace) characters. Chinese prose is mostly Han characters and
full-width punctuation; web junk is digits (odds tables, phone lists), Latin (link farms), symbols
(icon fonts, decoding damage) or many short lines (menus).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.stages.rules.chars import DIGIT, HAN, LATIN, PUNCT, SPACE, SYMBOL, CharView, ratio

BULLET = r"^\s*(?:[•·●○◦▪▫■□◆◇►▶➢➤✓✔☆★※→-]|\*\s|\d{1,2}[.、)）]\s*$)"
ELLIPSIS = r"(?:…|\.\.\.|。。。|\.\.\.\s*更多|>>)\s*$"
# A sentence of prose: a line with Chinese sentence punctuation (and enough Han characters, counted apart).
SENTENCE = r"[，。！？；]"


class DocumentRules(Strict):
    """Thresholds on whole-document metrics; null switches a rule off."""

    max_symbol_ratio: float | None = Field(0.10, ge=0, le=1, description="symbols / visible characters")
    max_digit_ratio: float | None = Field(0.35, ge=0, le=1, description="digits / visible characters")
    max_latin_ratio: float | None = Field(0.70, ge=0, le=1, description="Latin letters / visible characters")
    max_punct_ratio: float | None = Field(0.35, ge=0, le=1, description="punctuation / visible characters")
    min_mean_line_chars: float | None = Field(8.0, ge=0, description="visible characters per non-empty line")
    max_bullet_line_ratio: float | None = Field(0.90, ge=0, le=1, description="lines starting with a bullet")
    bullet_max_chars: int | None = Field(
        80, ge=1, description="a bullet line longer than this is a paragraph (a forum reply, a point of an "
        "argument), not a list item; null: any")
    max_ellipsis_line_ratio: float | None = Field(0.30, ge=0, le=1,
                                                  description="lines ending with an ellipsis")
    max_url_ratio: float | None = Field(0.30, ge=0, le=1, description="characters inside URLs / visible")
    min_lines: int = Field(3, ge=1, description="the line-shape rules judge documents with this many lines")
    prose_min_chars: int | None = Field(
        300, ge=1, description="a page with this many characters of distinct prose lines (at least "
        "`prose_min_han` Han characters and sentence punctuation) is not dropped for its line shape or "
        "repeated lines or paragraphs (short_lines, dup_lines, dup_paragraphs, …) or a low Chinese ratio: "
        "forum threads, Q&A and code-heavy posts have short replies, quotes and code around real prose; nor "
        "for bullet lines when that many are in lines longer than `bullet_max_chars`; null: never exempt")
    prose_min_han: int = Field(10, ge=1, description="Han characters of a prose line")


def char_metrics(view: CharView) -> dict[str, np.ndarray]:
    c = view.counts("doc")
    visible = c.sum(axis=1) - c[:, SPACE]
    return {
        "chars": visible,
        "zh_ratio": ratio(c[:, HAN], visible),
        "symbol_ratio": ratio(c[:, SYMBOL], visible),
        "digit_ratio": ratio(c[:, DIGIT], visible),
        "latin_ratio": ratio(c[:, LATIN], visible),
        "punct_ratio": ratio(c[:, PUNCT], visible),
    }


def line_metrics(lines: pa.Array, parents: np.ndarray, visible: np.ndarray, n_docs: int,
                 bullet_max_chars: int | None = None) -> dict[str, np.ndarray]:
    """Mean line length and bullet/ellipsis shares over the non-empty lines of each document (bullet lines
    of at most `bullet_max_chars` visible characters). `lines`, `parents` (document of each line) and
    `visible` (its visible characters) are aligned."""
    nonempty = visible > 0
    docs = parents[nonempty]
    n_lines = np.bincount(docs, minlength=n_docs)
    chars = np.bincount(docs, weights=visible[nonempty], minlength=n_docs)
    out = {"lines": n_lines, "mean_line_chars": ratio(chars, n_lines)}
    if len(lines):
        bullet = pc.match_substring_regex(lines, BULLET).to_numpy(zero_copy_only=False) & nonempty
        if bullet_max_chars is not None:
            bullet &= visible <= bullet_max_chars
        ellipsis = pc.match_substring_regex(lines, ELLIPSIS).to_numpy(zero_copy_only=False) & nonempty
    else:
        bullet = ellipsis = np.zeros(0, bool)
    out["bullet_line_ratio"] = ratio(np.bincount(parents[bullet], minlength=n_docs), n_lines)
    out["ellipsis_line_ratio"] = ratio(np.bincount(parents[ellipsis], minlength=n_docs), n_lines)
    return out


def url_ratio(url_chars: np.ndarray, parents: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Share of visible characters inside URLs, from the URL characters of each line."""
    inside = np.bincount(parents, weights=url_chars, minlength=len(visible))
    return np.minimum(ratio(inside, visible), 1.0)


def prose_chars(lines: pa.Array, parents: np.ndarray, visible: np.ndarray, han: np.ndarray, n_docs: int,
                min_han: int, long_chars: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Visible characters of each document's distinct prose lines: at least `min_han` Han characters and
    a sentence punctuation mark (，。！？；); and of those longer than `long_chars` (paragraphs, not list
    items). A repeated line counts once, so a page that repeats one sentence has little prose. Only the
    lines with enough Han characters are searched."""
    out, long = np.zeros(n_docs, np.int64), np.zeros(n_docs, np.int64)
    cand = np.flatnonzero(han >= min_han)
    if not len(cand):
        return out, long
    sub = lines.take(pa.array(cand))
    hit = pc.match_substring_regex(sub, SENTENCE).to_numpy(zero_copy_only=False)
    if not hit.any():
        return out, long
    idx = cand[hit]
    t = pa.table({"doc": pa.array(parents[idx], pa.int64()), "line": pc.utf8_trim_whitespace(sub.filter(hit)),
                  "len": pa.array(visible[idx], pa.int64())})
    groups = t.group_by(["doc", "line"], use_threads=False).aggregate([("len", "max")])
    docs, lengths = groups.column("doc").to_numpy(), groups.column("len_max").to_numpy()
    np.add.at(out, docs, lengths)
    if long_chars is not None:
        np.add.at(long, docs, np.where(lengths > long_chars, lengths, 0))
    return out, long
