"""MinHash signatures of character n-grams, computed for a whole batch at once with NumPy, equal to
`datasketch.MinHash`'s for the same shingles, seed, number of permutations, hash and scheme.

Why by hand: datasketch hashes and permutes one document at a time in a Python loop (about 1 MB/s
here); no library computes MinHash over a column of documents. The permutation parameters and the
pre-mix are taken from datasketch itself, so the two cannot drift apart (and a test checks equality).

Shingles are the character n-grams of the normalised text: NFKC-folded and lower-cased character by
character, everything but letters and digits removed (Chinese has no spaces; punctuation and layout changes
must not matter). A text shorter
than n characters is one shingle; an empty one has none (and no signature).

Two shingle hashes:
- `sha1`: datasketch's default (`sha1_hash32` of the UTF-8 bytes); one hashlib call per shingle.
- `fast`: FNV-1a over the code points in 64 bits, then the MurmurHash3 64-bit finaliser; vectorised.
  The upper 32 bits are the MinHash input; `fast_hash32` is the same function for one shingle, so
  `datasketch.MinHash(hashfunc=fast_hash32)` gives the same signatures.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasketch import MinHash
from datasketch.lsh import _optimal_param
from datasketch.minhash import _fmix

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
MASK64 = (1 << 64) - 1
MERSENNE = np.uint64((1 << 61) - 1)
MAX32 = np.uint32(0xFFFFFFFF)
CHUNK = 8192  # shingles per permutation block: 128 × 8192 × 4 B = 4 MB, stays in cache


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Per code point: its NFKC, lower-case form (when that is one character: full-width Ａ１ → a1) and
    whether that is a letter or a digit (Unicode categories L*, N*, as Arrow's utf8proc classifies them).
    Built once per process with
    Arrow kernels over all code points; lookups in these tables then normalise a whole batch at memory
    speed, where a Unicode regex manages ~80 MB/s."""
    points = np.concatenate([np.arange(0xD800), np.arange(0xE000, 0x110000)]).astype(np.uint32)

    def as_chars(cps: np.ndarray) -> pa.Array:  # one single-character string per code point
        data = cps.astype("<u4").tobytes().decode("utf-32-le").encode("utf-8")
        width = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)
        offsets = np.concatenate([[0], np.cumsum(width)]).astype(np.int64)
        return pa.LargeStringArray.from_buffers(len(cps), pa.py_buffer(offsets), pa.py_buffer(data))

    lowered = pc.utf8_lower(pc.utf8_normalize(as_chars(points), "NFKC"))
    one = pc.utf8_length(lowered).to_numpy() == 1
    lower = np.arange(0x110000, dtype=np.uint32)
    lower[points[one]] = codepoints(lowered.filter(pa.array(one)))[0]
    keep = np.zeros(0x110000, dtype=bool)
    keep[points] = pc.utf8_is_alnum(as_chars(lower[points])).to_numpy(zero_copy_only=False)
    return lower, keep


def normalised_codepoints(texts: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """The normalised texts as one array of code points, and where each text starts in it (D+1 values)."""
    cps, starts = codepoints(texts)
    lower, keep = _tables()
    cps = lower[cps]
    kept = keep[cps]
    counts = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
    return cps[kept], counts[starts]


def normalise(texts: list[str]) -> list[str]:
    """The normalised form of each text, as strings (for reports, tests and ground truth)."""
    cps, starts = normalised_codepoints(pa.array(texts, pa.string()))
    joined = cps.astype("<u4").tobytes().decode("utf-32-le")
    return [joined[starts[i]:starts[i + 1]] for i in range(len(texts))]


def codepoints(texts: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """All texts as one array of code points and the start of each text in it (D+1 values). One UTF-8
    decode of the Arrow buffer: no Python string per document."""
    arr = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    arr = pc.fill_null(arr, "").cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    raw = bytes(memoryview(data)[offsets[0]:offsets[-1]]) if data is not None else b""
    lengths = pc.utf8_length(arr).to_numpy(zero_copy_only=False).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    return np.frombuffer(raw.decode("utf-8").encode("utf-32-le"), dtype=np.uint32), starts


def fmix64(h: np.ndarray) -> np.ndarray:
    return _fmix(h, 64)


def fast_hash64(data: bytes) -> int:
    """The `fast` shingle hash of one shingle (UTF-8 bytes), as a Python int."""
    h = int(FNV_OFFSET)
    for ch in data.decode("utf-8"):
        h = ((h ^ ord(ch)) * int(FNV_PRIME)) & MASK64
    return int(fmix64(np.array([h], dtype=np.uint64))[0])


def fast_hash32(data: bytes) -> int:
    """Pass as `datasketch.MinHash(hashfunc=fast_hash32)` to reproduce mdfs's `fast` signatures."""
    return fast_hash64(data) >> 32


class Shingles:
    """The shingles of a batch: for each, its document and its 64-bit (`fast`) or 32-bit (`sha1`) hash,
    ordered by document."""

    def __init__(self, texts: pa.Array | pa.ChunkedArray, ngram: int, hash: str = "fast"):
        cps, starts = normalised_codepoints(texts)
        self.cps, self.starts = cps, starts
        self.docs = len(starts) - 1
        lengths = np.diff(starts)
        # every full n-gram: positions [start, end - n] of each document
        counts = np.maximum(lengths - ngram + 1, 0)
        self.doc = np.repeat(np.arange(self.docs), counts)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        pos = np.arange(counts.sum()) - np.repeat(first, counts) + np.repeat(starts[:-1], counts)
        short = np.flatnonzero((lengths > 0) & (lengths < ngram))  # the whole text is one shingle
        if hash not in ("fast", "sha1"):
            raise ValueError(f"unknown shingle hash {hash!r}")
        text = cps.astype("<u4").tobytes().decode("utf-32-le") if hash == "sha1" or short.size else ""
        if hash == "fast":
            self.hashes = _fnv_ngrams(cps, pos, ngram)
            extra_arr = np.array([fast_hash64(text[starts[d]:starts[d + 1]].encode()) for d in short],
                                 dtype=np.uint64)
        else:
            self.hashes = _sha1_32([text[i:i + ngram] for i in pos.tolist()])
            extra_arr = _sha1_32([text[starts[d]:starts[d + 1]] for d in short])
        if short.size:
            doc = np.concatenate([self.doc, short])
            order = np.argsort(doc, kind="stable")
            self.doc, self.hashes = doc[order], np.concatenate([self.hashes, extra_arr])[order]
        self.hash = hash

    def minhash_input(self) -> np.ndarray:
        """The 32-bit values datasketch's `update` would receive."""
        if self.hash == "fast":
            return (self.hashes >> np.uint64(32)).astype(np.uint32)
        return self.hashes

    def digests(self) -> np.ndarray:
        """Per document, a 64-bit digest of its normalised text (equal texts, equal digests)."""
        data = self.cps.astype("<u4").tobytes()
        return np.frombuffer(b"".join(hashlib.blake2b(data[4 * a:4 * b], digest_size=8).digest()
                                      for a, b in zip(self.starts[:-1].tolist(), self.starts[1:].tolist())),
                             dtype="<u8").astype(np.uint64)

    def sets(self) -> pa.ListArray:
        """Per document, its distinct shingle hashes, sorted (for exact Jaccard)."""
        order = np.lexsort((self.hashes, self.doc))
        doc, h = self.doc[order], self.hashes[order]
        keep = np.ones(len(h), dtype=bool)
        keep[1:] = (h[1:] != h[:-1]) | (doc[1:] != doc[:-1])
        doc, h = doc[keep], h[keep]
        offsets = np.searchsorted(doc, np.arange(self.docs + 1)).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(h))


def _fnv_ngrams(cps: np.ndarray, pos: np.ndarray, n: int) -> np.ndarray:
    """FNV-1a (64-bit) of every n code points starting at `pos`, finalised: n vector passes."""
    if pos.size == 0:
        return np.empty(0, dtype=np.uint64)
    span = int(pos[-1]) + 1  # hash every window up to the last needed one, by slices (no gathers)
    c = cps.astype(np.uint64)
    h = np.full(span, FNV_OFFSET, dtype=np.uint64)
    for k in range(n):
        h ^= c[k:k + span]
        h *= FNV_PRIME
    return fmix64(h[pos])


def _sha1_32(shingles: list[str]) -> np.ndarray:
    """datasketch's `sha1_hash32`: the first 4 bytes of SHA-1, little-endian."""
    digests = b"".join(hashlib.sha1(s.encode("utf-8")).digest()[:4] for s in shingles)
    return np.frombuffer(digests, dtype="<u4").astype(np.uint32)


class MinHasher:
    """Signatures for a batch of texts. `scheme` is datasketch's permutation scheme: `affine32` (its
    default since 2.0) or `legacy` (mod the Mersenne prime 2^61-1, as before 2.0)."""

    def __init__(self, num_perm: int = 128, seed: int = 1, ngram: int = 5, hash: str = "fast",
                 scheme: str = "affine32"):
        self.num_perm, self.seed, self.ngram, self.hash, self.scheme = num_perm, seed, ngram, hash, scheme
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations  # datasketch's own draw
        dtype = np.uint32 if scheme == "affine32" else np.uint64
        self.a, self.b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)

    def signatures(self, texts: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
        """(D × num_perm uint32 signatures, D booleans: has at least one shingle). A document without
        shingles keeps datasketch's empty value (all 2^32-1)."""
        return self.sketch(Shingles(texts, self.ngram, self.hash))

    def sketch(self, sh: Shingles) -> tuple[np.ndarray, np.ndarray]:
        """`signatures` of shingles already computed."""
        return self.permute_min(sh.minhash_input(), sh.doc, sh.docs), np.bincount(sh.doc,
                                                                                  minlength=sh.docs) > 0

    def permute_min(self, hv: np.ndarray, doc: np.ndarray, docs: int) -> np.ndarray:
        """min over each document's shingles of every permutation of their hashes, in blocks."""
        sig = np.full((docs, self.num_perm), MAX32, dtype=np.uint32)
        if self.scheme == "affine32":
            hv = _fmix(hv.astype(np.uint32), 32)
        else:
            hv = hv.astype(np.uint64)
        a, b = self.a[:, None], self.b[:, None]
        buf = np.empty((self.num_perm, min(CHUNK, len(hv))), dtype=self.a.dtype)  # reused: no page faults
        for s in range(0, len(hv), CHUNK):
            h, d = hv[s:s + CHUNK], doc[s:s + CHUNK]
            seg = np.concatenate([[0], np.flatnonzero(d[1:] != d[:-1]) + 1])
            block = buf[:, :len(h)]
            np.multiply(a, h[None, :], out=block)  # uint arithmetic wraps (mod 2^32 / 2^64), as datasketch's
            block += b
            if self.scheme == "legacy":
                block %= MERSENNE
                block &= np.uint64(MAX32)
            mins = np.minimum.reduceat(block, seg, axis=1).T  # one row per document run in this block
            rows = d[seg]
            sig[rows] = np.minimum(sig[rows], mins)
        return sig


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """D × bands 64-bit keys, one per band of `rows` signature values. datasketch keys a band by its raw
    bytes; a 64-bit hash of them groups the same documents (a false match has odds of 2^-64)."""
    d = sig.shape[0]
    s = sig[:, :bands * rows].astype(np.uint64).reshape(d, bands, rows)
    h = np.full((d, bands), FNV_OFFSET, dtype=np.uint64)
    for t in range(rows):
        h ^= s[:, :, t]
        h *= FNV_PRIME
    return fmix64(h)


@lru_cache(maxsize=None)  # numerical integration over every (bands, rows); asked by every work item
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) minimising false positives + false negatives around `threshold`: the routine
    `datasketch.MinHashLSH(threshold=…)` uses, with its default equal weights."""
    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def candidate_probability(jaccard: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """The S-curve: probability that two documents of this Jaccard similarity share at least one band."""
    return 1.0 - (1.0 - np.asarray(jaccard, dtype=float) ** rows) ** bands


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted arrays of distinct values (two empty sets are equal)."""
    if not len(a) and not len(b):
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (len(a) + len(b) - inter)
