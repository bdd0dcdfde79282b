"""Quality classification: a fastText model scores every document; a threshold selects.

The score (probability of the high-quality label) stays in the output as `quality__score`, so the
threshold can be re-tuned without re-scoring. The model and its sidecar load in `setup()`, once per
worker; the sidecar says how the model was trained to read text (tokenizer, prefix length), so the
stage always tokenises the way the model expects (see `mdfs.quality.model`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.stage import Stage, StageContext, reject_where

DEFAULT_MODEL = Path(__file__).parent / "models" / "quality_zh.ftz"


class QualityFilter(Stage):
    class Params(Strict):
        model: str | None = Field(None, description="fastText .bin/.ftz; default: the bundled model")
        threshold: float = Field(0.5, ge=0, le=1)
        positive_label: str | None = Field(None, description="default: the model's sidecar, else __label__hq")
        max_chars: int | None = Field(None, ge=1, description="override the prefix the model was trained on")
        prepare: bool = Field(False, description="normalise/convert the text first, as the collection "
                                                 "stage does (for input that skipped it); text unchanged")

    def setup(self) -> None:
        from mdfs.quality.model import QualityModel

        p = self.params
        self.model = QualityModel.load(p.model or DEFAULT_MODEL, p.positive_label, p.max_chars)

    def score(self, texts: list[str]) -> np.ndarray:
        """Probability of the positive label for each text."""
        return self.model.score(texts, prepare=self.params.prepare)

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        scores = pa.array(self.score(batch.column("text").to_pylist()), pa.float32())
        batch = self.with_scores(batch, {"score": scores})
        return reject_where(batch, [(pc.less(scores, self.params.threshold), "low_quality")])
