"""Quality classification: a page model that knows the kinds of junk, a fluency model, brand signals.

The bundled model (`models/page_zh.ftz`, rebuilt by `tools/models/train_page_model.py`) is a multi-class
fastText model: clean, gambling, porn, ads, farm (content farms), list (catalogues, link lists,
boilerplate). It reads the title, the host, the beginning, middle and end of the body, and binned
signals (`mdfs.quality.page`): brand names in the title and body, and the perplexity of a character
language model of clean Chinese (`mdfs.quality.charlm`, CCNet-style). Every probability and signal
becomes a `quality__*` column, so thresholds can be re-tuned with a query. A document is dropped when
a junk class reaches its threshold in `drop` (reason `page_<class>`), when its title pairs a known
gambling or porn brand with SEO words such as 官网 or 下载 (`brand_title`), when P(clean) is below
`threshold`, or when a known brand in the title or body meets p(gambling) >= `brands.with_gambling`
(`brand_gambling`: two signals agree). Each reject says in `detail` which value tripped it.

A two-class model of `mdfs quality train` (its sidecar has no page input) is still scored the old way:
P(positive label) as `quality__score`, dropped below `threshold` as `low_quality`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from mdfs.config import Strict
from mdfs.stage import REJECT, Stage, StageContext, add_details, reject_where

MODELS = Path(__file__).parent / "models"
DEFAULT_MODEL = MODELS / "page_zh.ftz"
DEFAULT_LM = MODELS / "charlm_zh.npz"
JUNK_CLASSES = ("gambling", "porn", "ads", "farm", "list")


class Fluency(Strict):
    enabled: bool = True
    model: str | None = Field(None, description="CharLM .npz; default: the bundled model")
    max_high_share: float | None = Field(None, ge=0, le=1, description="drop (disfluent) when this share of "
                                         "the text is in high-perplexity paragraphs; off by default")


class Brands(Strict):
    enabled: bool = True
    files: list[str] = Field(default_factory=list, description="brand lists; default: lexicons/brands_*.txt")
    title_rule: bool = Field(True, description="drop a brand + SEO word title (brand_title)")
    with_gambling: float | None = Field(
        0.4, ge=0, le=1, description="drop (brand_gambling) a page with a known brand in its title or body "
        "whose p(gambling) reaches this, below the class threshold: two signals agree (chosen out of fold on "
        "the train side, docs/eval.md); null: off")


class QualityFilter(Stage):
    class Params(Strict):
        model: str | None = Field(None, description="fastText .bin/.ftz; default: the bundled page model")
        threshold: float | None = Field(None, ge=0, le=1, description="drop when P(clean) is lower; default: "
                                        "the page model's calibrated floor (reason page_<likeliest junk "
                                        "class>), or 0.5 for a two-class model (low_quality)")
        drop: dict[str, float] = Field(
            default_factory=dict, description="per junk class: drop when its probability reaches this "
            "(page_<class>); a class not named here uses the model's calibrated value, else 0.5")
        fluency: Fluency = Field(default_factory=Fluency)
        brands: Brands = Field(default_factory=Brands)
        domain_lists: list[str] = Field(default_factory=list, description="content-farm domain lists: a "
                                        "listed host becomes a feature of the page model")
        positive_label: str | None = Field(None, description="default: the model's sidecar, else __label__hq")
        max_chars: int | None = Field(None, ge=1, description="override the prefix the model was trained on")
        prepare: bool = Field(False, description="normalise/convert the text first, as the collection "
                                                 "stage does (for input that skipped it); text unchanged")
        score_only: bool = Field(False, description="add the columns, drop nothing (mdfs quality score)")

        @field_validator("drop")
        @classmethod
        def _known_classes(cls, value: dict[str, float]) -> dict[str, float]:
            unknown = sorted(set(value) - set(JUNK_CLASSES))
            if unknown:
                raise ValueError(f"unknown classes {unknown}; the page model's junk classes are "
                                 f"{list(JUNK_CLASSES)}")
            if any(not 0 <= v <= 1 for v in value.values()):
                raise ValueError("thresholds are probabilities in [0, 1]")
            return value

    def setup(self) -> None:
        from mdfs.quality.charlm import CharLM
        from mdfs.quality.model import QualityModel
        from mdfs.quality.page import INPUT_VERSION, BrandMatcher, read_domain_lists

        p = self.params
        self.model = QualityModel.load(p.model or DEFAULT_MODEL, p.positive_label, p.max_chars)
        self.page = self.model.sidecar.info.get("input") == INPUT_VERSION
        if self.page:
            self.lm = CharLM.load(p.fluency.model or DEFAULT_LM) if p.fluency.enabled else None
            self.brands = BrandMatcher([Path(f) for f in p.brands.files] or None) if p.brands.enabled \
                else None
            self.listed = read_domain_lists(p.domain_lists)
            calibrated = self.model.sidecar.info.get("drop", {})
            self.drop = {c: p.drop.get(c, calibrated.get(c, 0.5)) for c in JUNK_CLASSES}
        self.min_clean = p.threshold if p.threshold is not None else \
            float(self.model.sidecar.info.get("min_clean", 0.0 if self.page else 0.5))

    def thresholds(self) -> dict[str, float]:
        if self.params.score_only:
            return {}
        out = {self.col("score"): self.min_clean} if self.min_clean > 0 else {}
        return out | {self.col(f"p_{c}"): t for c, t in getattr(self, "drop", {}).items()}

    def score(self, texts: list[str]) -> np.ndarray:
        """P(clean) (page model) or P(positive label) (two-class model) for each text."""
        if self.page:
            return self.page_scores(texts, [None] * len(texts))[0]["score"]
        return self.model.score(texts, prepare=self.params.prepare)

    def page_scores(self, texts: list[str], urls: list[str | None]) -> tuple[dict[str, np.ndarray], list]:
        """Every `quality__*` column of the page model, and per document (SEO title?, brands found)."""
        from mdfs.quality.page import page_inputs

        if self.params.prepare:
            texts = self.model.prepare(texts)
        lines, signals, names = page_inputs(texts, urls, self.lm, self.brands, self.listed)
        probs = self.model.probabilities(lines)
        cols = {"brand_title": np.array([s.brand_title for s in signals], np.int32),
                "brand_body": np.array([s.brand_body for s in signals], np.int32),
                "score": probs[self.model.positive_label]}
        for c in JUNK_CLASSES:
            cols[f"p_{c}"] = probs.get(f"__label__{c}", np.zeros(len(texts), np.float32))
        cols["ppl"] = np.array([s.ppl for s in signals], np.float32)
        cols["ppl_high"] = np.array([s.high_share for s in signals], np.float32)
        return cols, [(s.seo_title, found) for s, found in zip(signals, names)]

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        texts = batch.column("text").to_pylist()
        if not self.page:
            scores = self.score(texts)
            reasons = [("low_quality", f"P(hq)={s:.3f} < {self.min_clean}")
                       if s < self.min_clean and not self.params.score_only else None for s in scores]
            return self._mark(self.with_scores(batch, {"score": pa.array(scores, pa.float32())}), reasons)
        urls = batch.column("url").to_pylist() if "url" in batch.column_names else [None] * len(texts)
        cols, found = self.page_scores(texts, urls)
        reasons = [None if self.params.score_only else self.decide(i, cols, found[i])
                   for i in range(len(texts))]
        return self._mark(self.with_scores(batch, {k: pa.array(v) for k, v in cols.items()}), reasons)

    def decide(self, i: int, cols: dict[str, np.ndarray], found: tuple[bool, list[str]]):
        """(reason, detail) of the first rule that drops document i, or None."""
        p = self.params
        seo, names = found
        if p.brands.title_rule and seo and cols["brand_title"][i]:
            return "brand_title", f"brand in the title with SEO words: {', '.join(names[:3])}"
        junk = {c: float(cols[f"p_{c}"][i]) for c, t in self.drop.items() if cols[f"p_{c}"][i] >= t}
        if junk:
            c = max(junk, key=junk.get)
            extra = f"; brands: {', '.join(names[:3])}" if names else ""
            return f"page_{c}", f"p({c})={junk[c]:.3f} >= {self.drop[c]}{extra}"
        if cols["score"][i] < self.min_clean:
            c = max(JUNK_CLASSES, key=lambda c: cols[f"p_{c}"][i])
            return f"page_{c}", (f"p(clean)={cols['score'][i]:.3f} < {self.min_clean}; "
                                 f"p({c})={cols[f'p_{c}'][i]:.3f}")
        t = p.brands.with_gambling
        if t is not None and self.brands is not None and names and cols["p_gambling"][i] >= t:
            return "brand_gambling", (f"brands: {', '.join(names[:3])}; "
                                       f"p(gambling)={cols['p_gambling'][i]:.3f} >= {t}")
        if p.fluency.max_high_share is not None and cols["ppl_high"][i] >= p.fluency.max_high_share:
            return "disfluent", (f"{cols['ppl_high'][i]:.2f} of the text in high-perplexity paragraphs "
                                 f"(ppl {cols['ppl'][i]:.0f})")
        return None

    @staticmethod
    def _mark(batch: pa.Table, reasons: list) -> pa.Table:
        """Reasons and details into the reject columns; an earlier stage's mark on the batch wins."""
        batch = reject_where(batch, [])  # the __reject column, as it was or all null
        mine = pa.array([r[0] if r else None for r in reasons], pa.string())
        batch = batch.set_column(batch.column_names.index(REJECT), REJECT,
                                 pc.coalesce(batch.column(REJECT), mine))
        return add_details(batch, [r[1] if r else None for r in reasons],
                           [r[0] if r else None for r in reasons])
