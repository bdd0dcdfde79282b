"""Spam blocks inside good pages: runs of short lines full of porn or gambling terms are cut out.

A good article often ships with a "同类推荐" list of porn-novel titles or a footer of lottery links.
Dropping the page loses the article; keeping it keeps the list. So, before the document rules see the
text, every run of at least `min_run` consecutive short lines that each carry a term of the chosen
lexicon categories is removed (blank lines do not break a run), and the removed text is kept for audit
in the column `coarse__cut_spam` (`keep_cut`). A block is cut only while it is a minority of the page
(`max_cut_share` of its characters): a page that is mostly such lines is junk itself, and cutting would
only make it look clean to the rules and the page model that follow, so it is left whole; so is a page
whose other lines use the block's words too (erotica under a list of porn titles is one page of porn). Only
documents with at
least `min_run` matches anywhere are looked at line by line, so clean text costs one automaton scan.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from pydantic import Field

from mdfs.config import Strict
from mdfs.stages.rules.lexicon import DEFAULTS, LEXICON_DIR, normalise, read_terms


class SpamBlocks(Strict):
    enabled: bool = True
    categories: list[str] = Field(default_factory=lambda: ["porn", "gambling_lottery"],
                                  description="bundled lexicon categories whose terms mark a spam line")
    min_run: int = Field(3, ge=2, description="consecutive spam lines that make a block")
    max_line_chars: int = Field(80, ge=10, description="longer lines are prose, never part of a block")
    max_cut_share: float = Field(0.3, ge=0, le=1, description="cut only blocks that are at most this share "
                                 "of the page's characters")
    keep_cut: bool = Field(True, description="keep the cut text in the column coarse__cut_spam")


@dataclass
class Cut:
    texts: list[str]
    cut: list[str | None]
    lines: int = 0
    chars: int = 0


class SpamBlockCutter:
    def __init__(self, params: SpamBlocks):
        import ahocorasick_rs
        import opencc

        t2s = opencc.OpenCC("t2s")
        unknown = [c for c in params.categories if c not in DEFAULTS]
        if unknown:
            raise ValueError(f"spam_blocks.categories: unknown lexicon categories {unknown}")
        terms = {normalise(t2s.convert(t)) for c in params.categories
                 for t, exception in read_terms(LEXICON_DIR / f"{c}.txt") if not exception}
        self.params = params
        self._ac = ahocorasick_rs.AhoCorasick(sorted(t for t in terms if len(t) >= 2))

    def cut(self, texts: list[str | None]) -> Cut:
        out = Cut([], [])
        for text in texts:
            kept, removed = self._cut_one(text or "")
            out.texts.append(kept if removed else text)
            out.cut.append("\n".join(removed) if removed and self.params.keep_cut else None)
            out.lines += len(removed)
            out.chars += sum(map(len, removed))
        return out

    def _cut_one(self, text: str) -> tuple[str, list[str]]:
        p = self.params
        lowered = text.lower()
        if len(lowered) != len(text):  # lower() changed the length (rare non-Chinese letters): no offsets
            return text, []
        hits = self._ac.find_matches_as_indexes(lowered)
        if len(hits) < p.min_run:
            return text, []
        lines = text.split("\n")
        starts, pos = [], 0
        for line in lines:
            starts.append(pos)
            pos += len(line) + 1
        spam, hit_lines = [False] * len(lines), set()
        for _, start, _ in hits:
            i = bisect_right(starts, start) - 1
            spam[i] = len(lines[i]) <= p.max_line_chars
            hit_lines.add(i)
        drop = self._runs(lines, spam)
        if not drop or hit_lines - drop:  # the rest of the page uses the same words: it is on-topic junk
            return text, []
        kept = [line for i, line in enumerate(lines) if i not in drop]
        if sum(len(lines[i]) for i in drop) > p.max_cut_share * len(text):
            return text, []
        return "\n".join(kept), [lines[i] for i in sorted(drop)]

    def _runs(self, lines: list[str], spam: list[bool]) -> set[int]:
        """Indexes of lines in runs of at least `min_run` spam lines; blank lines inside a run go too."""
        drop: set[int] = set()
        run: list[int] = []
        for i, line in enumerate(lines + ["<end>"]):
            if i < len(lines) and (spam[i] or (not line.strip() and run)):
                run.append(i)
                continue
            while run and not lines[run[-1]].strip():
                run.pop()
            if sum(spam[j] for j in run) >= self.params.min_run:
                drop.update(run)
            run = []
        return drop
