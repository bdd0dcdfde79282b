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


class DocumentRules(Strict):
    """Thresholds on whole-document metrics; null switches a rule off."""

    max_symbol_ratio: float | None = Field(0.10, ge=0, le=1, description="symbols / visible characters")
    max_digit_ratio: float | None = Field(0.35, ge=0, le=1, description="digits / visible characters")
    max_latin_ratio: float | None = Field(0.70, ge=0, le=1, description="Latin letters / visible characters")
    max_punct_ratio: float | None = Field(0.35, ge=0, le=1, description="punctuation / visible characters")
    min_mean_line_chars: float | None = Field(8.0, ge=0, description="visible characters per non-empty line")
    max_bullet_line_ratio: float | None = Field(0.90, ge=0, le=1, description="lines starting with a bullet")
    max_ellipsis_line_ratio: float | None = Field(0.30, ge=0, le=1,
                                                  description="lines ending with an ellipsis")
    max_url_ratio: float | None = Field(0.30, ge=0, le=1, description="characters inside URLs / visible")
    min_lines: int = Field(3, ge=1, description="the line-shape rules judge documents with this many lines")


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


def line_metrics(lines: pa.Array, parents: np.ndarray, visible: np.ndarray,
                 n_docs: int) -> dict[str, np.ndarray]:
    """Mean line length and bullet/ellipsis shares over the non-empty lines of each document.
    `lines`, `parents` (document of each line) and `visible` (its visible characters) are aligned."""
    nonempty = visible > 0
    docs = parents[nonempty]
    n_lines = np.bincount(docs, minlength=n_docs)
    chars = np.bincount(docs, weights=visible[nonempty], minlength=n_docs)
    out = {"lines": n_lines, "mean_line_chars": ratio(chars, n_lines)}
    if len(lines):
        bullet = pc.match_substring_regex(lines, BULLET).to_numpy(zero_copy_only=False) & nonempty
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
