"""Coarse filtering: cheap Chinese rules that remove web junk and keep real prose.

Per batch, in order: line cleaning (navigation, boilerplate, link lists, URL and symbol lines, injected
pinyin), then document metrics on the cleaned text (length, script ratios, line shape, repetition on
character n-grams, URL density, lexicon hits per category, URL and domain rules), then PII masking.
Every metric is a column `coarse__<metric>`; every rule has a threshold in `Params` (null switches it
off) and a named reason. Counters (merged into the run's stats) give, for every rule, the documents it
flagged (`docs_flagged__<reason>`, also when an earlier rule already named the reason), the lines and
characters each line rule removed, lexicon hits per category and PII masks per type.

The rules live one concern per module in `stages/rules/`; this class wires them together.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.stage import REJECT, Stage, StageContext, add_details, reject_where
from mdfs.stages.rules.chars import ratio
from mdfs.stages.rules.document import DocumentRules, char_metrics, line_metrics, prose_chars, url_ratio
from mdfs.stages.rules.lexicon import Lexicon, LexiconRules
from mdfs.stages.rules.lines import LineCleaner, LineCleaning
from mdfs.stages.rules.pii import PiiMasker, PiiMasking
from mdfs.stages.rules.repetition import RepetitionRules, duplicate_fractions, ngram_shares
from mdfs.stages.rules.spamblocks import SpamBlockCutter, SpamBlocks
from mdfs.stages.rules.urls import UrlMatcher, UrlRules

F32 = pa.float32()


class CoarseFilter(Stage):
    class Params(Strict):
        min_chars: int = Field(50, ge=0, description="visible characters after line cleaning")
        min_chinese_ratio: float = Field(0.3, ge=0, le=1, description="Han characters / visible characters")
        document: DocumentRules = Field(default_factory=DocumentRules)
        repetition: RepetitionRules = Field(default_factory=RepetitionRules)
        lexicon: LexiconRules = Field(default_factory=LexiconRules)
        urls: UrlRules = Field(default_factory=UrlRules)
        cleaning: LineCleaning = Field(default_factory=LineCleaning)
        spam_blocks: SpamBlocks = Field(default_factory=SpamBlocks)
        pii: PiiMasking = Field(default_factory=PiiMasking)

    _ready = False

    def setup(self) -> None:
        p = self.params
        self.cleaner = LineCleaner(p.cleaning)
        self.spam_blocks = SpamBlockCutter(p.spam_blocks) if p.spam_blocks.enabled else None
        self.lexicon = Lexicon(p.lexicon)
        self.urls = UrlMatcher(p.urls)
        self.pii = PiiMasker(p.pii)
        self._ready = True

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        if not self._ready:  # tolerate callers that skip setup(); workers call it once
            self.setup()
        n = batch.num_rows
        text, cut_column = self._cut_spam_blocks(batch.column("text"), ctx)
        cleaned = self.cleaner.clean(text)
        for key, value in cleaned.counters.items():
            ctx.count(key, value)
        scores = char_metrics(cleaned.view)
        d = self.params.document
        scores |= line_metrics(cleaned.lines, cleaned.parents, cleaned.visible, n, d.bullet_max_chars)
        scores["prose_chars"], scores["long_prose_chars"] = prose_chars(
            cleaned.lines, cleaned.parents, cleaned.visible, cleaned.han, n, d.prose_min_han,
            d.bullet_max_chars)
        scores |= self._repetition(cleaned, scores["chars"], n)
        scores["url_ratio"] = url_ratio(cleaned.url_chars, cleaned.parents, scores["chars"])
        lexicon = self._lexicon(cleaned.view, scores["chars"], ctx)
        urls = self._urls(batch)
        text, masked = self.pii.mask(cleaned.text)
        for kind, count in masked.items():
            ctx.count(f"pii_masked__{kind}", count)

        batch = batch.set_column(batch.column_names.index("text"), "text", text)
        batch = self.with_scores(batch, self._columns(scores, lexicon, urls))
        if cut_column is not None:
            batch = self.with_scores(batch, {"cut_spam": cut_column})
        why: dict[str, tuple[str, str, float]] = {}
        rules = self._rules(scores, lexicon, urls, why)
        for mask, reason in rules:
            ctx.count(f"docs_flagged__{reason}", int(np.count_nonzero(mask)))
        batch = reject_where(batch, [(pa.array(mask, pa.bool_()), reason) for mask, reason in rules])
        return add_details(batch,
                           self._details(batch.column(REJECT).to_pylist(), scores, lexicon, why, text, batch))

    def _details(self, reasons: list, s: dict, lexicon: dict, why: dict, text,
                 batch: pa.Table) -> list[str | None]:
        """Which value tripped each rejected document's rule: `zh_ratio=0.12 < 0.2`,
        `lexicon_porn: 5 hits, 4 distinct ≥ 3: 裸聊, …`, `url: http://…`. `why` is what `_rules` recorded."""
        out: list[str | None] = []
        for i, reason in enumerate(reasons):
            if reason is None:
                out.append(None)
            elif reason.startswith("lexicon_"):
                hits, _, distinct = lexicon[reason.removeprefix("lexicon_")]
                cat = self.params.lexicon.categories[reason.removeprefix("lexicon_")]
                name = reason.removeprefix("lexicon_")
                terms = list(dict.fromkeys(self.lexicon.matched_terms(text[i].as_py() or "", name)))[:5]
                out.append(f"{reason}: {hits[i]} hits, {distinct[i]} distinct >= {cat.min_distinct}: "
                           + ", ".join(terms))
            elif reason in ("blocked_domain", "url_pattern"):
                out.append(f"url: {batch.column('url')[i].as_py()}" if "url" in batch.column_names else None)
            elif reason in why:
                metric, op, limit = why[reason]
                out.append(f"{metric}={float(s[metric][i]):.4g} {op} {limit}")
            else:
                out.append(None)
        return out

    def _cut_spam_blocks(self, text, ctx: StageContext):
        """Text with spam blocks cut out (stages/rules/spamblocks.py), and the cut text column."""
        if self.spam_blocks is None:
            return text, None
        cut = self.spam_blocks.cut(text.to_pylist())
        ctx.count("lines_removed__spam_block", cut.lines)
        ctx.count("chars_removed__spam_block", cut.chars)
        column = pa.array(cut.cut, pa.string()) if self.params.spam_blocks.keep_cut else None
        return (pa.array(cut.texts, pa.string()) if cut.lines else text), column

    # -- metrics --------------------------------------------------------------------------------
    def _repetition(self, cleaned, chars: np.ndarray, n: int) -> dict[str, np.ndarray]:
        r = self.params.repetition
        out = {}
        out["dup_line_frac"], out["dup_line_char_frac"] = duplicate_fractions(cleaned.lines, cleaned.parents,
                                                                              n)
        paragraphs = pc.split_pattern(cleaned.text, "\n\n")
        flat = pc.list_flatten(paragraphs)
        parents = pc.list_parent_indices(paragraphs)
        parents = (parents.combine_chunks() if isinstance(parents, pa.ChunkedArray) else parents).to_numpy()
        out["dup_para_frac"], out["dup_para_char_frac"] = duplicate_fractions(flat, parents.astype(np.int64),
                                                                              n)
        short = chars < r.min_ngram_chars
        shares = ngram_shares(cleaned.view, set(r.max_top_ngram_share), set(r.max_dup_ngram_share))
        for key, values in shares.items():
            kind, size = key.split("_")
            out[f"{kind}_{size}gram_share"] = np.where(short, 0.0, values)
        return out

    def _lexicon(self, view, visible: np.ndarray, ctx: StageContext) -> dict[str, tuple[np.ndarray, ...]]:
        hits, distinct = self.lexicon.counts(view)
        out = {}
        for i, name in enumerate(self.lexicon.names):
            ctx.count(f"lexicon_hits__{name}", int(hits[:, i].sum()))
            out[name] = (hits[:, i], ratio(hits[:, i] * 1000.0, visible), distinct[:, i])
        return out

    def _urls(self, batch: pa.Table) -> dict[str, np.ndarray]:
        if "url" not in batch.column_names:
            return {"blocked_domain": np.zeros(batch.num_rows, bool),
                    "url_pattern": np.zeros(batch.num_rows, bool)}
        url = batch.column("url").cast(pa.string())
        return {"blocked_domain": _np(self.urls.blocked_domain(url)),
                "url_pattern": _np(self.urls.pattern_match(url))}

    def _columns(self, scores: dict, lexicon: dict, urls: dict) -> dict[str, pa.Array]:
        counts = ("chars", "lines", "prose_chars", "long_prose_chars")
        cols = {k: pa.array(scores[k], pa.int64()) for k in counts}
        cols |= {k: pa.array(v, F32) for k, v in scores.items() if k not in counts}
        cols["zh_ratio"] = pa.array(scores["zh_ratio"], pa.float64())
        for name, (hits, density, distinct) in lexicon.items():
            cols[f"lex_{name}_hits"] = pa.array(hits, pa.int32())
            cols[f"lex_{name}_density"] = pa.array(density, F32)
            cols[f"lex_{name}_distinct"] = pa.array(distinct, pa.int32())
        cols |= {k: pa.array(v, pa.bool_()) for k, v in urls.items()}
        return cols

    # -- decisions ------------------------------------------------------------------------------
    def _rules(self, s: dict, lexicon: dict, urls: dict,
               why: dict | None = None) -> list[tuple[np.ndarray, str]]:
        """(mask, reason) for every enabled rule, in the order that names a document's reason. Rules on one
        metric also record (metric, comparison, threshold) in `why`, for the rejects' details."""
        p, d, r = self.params, self.params.document, self.params.repetition
        why = {} if why is None else why
        rules: list[tuple[np.ndarray, str]] = []

        def rule(metric: str, op: str, limit: float | None, reason: str, where=True) -> None:
            if limit is not None:
                rules.append((where & (s[metric] > limit if op == ">" else s[metric] < limit), reason))
                why[reason] = (metric, op, limit)

        # pages with enough distinct prose are not judged by their line shape (forum threads, code-heavy
        # posts)
        shaped = s["prose_chars"] < d.prose_min_chars if d.prose_min_chars is not None else True
        listed = s["long_prose_chars"] < d.prose_min_chars if d.prose_min_chars is not None else True
        rule("chars", "<", p.min_chars, "too_short")
        rule("zh_ratio", "<", p.min_chinese_ratio, "low_chinese_ratio", shaped)
        rules += [(urls["blocked_domain"], "blocked_domain"), (urls["url_pattern"], "url_pattern")]
        for name, (hits, density, distinct) in lexicon.items():
            cat = p.lexicon.categories[name]
            rules.append(((hits >= cat.min_hits) & (density >= cat.min_density)
                          & (distinct >= cat.min_distinct),
                          f"lexicon_{name}"))
        for kind in ("symbol", "digit", "latin", "punct"):
            rule(f"{kind}_ratio", ">", getattr(d, f"max_{kind}_ratio"), f"high_{kind}_ratio")
        for metric, reason in (("dup_line_frac", "dup_lines"), ("dup_line_char_frac", "dup_line_chars"),
                               ("dup_para_frac", "dup_paragraphs"),
                               ("dup_para_char_frac", "dup_paragraph_chars")):
            rule(metric, ">", getattr(r, f"max_{metric}"), reason, shaped)
        for size, limit in sorted(r.max_top_ngram_share.items()):
            rule(f"top_{size}gram_share", ">", limit, f"top_{size}gram")
        for size, limit in sorted(r.max_dup_ngram_share.items()):
            rule(f"dup_{size}gram_share", ">", limit, f"dup_{size}gram")
        lined = s["lines"] >= d.min_lines
        rule("mean_line_chars", "<", d.min_mean_line_chars, "short_lines", lined & shaped)
        rule("bullet_line_ratio", ">", d.max_bullet_line_ratio, "bullet_lines", lined & listed)
        rule("ellipsis_line_ratio", ">", d.max_ellipsis_line_ratio, "ellipsis_lines", lined)
        rule("url_ratio", ">", d.max_url_ratio, "url_density")
        return rules


def _np(arr) -> np.ndarray:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.to_numpy(zero_copy_only=False).astype(bool)
