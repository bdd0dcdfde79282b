"""Fine filtering, first version: the final length gate after all cleaning."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.stage import Stage, StageContext, reject_where


class FineFilter(Stage):
    class Params(Strict):
        min_chars: int = Field(50, ge=0, description="characters after all line cleaning")

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        length = pc.utf8_length(batch.column("text"))
        batch = self.with_scores(batch, {"chars": length})
        return reject_where(batch, [(pc.less(length, self.params.min_chars), "too_short_final")])
