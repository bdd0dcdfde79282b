"""Character agreement of a text with its gold main text: the one metric of the extraction benchmark
(`tools.bench.extraction`) and of `mdfs eval --gold`, so their figures compare.

Both texts are normalised the same way (`mdfs.textnorm`), optionally converted (the pipeline's OpenCC),
and whitespace is removed. With E and G the multisets of characters (or character n-grams) of the text
and of the gold: precision = |E ∩ G| / |E|, recall = |E ∩ G| / |G|, F1 their harmonic mean (an empty
text scores 0). Boilerplate characters are |E − G|: kept characters the gold does not have.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from mdfs.textnorm import normalize

_WS = re.compile(r"\s+")


def units(text: str, n: int = 1, convert: Callable[[str], str] | None = None) -> Counter:
    """Multiset of the character n-grams of `text`, normalised, converted, without whitespace."""
    s = normalize(text)
    if convert is not None:
        s = convert(s)
    s = _WS.sub("", s)
    return Counter(s[i:i + n] for i in range(len(s) - n + 1))


@dataclass(frozen=True)
class Overlap:
    """Character counts of one text against its gold."""

    text: int    # |E|
    gold: int    # |G|
    common: int  # |E ∩ G|

    @classmethod
    def of(cls, text: str, gold: str, n: int = 1, convert: Callable[[str], str] | None = None) -> Overlap:
        e, g = units(text, n, convert), units(gold, n, convert)
        return cls(sum(e.values()), sum(g.values()), sum((e & g).values()))

    @property
    def precision(self) -> float:
        return self.common / self.text if self.text else 0.0

    @property
    def recall(self) -> float:
        return self.common / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def boilerplate(self) -> int:
        """Characters of the text that are not in the gold."""
        return self.text - self.common


def prf(extracted: str, truth: str, n: int = 1) -> tuple[float, float, float]:
    """(precision, recall, F1) of `extracted` against `truth`."""
    o = Overlap.of(extracted, truth, n)
    return o.precision, o.recall, o.f1
