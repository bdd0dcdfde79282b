"""Quality classification: a fastText model scores every document; a threshold selects.

The score (probability of the high-quality label) stays in the output as `quality__score`, so the
threshold can be re-tuned without re-scoring. The model loads in `setup()`, once per worker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.errors import ConfigError
from mdfs.stage import Stage, StageContext, reject_where
from mdfs.textnorm import char_tokens

DEFAULT_MODEL = Path(__file__).parent / "models" / "quality_zh.ftz"


class QualityFilter(Stage):
    class Params(Strict):
        model: str | None = Field(None, description="fastText .bin/.ftz; default: the bundled model")
        threshold: float = Field(0.5, ge=0, le=1)
        positive_label: str = "__label__hq"
        max_chars: int = Field(2000, ge=1, description="prefix of each document the model sees")

    def setup(self) -> None:
        import fasttext

        path = Path(self.params.model) if self.params.model else DEFAULT_MODEL
        if not path.exists():
            raise ConfigError(f"quality model not found: {path}")
        self.model = fasttext.load_model(str(path))
        if self.params.positive_label not in self.model.labels:
            raise ConfigError(f"quality model {path} has no label {self.params.positive_label!r} "
                              f"(labels: {self.model.labels})")

    def score(self, texts: list[str]) -> np.ndarray:
        """Probability of the positive label for each text."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        lines = [char_tokens(t, self.params.max_chars) for t in texts]
        labels, probs = self.model.predict(lines, k=-1)
        pos = self.params.positive_label
        return np.array([dict(zip(ls, ps)).get(pos, 0.0) for ls, ps in zip(labels, probs)], dtype=np.float32)

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        scores = pa.array(self.score(batch.column("text").to_pylist()), pa.float32())
        batch = self.with_scores(batch, {"score": scores})
        return reject_where(batch, [(pc.less(scores, self.params.threshold), "low_quality")])
