"""A small character n-gram language model of clean Chinese: a CCNet-style fluency signal without kenlm.

Why this shape: kenlm's pip package scores but cannot train, and the quality stage needs a per-document
perplexity at tens of MB/s per core. So the model is interpolated modified Kneser-Ney over characters,
computed exactly with numpy at training time, then frozen into one hashed table of packed uint32 entries
(12-bit fingerprint | 10-bit log p | 10-bit log backoff weight). Scoring is whole-array numpy: one gather
per order per character, no Python loop over characters.

Characters: each vocabulary character (seen `min_count` times in training) has its own id; everything else
falls into a few classes (newline, space, Latin letter, digit, unknown Han, unknown other), and runs of
Latin letters, digits or spaces collapse to one token, so the model spends its capacity on Chinese.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

NL, SPACE, LATIN, DIGIT, UNK_HAN, UNK_OTHER = range(6)
N_CLASSES = 6
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))
_MUL = np.uint64(0x9E3779B97F4A7C15)   # rolling polynomial hash multiplier (odd)
_MIX = [np.uint64((0xBF58476D1CE4E5B9 * (2 * k + 1)) % 2**64 | 1) for k in range(16)]  # one per order
_NLH = [np.uint64(sum(int(_MUL) ** j for j in range(k)) % 2**64) for k in range(16)]  # hash of k newlines
_Q = 0.025                             # quantisation step of costs (-ln p): 10 bits in the table
_EMPTY = 300 << 12                     # empty slot: fingerprint 0, a plausible cost for the rare false hit
_CHUNK = 1 << 16                       # tokens per numpy pass: keeps temporaries in cache


def _codepoint_table(vocab: np.ndarray) -> np.ndarray:
    """codepoint -> token id for all of Unicode (2.2 MB, built at load so the file stays small)."""
    t = np.full(0x110000, UNK_OTHER, np.uint16)
    for lo, hi in _HAN:
        t[lo:hi + 1] = UNK_HAN
    for c in " \t\r\u3000\u00a0":
        t[ord(c)] = SPACE
    t[ord("\n")] = NL
    t[ord("a"):ord("z") + 1] = t[ord("A"):ord("Z") + 1] = LATIN
    t[ord("0"):ord("9") + 1] = DIGIT
    t[vocab] = np.arange(N_CLASSES, N_CLASSES + len(vocab), dtype=np.uint16)
    return t


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), np.uint32)


def _tokens(table: np.ndarray, cps: np.ndarray) -> np.ndarray:
    """Token ids of the codepoints, each run of spaces, Latin letters or digits collapsed to one token."""
    ids = table[cps]
    run = (ids[1:] == ids[:-1]) & (ids[1:] >= SPACE) & (ids[1:] <= DIGIT)
    return ids[np.concatenate(([True], ~run))] if run.any() else ids


def _step(h: np.ndarray, ids1: np.ndarray, nl: np.ndarray, k: int) -> np.ndarray:
    """Rolling hash of the k-gram ending at each position from the (k-1)-gram hash ending one before
    (`ids1` = ids + 1). At newlines (`nl`) the hash is reset to that of k newlines, so no n-gram reaches
    across a paragraph: a paragraph scores the same whatever precedes it in the batch."""
    out = np.empty_like(ids1)
    out[0] = ids1[0]
    np.multiply(h[:-1], _MUL, out=out[1:])
    out[1:] += ids1[1:]
    out[nl] = _NLH[k]
    return out


def _slot(h: np.ndarray, order: int, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Multiplicative hashing: bucket from the top bits, 12-bit fingerprint from bits 20..31."""
    m = h * _MIX[order]
    hi = m.view(np.uint32)[1::2] if np.little_endian else (m >> np.uint64(32)).astype(np.uint32)
    # uint32 indices: numpy gathers with them ~2x faster than after a uint64 -> intp cast
    return hi >> np.uint32(32 - bits), (m >> np.uint64(20)).astype(np.uint32) & np.uint32(0xFFF)


def _cost(logv: np.ndarray, top: int = 1023) -> np.ndarray:
    """-ln p (or -ln backoff weight) in steps of _Q, as a non-negative integer."""
    return np.clip(np.rint(-np.asarray(logv) / _Q), 0, top).astype(np.uint32)


class CharLM:
    """Frozen character LM: vocabulary, dense unigram arrays, one hashed table for orders 2..order."""

    def __init__(self, vocab, uni_cost, uni_bow, table, order, threshold, meta=None):
        self.vocab, self.order, self.threshold = np.asarray(vocab, np.uint32), int(order), float(threshold)
        self.uni_cost, self.uni_bow = np.asarray(uni_cost, np.uint32), np.asarray(uni_bow, np.uint32)
        self.table = np.asarray(table, np.uint32)
        self.bits = int(self.table.size).bit_length() - 1
        self.meta = dict(meta or {})
        self._cp = _codepoint_table(self.vocab)

    @classmethod
    def train(cls, texts: Iterable[str], order: int = 3, bits: int = 21, min_count: int = 2,
              prune: int = 2, holdout: float = 0.1, percentile: float = 95.0) -> CharLM:
        """Train on `texts` (paragraphs split by newlines). The high-ppl threshold is the `percentile` of
        paragraph ppl on a held-out `holdout` share of texts (blocks of 50 consecutive texts, so related
        neighbours such as paragraphs of one article stay on one side), scored by a model trained without
        them; the returned model is then retrained on everything."""
        texts = [t for t in texts if t]
        every = round(1 / holdout) if holdout else 0
        cal = [t for i, t in enumerate(texts) if every and (i // 50) % every == 0]
        rest = [t for i, t in enumerate(texts) if not every or (i // 50) % every]
        threshold = 1e9  # too little text to calibrate: no paragraph counts as high
        if cal and rest:
            probe = cls._fit(rest, order, bits, min_count, prune, 1e9)
            paras = [p for t in cal for p in t.split("\n") if len(p) >= 10]
            ppl, n = probe.paragraph_ppl(paras)
            threshold = float(np.percentile(ppl[n >= 10], percentile)) if (n >= 10).any() else threshold
        return cls._fit(texts, order, bits, min_count, prune, threshold)

    @classmethod
    def _fit(cls, texts, order, bits, min_count, prune, threshold) -> CharLM:
        cps = _codepoints("\n" + "\n".join(texts))
        uniq, cnt = np.unique(cps, return_counts=True)
        vocab = uniq[(cnt >= min_count) & (_codepoint_table(uniq[:0])[uniq] >= UNK_HAN)]
        ids = _tokens(_codepoint_table(vocab), cps)
        ids1, V = ids.astype(np.uint64) + np.uint64(1), N_CLASSES + len(vocab)
        hs, nl = [None, ids1], np.flatnonzero(ids == NL)
        for k in range(2, order + 1):
            hs.append(_step(hs[-1], ids1, nl, k))
        pos0 = np.arange(order, len(ids))
        # Top-down: n-gram types with raw counts at the top order, continuation counts below.
        grams = [None] * (order + 1)
        key, first, c = np.unique(hs[order][pos0], return_index=True, return_counts=True)
        grams[order] = (key, pos0[first], c)
        for k in range(order - 1, 0, -1):
            sub = hs[k][grams[k + 1][1]]
            key, first, c = np.unique(sub, return_index=True, return_counts=True)
            grams[k] = (key, grams[k + 1][1][first], c)
        # Bottom-up: interpolated modified-KN probabilities and backoff weights per context.
        lp, bow = [None] * (order + 1), [None] * (order + 1)
        for k in range(1, order + 1):
            key, pos, c = grams[k]
            n = np.bincount(np.minimum(c, 5), minlength=6)[1:5].astype(float) + 1e-9  # n1..n4
            y = n[0] / (n[0] + 2 * n[1])
            d = np.array([0, 1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]])
            dc = np.clip(d, 0.05, [0, 1, 2, 3])[np.minimum(c, 3)]
            if k == 1:  # the empty context; below it, the uniform distribution
                ctx, low = np.zeros(len(key), np.intp), np.full(len(key), 1.0 / V)
            else:
                ctx = np.unique(hs[k - 1][pos - 1], return_inverse=True)[1]
                low = np.exp(lp[k - 1][np.searchsorted(grams[k - 1][0], hs[k - 1][pos])])
            total = np.bincount(ctx, c)[ctx]
            gamma = np.bincount(ctx, dc)[ctx] / total
            lp[k] = np.log((c - dc) / total + gamma * low)
            if k > 1:  # backoff weight belongs to the context (k-1)-gram
                at = np.searchsorted(grams[k - 1][0], hs[k - 1][pos - 1])
                ok = grams[k - 1][0][np.minimum(at, len(grams[k - 1][0]) - 1)] == hs[k - 1][pos - 1]
                bow[k - 1] = np.zeros(len(grams[k - 1][0]))
                bow[k - 1][at[ok]] = np.log(gamma[ok])
            else:
                uni_gamma0 = gamma[0] if len(gamma) else 1.0
        bow[order] = np.zeros(len(grams[order][0]))
        uni_lp, uni_bow, at1 = np.full(V, np.log(uni_gamma0 / V)), np.zeros(V), grams[1][0].astype(int) - 1
        uni_lp[at1], uni_bow[at1] = lp[1], bow[1]
        # Freeze orders >= 2 into one table: lower orders first, then frequent n-grams win collisions.
        parts = []
        for k in range(2, order + 1):
            key, _, c = grams[k]
            keep = c >= (prune if k > 2 else 1)
            b, fp = _slot(key[keep], k, bits)
            entry = fp | (_cost(lp[k][keep]) << np.uint32(12)) | (_cost(bow[k][keep]) << np.uint32(22))
            parts.append((np.full(keep.sum(), k), -c[keep], b, entry))
        korder, negc, b, entry = (np.concatenate(x) for x in zip(*parts))
        rank = np.lexsort((negc, korder))
        b, entry = b[rank], entry[rank]
        slots, first = np.unique(b, return_index=True)
        table = np.full(1 << bits, _EMPTY, np.uint32)
        table[slots] = entry[first]
        meta = {"ngrams": len(b), "stored": len(slots), "tokens": len(ids)}
        return cls(vocab, _cost(uni_lp, 4000), _cost(uni_bow), table, order, threshold, meta)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, vocab=self.vocab, uni_cost=self.uni_cost.astype(np.uint16),
                            uni_bow=self.uni_bow.astype(np.uint16), table=self.table,
                            order=self.order, threshold=self.threshold)

    @classmethod
    def load(cls, path: str | Path) -> CharLM:
        z = np.load(path)
        return cls(z["vocab"], z["uni_cost"], z["uni_bow"], z["table"], z["order"], z["threshold"])

    def _costs(self, ids: np.ndarray) -> np.ndarray:
        """-ln p(token | predecessors) of every token in units of _Q (uint32); chunked, same result."""
        out = np.empty(len(ids), np.uint32)
        over = self.order - 1
        for s in range(0, len(ids), _CHUNK):
            lo = max(0, s - over)
            out[s:s + _CHUNK] = self._costs_block(ids[lo:s + _CHUNK])[s - lo:]
        return out

    def _costs_block(self, ids: np.ndarray) -> np.ndarray:
        """Interpolated KN as a backoff walk, all orders at once: where the k-gram is in the table its
        stored cost wins, else the (k-1) cost plus the backoff weight of the context."""
        ids1 = ids.astype(np.uint64) + np.uint64(1)
        cost, bow, h, nl = self.uni_cost[ids], self.uni_bow[ids], ids1, np.flatnonzero(ids == NL)
        fpmask, lpmask, zero = np.uint32(0xFFF), np.uint32(0x3FF), np.uint32(0)
        for k in range(2, self.order + 1):
            h = _step(h, ids1, nl, k)
            b, fp = _slot(h, k, self.bits)
            e = self.table[b]
            seen = (e & fpmask) == fp
            cost[1:] += bow[:-1]
            cost = np.where(seen, (e >> np.uint32(12)) & lpmask, cost)
            if k < self.order:
                bow = np.where(seen, e >> np.uint32(22), zero)
        return cost

    def _paragraphs(self, joined: str) -> tuple[np.ndarray, np.ndarray]:
        """Per newline-delimited paragraph of `joined` (which starts and ends with a newline): total cost
        (int64, units of _Q) and scored token count."""
        ids = _tokens(self._cp, _codepoints(joined))
        csum = np.cumsum(self._costs(ids), dtype=np.int64)
        nl = np.flatnonzero(ids == NL)
        return csum[nl[1:] - 1] - csum[nl[:-1]], np.diff(nl) - 1

    def paragraph_ppl(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text, treated as one paragraph (newlines become spaces): (ppl float32, scored tokens int64).
        A text with no scorable token gets ppl 0."""
        if not texts:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        s, n = self._paragraphs("\n" + "\n".join(t.replace("\n", " ") for t in texts) + "\n")
        return np.where(n > 0, np.exp(_Q * s / np.maximum(n, 1)), 0.0).astype(np.float32), n

    def score_docs(self, texts: list[str], max_chars: int = 3000, min_par: int = 10
                   ) -> tuple[np.ndarray, np.ndarray]:
        """(doc_ppl, high_share) per document, both float32.

        doc_ppl: per-token perplexity pooled over the paragraphs (lines) of >= `min_par` tokens, or over
        all paragraphs when none is that long; 0.0 for a document with nothing to score (empty, blank).
        high_share: share of those tokens in paragraphs whose own ppl exceeds `self.threshold`.
        Documents longer than `max_chars` are scored on a beginning, a middle and an end third."""
        third = max_chars // 3
        texts = [t or "" for t in texts]  # a null text scores as empty
        cut = [t.strip() if len(t) <= max_chars else
               f"{t[:third]}\n{t[len(t) // 2 - third // 2:len(t) // 2 - third // 2 + third]}\n{t[-third:]}"
               for t in texts]
        nd = len(cut)
        if not nd:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        s, n = self._paragraphs("\n" + "\n".join(cut) + "\n")
        doc = np.repeat(np.arange(nd), np.fromiter((t.count("\n") + 1 for t in cut), np.intp, nd))
        high = n * (_Q * s > np.log(self.threshold) * n)
        long_ = n >= min_par
        ls, ln, lh = (np.bincount(doc, x * long_, minlength=nd) for x in (s, n, high))
        as_, an, ah = (np.bincount(doc, x, minlength=nd) for x in (s, n, high))
        use = ln > 0
        s_d, n_d, h_d = np.where(use, ls, as_), np.where(use, ln, an), np.where(use, lh, ah)
        doc_ppl = np.where(n_d > 0, np.exp(_Q * s_d / np.maximum(n_d, 1)), 0.0)
        return doc_ppl.astype(np.float32), np.where(n_d > 0, h_d / np.maximum(n_d, 1), 0.0).astype(np.float32)
