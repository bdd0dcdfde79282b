"""The measurements behind the fine filter, each a function of a text column.

Everything but keyword stuffing is computed in Arrow (RE2 alternations, list kernels, group-by), with no
Python loop over documents. Keyword stuffing needs words, so it runs jieba, on a bounded prefix only.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc


def alternation(terms: list[str], patterns: list[str] = ()) -> str | None:
    """One RE2 pattern matching any of the literal terms (longest first) or any of the patterns."""
    literal = sorted({t for t in terms if t}, key=len, reverse=True)
    parts = [re.escape(t) for t in literal] + list(patterns)
    return "|".join(f"(?:{p})" for p in parts) if parts else None


def count_matches(text: pa.ChunkedArray | pa.Array, pattern: str | None) -> pa.Array:
    """Non-overlapping matches of `pattern` per document (zeros when there is no pattern)."""
    if pattern is None:
        return pa.array([0] * len(text), pa.int32())
    return pc.cast(pc.fill_null(pc.count_substring_regex(text, pattern), 0), pa.int32())


def first_line(text: pa.ChunkedArray | pa.Array, max_chars: int) -> pa.Array:
    """The title: the first non-empty line when it is at most `max_chars` long, else empty."""
    head = pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(text, 0, max_chars * 4 + 8))
    line = pc.list_element(pc.split_pattern(head, "\n", max_splits=1), 0)
    return pc.if_else(pc.less_equal(pc.utf8_length(line), max_chars), line, "")


def template_lines(text: pa.ChunkedArray | pa.Array, min_line_chars: int) -> tuple[pa.Array, pa.Array]:
    """Per document: how many lines share its most common template, and how many lines it has.

    A template is the line with digit runs masked to 0 and Latin runs to a ("第12期 特码 34" and
    "第13期 特码 07" are one template). Lines shorter than `min_line_chars` after masking, and lines with
    fewer than two Chinese characters (timestamps and counters under the comments of a thread), are
    ignored."""
    n = len(text)
    lines = pc.split_pattern(pc.fill_null(text, ""), "\n")
    parents = pc.list_parent_indices(lines)
    flat = pc.list_flatten(lines)
    masked = pc.replace_substring_regex(flat, r"[0-9]+", "0")
    masked = pc.utf8_trim_whitespace(pc.replace_substring_regex(masked, r"[A-Za-z]+", "a"))
    keep = pc.and_(
        pc.greater_equal(pc.utf8_length(masked), min_line_chars),
        pc.greater_equal(pc.count_substring_regex(masked, r"[\x{3400}-\x{9fff}]"), 2),
    )
    table = pa.table({"doc": parents, "line": masked}).filter(keep)
    top = pa.array([0] * n, pa.int64()).to_numpy(zero_copy_only=False).copy()
    total = top.copy()
    if table.num_rows:
        per_line = table.group_by(["doc", "line"]).aggregate([([], "count_all")])
        per_doc = per_line.group_by("doc").aggregate([("count_all", "max"), ("count_all", "sum")])
        docs = per_doc.column("doc").to_numpy()
        top[docs] = per_doc.column("count_all_max").to_numpy()
        total[docs] = per_doc.column("count_all_sum").to_numpy()
    return pa.array(top, pa.int32()), pa.array(total, pa.int32())


class StuffingScorer:
    """Keyword stuffing, from one jieba pass (no HMM) over the first `max_chars` characters. Two scores:

    - `stuffing`: over the words of at least two characters, each word's excess is its count minus the
      count its jieba dictionary frequency predicts; the score is the summed excess of the `top` words
      divided by the number of words. Function words are frequent in the dictionary, so their excess is
      near zero; a landing page that repeats "苏州 搬家公司" scores 0.45 or more.
    - `phrase_repeat`: the share of the words covered by the `top` most repeated pairs of adjacent words
      (a keyword phrase repeated verbatim); encyclopedic prose about one subject stays under 0.25, because
      its subject comes in varying contexts (docs/fine.md).
    """

    _WORD = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")

    def __init__(self, top: int, max_chars: int, min_words: int):
        import rjieba

        self.freq, self.total = jieba_frequencies()
        # Segmentation by rjieba (jieba's algorithm and dictionary in Rust, same words without HMM,
        # ~15x faster than the Python package); the Python package only supplies word frequencies.
        self.cut = rjieba.Jieba().cut
        self.top, self.max_chars, self.min_words = top, max_chars, min_words

    def score(self, text: str | None) -> tuple[float, float]:
        if not text:
            return 0.0, 0.0
        tokens = [w for w in self.cut(text[: self.max_chars], False) if self._WORD.search(w)]
        words = [w for w in tokens if len(w) >= 2 and not w.isdigit()]
        n = len(words)
        if n < self.min_words:
            return 0.0, 0.0
        excess = self._top_excess(Counter(words).most_common(), n)
        repeated = []  # counts of the most repeated pairs with a word of two or more characters
        for (a, b), c in Counter(zip(tokens, tokens[1:])).most_common():
            if len(a) >= 2 or len(b) >= 2:
                repeated.append(c)
                if len(repeated) == self.top:
                    break
        return max(0.0, sum(excess)) / n, min(1.0, 2 * sum(repeated) / len(tokens))

    def _top_excess(self, by_count: list[tuple[str, int]], n: int) -> list[float]:
        """The `top` largest excesses, largest first. A word's excess is at most its count, so the words,
        taken by count, stop mattering once a count is no more than the `top`-th excess found: the same
        values as computing every word's (and the dictionary is looked up ~10x less)."""
        best: list[float] = []
        for w, c in by_count:
            if len(best) == self.top and c <= best[-1]:
                break
            best.append(c - n * self.freq.get(w, 0) / self.total)
            best.sort(reverse=True)
            del best[self.top:]
        return best

    def scores(self, texts: list[str | None]) -> tuple[pa.Array, pa.Array]:
        both = [self.score(t) for t in texts]
        return pa.array([s for s, _ in both], pa.float32()), pa.array([r for _, r in both], pa.float32())


def jieba_frequencies() -> tuple[dict[str, int], float]:
    """jieba's word frequencies and their total, as `jieba.Tokenizer().initialize()` has them (FREQ also
    holds every word's prefixes at 0, which a lookup with a default of 0 does not need): the dictionary
    read with Arrow's CSV reader takes a third of the CPU (~0.5 s less per worker)."""
    import jieba
    import pyarrow.csv as pcsv

    path = Path(jieba.__file__).with_name("dict.txt")
    try:
        table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(column_names=["word", "freq", "tag"]),
                              parse_options=pcsv.ParseOptions(delimiter=" ", quote_char=False),
                              convert_options=pcsv.ConvertOptions(column_types={"word": pa.string(),
                                                                                "freq": pa.int64()}))
    except (OSError, pa.ArrowInvalid):  # another layout: jieba's own loader
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        return tokenizer.FREQ, float(tokenizer.total)
    freq = table.column("freq")
    return dict(zip(table.column("word").to_pylist(), freq.to_pylist())), float(pc.sum(freq).as_py() or 0)


def strip_lines(text: str, pattern: re.Pattern, max_chars: int) -> tuple[str, int]:
    """Remove short lines that match `pattern` (a trailing "扫码关注公众号"); return the text and how many."""
    out, removed = [], 0
    for line in text.split("\n"):
        if len(line) <= max_chars and pattern.search(line):
            removed += 1
        else:
            out.append(line)
    return ("\n".join(out).strip(), removed) if removed else (text, 0)
