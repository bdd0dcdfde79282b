"""Collection, first version: normalise Unicode and whitespace, convert Traditional to Simplified.

Reading, stable ids and provenance (`id`, `source`, `url`) come from mdfs's readers before this stage.
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa

from mdfs.config import Strict
from mdfs.stage import Stage, StageContext
from mdfs.textnorm import normalize


class Collection(Stage):
    class Params(Strict):
        normalize: bool = True
        opencc: Literal["t2s", "tw2s", "hk2s", "none"] = "t2s"
        keep_original: bool = False

    def setup(self) -> None:
        import opencc

        p = self.params
        self.converter = None if p.opencc == "none" else opencc.OpenCC(p.opencc)

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        original = batch.column("text").to_pylist()
        texts = [normalize(t) for t in original] if self.params.normalize else list(original)
        changed = [False] * len(texts)
        if self.converter is not None:
            for i, t in enumerate(texts):
                if not t.isascii():
                    converted = self.converter.convert(t)
                    if converted != t:
                        texts[i], changed[i] = converted, True
        ctx.count("converted_to_simplified", sum(changed))
        ctx.count("normalized_changed", sum(a != b for a, b in zip(original, texts)))
        out = batch.set_column(batch.column_names.index("text"), "text", pa.array(texts, pa.string()))
        if self.params.keep_original:
            out = out.append_column("text_original", pa.array(original, pa.string()))
        return self.with_scores(out, {"converted": pa.array(changed, pa.bool_())})
