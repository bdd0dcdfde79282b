"""Collection: turn whatever the readers produced into uniform, normalised, Simplified Chinese documents.

Per document: decode web payloads (`charset`), extract the main text from HTML (`extract`), normalise
(`mdfs.textnorm`), identify the language (`language`, fastText lid.176 with a kana check), convert
Traditional to Simplified with OpenCC (Chinese documents only), and reject what is undecodable, empty
or in another language. Every input kind leaves with the same schema (`OUTPUT_FIELDS` then the stage's
score columns): text inputs get null web metadata; the binary `raw` column is dropped.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
from pydantic import Field

from mdfs.config import Strict
from mdfs.fasttext_check import require_trainable_fasttext
from mdfs.metadata import is_metadata
from mdfs.readers import DOC_SCHEMA
from mdfs.stage import REJECT, REJECT_DETAIL, Stage, StageContext
from mdfs.textnorm import normalize
from mdfs.hosts import host
from mdfs.warc import HTML_TYPES
from mdfs.stages.collection.charset import decode_page
from mdfs.stages.collection.extract import FALLBACK_MIN_CHARS, choose, get_extractor
from mdfs.stages.collection.language import CHINESE, LanguageId
from mdfs.stages.collection.threads import add_thread, thread_posts, trim_tail

OUTPUT_FIELDS = pa.schema([f for f in DOC_SCHEMA if f.name != "raw"] + [
    pa.field("charset", pa.string()),  # the codec a web payload was decoded with
    pa.field("lang", pa.string()), pa.field("lang_score", pa.float32()),
])
PREVIEW_CHARS = 2000


class NormalizeParams(Strict):
    nfkc: bool = True
    entities: bool = True
    invisible: bool = True
    whitespace: bool = True


class Collection(Stage):
    writes = ("charset", "lang", "lang_score", "text_original")  # columns for later stages (mdfs.columns)

    class Params(Strict):
        normalize: bool | NormalizeParams = True  # true = every step of NormalizeParams
        opencc: Literal["t2s", "tw2s", "hk2s", "none"] = "t2s"
        keep_original: bool = False  # keep the decoded, extracted text before normalisation and conversion
        extractor: Literal["trafilatura", "trafilatura_fast", "trafilatura_recall", "trafilatura_precision",
                           "resiliparse", "resiliparse_full"] = "trafilatura_recall"
        # when the extractor finds no main text (trafilatura's precision mode empties some forum and comment
        # pages), this one is asked instead, and the later rules judge its text; null: the page is `no_text`
        fallback_extractor: Literal["resiliparse", "resiliparse_full", "trafilatura_recall"] | None = \
            "resiliparse"
        # "no main text": fewer letters and digits than this (the coarse stage's min_chars would drop it
        # anyway)
        fallback_min_chars: int = Field(FALLBACK_MIN_CHARS, ge=1)
        # also take the fallback's text when it holds this many times more (threads whose replies the
        # extractor misses); costs a fallback call on every page; null: only when there is no main text
        fallback_ratio: float | None = Field(None, gt=1)
        # the page's largest run of sibling posts or paragraphs (`threads`): its posts are appended when they
        # hold this many times the extractor's text (thread replies it missed; null: never), and with
        # `trim_tail` what the extractor kept after the run is cut when it is not prose (related lists).
        # trim_tail is off: it raises the extraction's precision, but the bundled page model, trained on
        # untrimmed text, then calls some trimmed articles farms (docs/collection.md)
        thread_ratio: float | None = Field(2.0, gt=1)
        trim_tail: bool = False
        # trafilatura's time grows faster than linearly (1 MB: 2 s, 15 MB: 76 s); larger pages use this one
        large_page_extractor: Literal["resiliparse", "resiliparse_full"] = "resiliparse"
        large_page_mb: float = Field(1.0, gt=0)
        lang_id: bool = True  # false: no language column decisions, OpenCC on every document
        languages: list[str] = Field(default_factory=lambda: ["zh"])  # kept languages; [] keeps all
        min_lang_score: float = Field(0.5, ge=0.0, le=1.0)  # below: rejected as `lang`
        lang_chars: int = Field(500, ge=16)  # prefix the language is identified on (lid.176 saturates early)
        max_decode_errors: float = Field(0.001, ge=0.0, le=1.0)  # bad bytes a declared charset may have
        max_charset_chaos: float = Field(0.2, ge=0.0, le=1.0)  # charset-normalizer's mess ratio for detection

    def setup(self) -> None:
        import opencc

        p = self.params
        self.converter = None if p.opencc == "none" else opencc.OpenCC(p.opencc)
        self.extract = get_extractor(p.extractor)
        self.extract_large = get_extractor(p.large_page_extractor)
        self.extract_fallback = get_extractor(p.fallback_extractor) if p.fallback_extractor else None
        norm = NormalizeParams() if p.normalize is True else p.normalize or None
        self.norm_options = norm.model_dump() if norm is not None else None
        if p.lang_id:
            require_trainable_fasttext()  # fail early and clearly if fasttext-predict shadowed our fastText
            self.lid = LanguageId(max_chars=p.lang_chars)
        else:
            self.lid = None
        self.clock: StepClock | None = None  # set by the benchmark to time each step

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        n, names, p = batch.num_rows, batch.column_names, self.params
        col = {f: batch.column(f).to_pylist() if f in names else [None] * n for f in DOC_SCHEMA.names}
        docs = [self.document(col["text"][i], col["raw"][i], col["http_charset"][i], col["content_type"][i])
                for i in range(n)]
        for d in docs:
            if d.how:
                ctx.count(f"decoded_{d.how}")
            if d.lang:
                ctx.count(f"lang_{d.lang}")
        ctx.count("converted_to_simplified", sum(d.converted for d in docs))
        ctx.count("large_pages_fast_extractor", sum(d.large for d in docs))
        ctx.count("fallback_extractor", sum(d.fallback for d in docs))
        domains = [d or host(u) for d, u in zip(col["domain"], col["url"])]
        data = {f.name: col[f.name] for f in OUTPUT_FIELDS if f.name in col}
        data |= {"text": [d.text for d in docs], "domain": domains, "charset": [d.charset for d in docs],
                 "lang": [d.lang for d in docs], "lang_score": [d.lang_score for d in docs]}
        out = pa.table(data, schema=OUTPUT_FIELDS)
        if p.keep_original:
            out = out.append_column("text_original", pa.array([d.original for d in docs], pa.string()))
        out = self.with_scores(out, {"converted": pa.array([d.converted for d in docs], pa.bool_())})
        for name in names:  # input fields (title, licence, …) travel on with their documents
            if is_metadata(name) and name not in out.column_names:
                out = out.append_column(name, batch.column(name))
        if any(d.reason for d in docs):
            out = out.append_column(REJECT, pa.array([d.reason for d in docs], pa.string()))
            out = out.append_column(REJECT_DETAIL, pa.array([d.detail for d in docs], pa.string()))
        return out

    def main_text(self, html: str, large: bool = False) -> tuple[str, bool]:
        """The page's main text, and whether it is the fallback extractor's (see `extract.choose`)."""
        p = self.params
        text = (self.extract_large if large else self.extract)(html)
        if large:
            return text, False
        fallback = False
        if self.extract_fallback is not None:
            text, fallback = choose(text, lambda: self.extract_fallback(html), p.fallback_min_chars,
                                    p.fallback_ratio)
        if p.thread_ratio is not None or p.trim_tail:
            posts = thread_posts(html)
            if p.thread_ratio is not None:
                text = add_thread(text, posts, p.thread_ratio)
            if p.trim_tail:
                text = trim_tail(text, posts)
        return text, fallback

    def document(self, text: str | None, raw: bytes | None, http_charset: str | None = None,
                 content_type: str | None = None) -> Doc:
        """One document through every step: decode, extract, normalise, identify, convert, decide."""
        p, clock, doc = self.params, self.clock or _NO_CLOCK, Doc()
        if raw is not None:
            with clock("decode"):
                decoded = decode_page(raw, http_charset, max_errors=p.max_decode_errors,
                                      max_chaos=p.max_charset_chaos)
            doc.how = decoded.how
            if decoded.text is None:
                doc.text = raw[: PREVIEW_CHARS * 3].decode("utf-8", "replace")[:PREVIEW_CHARS]
                doc.reason = "undecodable"
                doc.detail = f"no confident charset (declared {http_charset}, best guess {decoded.charset})"
                return doc
            doc.charset = decoded.charset
            if content_type in HTML_TYPES or content_type is None:
                doc.large = len(raw) > p.large_page_mb * 1e6
                with clock("extract"):
                    text, doc.fallback = self.main_text(decoded.text, doc.large)
            else:
                text = decoded.text
        text = text or ""
        doc.original = text
        if self.norm_options is not None:
            with clock("normalise"):
                text = normalize(text, **self.norm_options)
        doc.text = text
        if not text.strip():
            doc.reason = "no_text"
            doc.detail = "no main text" if raw is not None else "empty after normalisation"
            return doc
        if self.lid is not None:
            with clock("language"):
                doc.lang, doc.lang_score = self.lid.predict(text)
        if self.converter is not None and (self.lid is None or doc.lang in CHINESE) and not text.isascii():
            with clock("opencc"):
                converted = self.converter.convert(text)
            if converted != text:
                doc.text, doc.converted = converted, True
        if self.lid is not None and p.languages and (doc.lang not in p.languages
                                                     or doc.lang_score < p.min_lang_score):
            doc.reason, doc.detail = "lang", f"{doc.lang} {doc.lang_score:.2f}"
        return doc


@dataclass
class Doc:
    """What collection made of one document."""

    text: str | None = None
    original: str | None = None
    charset: str | None = None
    how: str | None = None  # how the charset was found (bom, http, meta, utf8, detected, undecodable)
    lang: str | None = None
    lang_score: float | None = None
    converted: bool = False
    large: bool = False  # extracted with the large-page extractor
    fallback: bool = False  # the fallback extractor's text was taken (the extractor found no main text)
    reason: str | None = None
    detail: str | None = None


class StepClock:
    """Seconds spent per step, summed (`with clock("extract"): ...`)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, step: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - t0


@contextmanager
def _no_clock(step: str):
    yield


_NO_CLOCK = _no_clock
