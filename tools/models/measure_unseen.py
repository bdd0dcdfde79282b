"""Share of clean text the quality stage keeps on kinds of text held out of every model here.

    python -m tools.models.measure_unseen [--n 600]

App-store descriptions (FewCLUE iflytek: marketing tone, unseen: not used anywhere else) and Tang and
Song poems (OpenCC's poetry set, Traditional, converted as the collection stage would). The poems are no
longer unseen: the page model trains on the train side of the `poetry` family (category verse, grouped
by author), so only **test-side** poems are measured here (held out: no poet of them was trained on).
The quality stage alone (the bundled page model with its default thresholds), a seeded sample of each.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter

import pyarrow as pa

from tools.models import corpora
from mdfs.quality.model import PrepareConfig, prepare_function
from mdfs.stage import REJECT, StageContext
from mdfs.stages.quality import QualityFilter


def samples(n: int) -> dict[str, list[str]]:
    root, prep, rng = corpora.corpora_dir(), prepare_function(PrepareConfig()), random.Random(1)
    with open(root / "clean/fewclue/iflytek.jsonl", encoding="utf-8") as f:
        apps = [prep(json.loads(line)["text"]) for line in f]
    poems = [prep(s.text) for s in corpora.sources("poetry", root=root) if s.split == "test"]
    out = {}
    for name, docs in (("app descriptions (iflytek)", apps), ("Tang and Song poems (test side)", poems)):
        docs = [d for d in docs if len(d) >= 40]
        rng.shuffle(docs)
        out[name] = docs[:n]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=600)
    args = ap.parse_args()
    stage = QualityFilter("quality")
    stage.setup()
    for name, docs in samples(args.n).items():
        batch = pa.table({"id": [str(i) for i in range(len(docs))], "text": docs, "url": [None] * len(docs)})
        reasons = Counter(stage.process(batch, StageContext("quality", name)).column(REJECT).to_pylist())
        kept = reasons.pop(None, 0)
        print(f"{name}: {kept}/{len(docs)} kept ({kept / len(docs):.1%}); dropped: {dict(reasons)}")


if __name__ == "__main__":
    main()
