"""Coarse filtering, first version: length and Chinese-character ratio, computed in Arrow (RE2)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.stage import Stage, StageContext, reject_where

CJK = r"[\x{4e00}-\x{9fff}\x{3400}-\x{4dbf}\x{f900}-\x{faff}]"


class CoarseFilter(Stage):
    class Params(Strict):
        min_chars: int = Field(50, ge=0, description="non-whitespace characters")
        min_chinese_ratio: float = Field(0.3, ge=0, le=1, description="CJK characters / non-whitespace")

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        text = batch.column("text")
        visible = pc.subtract(pc.utf8_length(text), pc.count_substring_regex(text, r"\s"))
        cjk = pc.count_substring_regex(text, CJK)
        ratio = pc.divide(pc.cast(cjk, pa.float64()), pc.max_element_wise(pc.cast(visible, pa.float64()), 1.0))
        batch = self.with_scores(batch, {"chars": visible, "zh_ratio": ratio})
        p = self.params
        return reject_where(batch, [
            (pc.less(visible, p.min_chars), "too_short"),
            (pc.less(ratio, p.min_chinese_ratio), "low_chinese_ratio"),
        ])
