"""PII masking: personal numbers and addresses become typed placeholders (<PHONE>, <ID_CARD>, …).

Two steps, so that clean text costs one vectorised pass: an RE2 prefilter over the whole column finds the
documents that contain anything shaped like PII; only those go through one Python regex whose callback
validates what RE2 cannot (the ID checksum, Luhn for bank cards) and counts masks per type. Handwritten
because no library validates mainland-China identifiers (ID checksum, mobile prefixes, QQ/WeChat in
context) in bulk; Presidio and scrubadub target English-language formats.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict

PiiType = Literal["email", "id_card", "bank_card", "mobile", "landline", "qq", "wechat"]
ALL_TYPES: tuple[str, ...] = ("email", "id_card", "bank_card", "mobile", "landline", "qq", "wechat")

# RE2, no lookaround: a superset of what the Python patterns below accept.
PREFILTER = {
    "email": r"[A-Za-z0-9._%+-]@[A-Za-z0-9-]+\.",
    "id_card": r"\d{17}[\dXx]",
    "bank_card": r"\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}",
    "mobile": r"1[3-9]\d[- ]?\d{4}[- ]?\d{4}",
    "landline": r"0\d{2,3}[)）-]\s?\d{7,8}",
    "qq": r"(?i)(?:qq|扣扣|企鹅号|加q)",
    "wechat": r"(?i)(?:微信|weixin|wechat|vx|v信|薇信|威信|wx)",
}

_D = r"(?<![0-9A-Za-z])"  # no digit or letter before
_E = r"(?![0-9A-Za-z])"   # none after
PATTERNS = {
    "email": r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
             r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])",
    "id_card": _D + r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]" + _E,
    "bank_card": _D + r"(?:62|4\d|5[1-5]|3[47])\d{2}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?" + _E,
    "mobile": r"(?<![\d+])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)",
    "landline": r"(?<!\d)(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3}-)\s?[2-9]\d{6,7}(?:-\d{1,5})?(?!\d)",
    # QQ and WeChat ids are only recognisable next to their name; the name stays, the id is masked.
    "qq": r"(?P<qq_ctx>(?i:qq|扣扣|企鹅号|加q)(?:号码|号|群)?\s*[:：]?\s*)(?P<qq_id>[1-9]\d{4,11})(?!\d)",
    "wechat": r"(?P<wx_ctx>(?i:微信号|微信|weixin|wechat|vx|v信|薇信|威信|wx)\s*(?:号)?\s*[:：]?\s*)"
              r"(?P<wx_id>[A-Za-z][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])",
}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    """GB 11643-1999: the 18th character is the ISO 7064 MOD 11-2 check of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0 and 16 <= len(digits) <= 19


class PiiMasking(Strict):
    enabled: bool = True
    types: list[PiiType] = Field(default_factory=lambda: list(ALL_TYPES))
    placeholder: str = Field("<{TYPE}>", description="`{TYPE}` is replaced by the upper-case type name")


class PiiMasker:
    def __init__(self, params: PiiMasking):
        self.types = [t for t in ALL_TYPES if t in params.types] if params.enabled else []
        self.placeholder = {t: params.placeholder.replace("{TYPE}", t.upper()).replace("{type}", t)
                            for t in ALL_TYPES}
        self.prefilter = "|".join(f"(?:{PREFILTER[t]})" for t in self.types) if self.types else None
        # One alternation, tried left to right at each position: email before the numbers it contains,
        # the ID before the bank card before the phone.
        self.regex = re.compile("|".join(f"(?P<{t}>{PATTERNS[t]})" for t in self.types)) if self.types \
            else None

    def _replace(self, m: re.Match, counts: Counter) -> str:
        kind = m.lastgroup  # the outer group of the alternative that matched (it closes last)
        text = m.group(0)
        if kind == "id_card" and not id_checksum_ok(text):
            return text
        if kind == "bank_card" and not luhn_ok(text):
            return text
        counts[kind] += 1
        if kind == "qq":
            return m.group("qq_ctx") + self.placeholder["qq"]
        if kind == "wechat":
            return m.group("wx_ctx") + self.placeholder["wechat"]
        return self.placeholder[kind]

    def mask(self, text: pa.Array | pa.ChunkedArray) -> tuple[pa.Array | pa.ChunkedArray, Counter]:
        """Mask PII; return the new column and the masks per type. Python's regex only sees the lines
        the RE2 prefilter flagged, in the documents it flagged."""
        counts: Counter = Counter({t: 0 for t in self.types})
        if self.regex is None or not len(text):
            return text, counts
        rows = pc.indices_nonzero(pc.fill_null(pc.match_substring_regex(text, self.prefilter), False))
        if not len(rows):
            return text, counts
        listed = pc.split_pattern(pc.take(text, rows), "\n")
        lines = pc.list_flatten(listed)
        hit = pc.indices_nonzero(pc.match_substring_regex(lines, self.prefilter)).to_pylist()
        values = pc.take(lines, pa.array(hit, pa.uint64())).to_pylist()
        masked = [self.regex.sub(lambda m: self._replace(m, counts), v) for v in values]
        changed = [i for i, (a, b) in enumerate(zip(values, masked)) if a != b]
        if not changed:
            return text, counts
        line_mask = np.zeros(len(lines), bool)
        line_mask[[hit[i] for i in changed]] = True
        lines = pc.replace_with_mask(lines, pa.array(line_mask),
                                     pa.array([masked[i] for i in changed], pa.string()))
        docs = pc.binary_join(pa.ListArray.from_arrays(listed.offsets, lines), "\n")
        doc_mask = np.zeros(len(text), bool)
        doc_mask[rows.to_numpy()] = True
        return pc.replace_with_mask(text, pa.array(doc_mask), docs), counts
