"""Rebuild the bundled character language model `charlm_zh.npz` (mdfs.quality.charlm) from the shared corpora.

Training text is `corpora.clean_train_texts()` only (training-side groups of wiki, ruanyf, abstracts and
magic-html), so the held-out side stays unseen for measurement. Each text is prepared the way the pipeline
prepares documents before the quality stage: `mdfs.textnorm.normalize`, then OpenCC t2s.

Re-run from the repository root:  python -m tools.models.train_charlm [--corpora DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import opencc

from mdfs.quality.charlm import CharLM
from mdfs.textnorm import normalize
from tools.models import corpora


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", type=Path, default=None, help="default ../shared/corpora")
    ap.add_argument("--out", type=Path, default=corpora.MODELS / "charlm_zh.npz")
    ap.add_argument("--order", type=int, default=3)
    ap.add_argument("--bits", type=int, default=21, help="log2 of the hashed table size (4 bytes a slot)")
    ap.add_argument("--prune", type=int, default=2, help="drop n-grams (order >= 3) seen fewer times")
    args = ap.parse_args()

    t0 = time.perf_counter()
    cc = opencc.OpenCC("t2s")
    texts = [cc.convert(normalize(t)) for t in corpora.clean_train_texts(args.corpora)]
    t1 = time.perf_counter()
    model = CharLM.train(texts, order=args.order, bits=args.bits, prune=args.prune)
    t2 = time.perf_counter()
    model.save(args.out)
    chars = sum(map(len, texts))
    print(f"texts: {len(texts)} ({chars / 1e6:.2f} M chars), prepared in {t1 - t0:.1f} s")
    print(f"trained order {model.order}, 2^{model.bits} slots in {t2 - t1:.1f} s: {model.meta}")
    print(f"high-ppl paragraph threshold: {model.threshold:.1f}")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
