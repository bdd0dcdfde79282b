"""Fine filtering: the rules that catch the junk the quality classifier lets through, and the final gate.

Yuan 1.0's team found that advertisements and keyword-stuffed pages read fluently enough to score high.
Each rule below scores every document (columns `fine__<metric>`), then decides with its own threshold and
reason; a threshold of null switches a rule off. In order of precedence:

- `keyword_stuffing`: a few words repeated far above their dictionary frequency, or one phrase repeated
                      verbatim (jieba, bounded prefix);
- `spam_keywords`:    gambling, porn and grey-service terms in the body;
- `spam_title`:       a first line built from search-engine bait ("…哪家好_…电话_…价格");
- `call_to_action`:   dense calls to act (加微信, 联系电话, 点击购买, 扫码, 代理加盟, phone and QQ numbers);
- `templated`:        many lines equal after masking digits and Latin runs;
- `too_short_final`:  the length gate, after the last clean-up (short call-to-action lines are removed
                      from the documents that are kept).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.errors import ConfigError
from mdfs.stage import REJECT, Stage, StageContext, add_details, reject_where
from mdfs.stages.fine import lexicon
from mdfs.stages.fine.rules import (
    StuffingScorer,
    alternation,
    count_matches,
    first_line,
    strip_lines,
    template_lines,
)


class StuffingRule(Strict):
    threshold: float | None = Field(0.45, ge=0, le=1, description="excess share of the top words; null: off")
    phrase_threshold: float | None = Field(
        0.33, ge=0, le=1, description="share of the words in the most repeated adjacent word pairs; null: off"
    )
    top_words: int = Field(3, ge=1, le=20)
    max_chars: int = Field(1000, ge=50, description="jieba sees this prefix only (~1 MB/s per core)")
    min_words: int = Field(30, ge=1, description="texts with fewer words of ≥2 characters score 0")


class KeywordRule(Strict):
    words: list[str] | None = Field(None, description="null: the built-in list (stages/fine/lexicon.py)")
    files: list[str] = Field(default_factory=list, description="more terms, one per line (UTF-8)")
    min_hits: int | None = Field(3, ge=1, description="occurrences to drop; null: off")


class TitleRule(Strict):
    words: list[str] | None = Field(None, description="null: the built-in list")
    min_hits: int | None = Field(2, ge=1, description="occurrences in the title to drop; null: off")
    max_chars: int = Field(80, ge=1, description="a longer first line is not a title")


class CtaRule(Strict):
    phrases: list[str] | None = Field(
        None, description="null: the built-in list; phone/QQ numbers always count"
    )
    min_hits: int | None = Field(3, ge=1, description="occurrences needed to drop; null: off")
    per_1000: float = Field(3.0, ge=0, description="and occurrences per 1,000 characters")
    # ads ask in several ways (加微信, 包邮, 扫码, a mobile number); a notice that lists 60 visitor hotlines
    # repeats one (咨询电话 and phone numbers): distinct phrases needed to drop, numbers counting as one
    min_distinct: int = Field(3, ge=1, description="and distinct phrases among them (any number: one more)")
    strip_lines: bool = Field(True, description="remove short matching lines from documents that are kept")
    line_max_chars: int = Field(40, ge=1)


class TemplateRule(Strict):
    min_lines: int | None = Field(6, ge=2, description="lines sharing one template to drop; null: off")
    min_share: float = Field(0.3, ge=0, le=1, description="and their share of the document's lines")
    min_line_chars: int = Field(6, ge=1, description="shorter lines are ignored")


class FineFilter(Stage):
    class Params(Strict):
        min_chars: int = Field(50, ge=0, description="characters after all line cleaning")
        stuffing: StuffingRule = Field(default_factory=StuffingRule)
        keywords: KeywordRule = Field(default_factory=KeywordRule)
        title: TitleRule = Field(default_factory=TitleRule)
        cta: CtaRule = Field(default_factory=CtaRule)
        template: TemplateRule = Field(default_factory=TemplateRule)

    def setup(self) -> None:
        p = self.params
        words = list(lexicon.SPAM_KEYWORDS if p.keywords.words is None else p.keywords.words)
        for path in p.keywords.files:
            try:
                words += [w.strip() for w in Path(path).read_text(encoding="utf-8").splitlines() if w.strip()]
            except OSError as e:
                raise ConfigError(f"stage {self.name}: keywords.files: cannot read {path}: {e}") from None
        self.keyword_re = alternation(words)
        self.title_re = alternation(lexicon.TITLE_KEYWORDS if p.title.words is None else p.title.words)
        phrases = lexicon.CTA_PHRASES if p.cta.phrases is None else p.cta.phrases
        self.cta_re = alternation(phrases, lexicon.CTA_PATTERNS)
        # re.ASCII: RE2, which counts the hits, has an ASCII \d
        self.cta_py = re.compile(self.cta_re, re.ASCII) if self.cta_re else None
        self.cta_phrases = frozenset(phrases)
        s = p.stuffing
        on = s.threshold is not None or s.phrase_threshold is not None
        self.stuffing = StuffingScorer(s.top_words, s.max_chars, s.min_words) if on else None

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        p = self.params
        text = batch.column("text")
        length = pc.utf8_length(text)
        scores: dict[str, pa.Array] = {}
        if self.stuffing is not None:
            scores["stuffing"], scores["phrase_repeat"] = self.stuffing.scores(text.to_pylist())
            ctx.count(
                "jieba_chars", int(pc.sum(pc.min_element_wise(length, p.stuffing.max_chars)).as_py() or 0)
            )
        scores["keyword_hits"] = count_matches(text, self.keyword_re)
        scores["title_hits"] = count_matches(first_line(text, p.title.max_chars), self.title_re)
        cta = count_matches(text, self.cta_re)
        scores["cta_hits"] = cta
        scores["cta_distinct"] = self._cta_distinct(text, cta)
        scores["cta_per_1000"] = pc.cast(
            pc.divide(
                pc.multiply(pc.cast(cta, pa.float64()), 1000.0),
                pc.max_element_wise(pc.cast(length, pa.float64()), 1.0),
            ),
            pa.float32(),
        )
        same, lines = template_lines(text, p.template.min_line_chars)
        scores["template_lines"] = same
        scores["template_share"] = pc.cast(
            pc.divide(pc.cast(same, pa.float64()), pc.max_element_wise(pc.cast(lines, pa.float64()), 1.0)),
            pa.float32(),
        )
        why: dict[str, tuple] = {}
        rules = self._rules(scores, why)
        text = self._strip(text, rules, cta, ctx)
        final = pc.utf8_length(text)
        batch = batch.set_column(batch.column_names.index("text"), "text", text)
        batch = self.with_scores(batch, {**scores, "chars": pc.cast(final, pa.int32())})
        batch = reject_where(batch, rules + [(pc.less(final, p.min_chars), "too_short_final")])
        return add_details(batch, self._details(batch.column(REJECT).to_pylist(), scores, final, why))

    def _cta_distinct(self, text, cta: pa.Array) -> pa.Array:
        """Distinct calls to action in documents with at least two hits: the distinct phrases among the
        same non-overlapping matches that were counted as hits (so 诚招代理 is not also 招代理), phone and
        QQ numbers together counting as one; a document with fewer hits keeps its hit count. Only those
        few documents are searched again, in Python."""
        hits = cta.to_numpy(zero_copy_only=False).astype(np.int32)
        out = hits.copy()
        rows = np.flatnonzero(hits >= 2)
        if len(rows) and self.cta_py is not None:
            values = pc.take(text, pa.array(rows)).to_pylist()
            for i, t in zip(rows, values):
                found = {m if m in self.cta_phrases else "#number" for m in self.cta_py.findall(t or "")}
                out[i] = len(found)
        return pa.array(out, pa.int32())

    def _details(self, reasons: list, s: dict, final: pa.Array, why: dict) -> list[str | None]:
        """The values behind each rejection, e.g. `keyword_hits=6 (limit 5)`; `why` is what `_rules`
        recorded."""
        out: list[str | None] = []
        for i, reason in enumerate(reasons):
            if reason == "too_short_final":
                out.append(f"chars={final[i].as_py()} < {self.params.min_chars}")
            elif reason in why:
                out.append(", ".join(f"{m}={s[m][i].as_py():.4g} (limit {limit})" for m, limit in why[reason]
                                     if m in s))
            else:
                out.append(None)
        return out

    def _rules(self, s: dict[str, pa.Array], why: dict | None = None) -> list[tuple[pa.Array, str]]:
        """(mask, reason) per enabled rule; each rule's (metric, threshold) pairs go to `why` for details."""
        p, rules = self.params, []
        why = {} if why is None else why
        why |= {"keyword_stuffing": (("stuffing", p.stuffing.threshold),
                                     ("phrase_repeat", p.stuffing.phrase_threshold)),
                "spam_keywords": (("keyword_hits", p.keywords.min_hits),),
                "spam_title": (("title_hits", p.title.min_hits),),
                "call_to_action": (("cta_hits", p.cta.min_hits), ("cta_per_1000", p.cta.per_1000),
                                   ("cta_distinct", p.cta.min_distinct)),
                "templated": (("template_lines", p.template.min_lines),
                              ("template_share", p.template.min_share))}
        if "stuffing" in s:
            t, r = p.stuffing.threshold, p.stuffing.phrase_threshold
            off = pa.array([False] * len(s["stuffing"]), pa.bool_())
            words = pc.greater_equal(s["stuffing"], t) if t is not None else off
            rules.append(
                (
                    pc.or_(words, pc.greater_equal(s["phrase_repeat"], r if r is not None else 2.0)),
                    "keyword_stuffing",
                )
            )
        if p.keywords.min_hits is not None:
            rules.append((pc.greater_equal(s["keyword_hits"], p.keywords.min_hits), "spam_keywords"))
        if p.title.min_hits is not None:
            rules.append((pc.greater_equal(s["title_hits"], p.title.min_hits), "spam_title"))
        if p.cta.min_hits is not None:
            rules.append(
                (
                    pc.and_(
                        pc.and_(
                            pc.greater_equal(s["cta_hits"], p.cta.min_hits),
                            pc.greater_equal(s["cta_per_1000"], p.cta.per_1000),
                        ),
                        pc.greater_equal(s["cta_distinct"], p.cta.min_distinct),
                    ),
                    "call_to_action",
                )
            )
        if p.template.min_lines is not None:
            rules.append(
                (
                    pc.and_(
                        pc.greater_equal(s["template_lines"], p.template.min_lines),
                        pc.greater_equal(s["template_share"], p.template.min_share),
                    ),
                    "templated",
                )
            )
        return rules

    def _strip(self, text, rules, cta: pa.Array, ctx: StageContext):
        """Remove short call-to-action lines from documents no rule drops (the last line clean-up)."""
        if not self.params.cta.strip_lines or self.cta_py is None:
            return text
        dropped = pa.array([False] * len(text), pa.bool_())
        for mask, _ in rules:
            dropped = pc.or_(dropped, pc.fill_null(mask, False))
        todo = pc.and_(pc.invert(dropped), pc.greater(cta, 0))
        rows = pc.indices_nonzero(todo).to_pylist()
        if not rows:
            return text
        values = text.to_pylist()
        for i in rows:
            values[i], removed = strip_lines(values[i], self.cta_py, self.params.cta.line_max_chars)
            if removed:
                ctx.count("cta_lines_removed", removed)
                ctx.count("docs_cleaned", 1)
        return pa.array(values, pa.string())
