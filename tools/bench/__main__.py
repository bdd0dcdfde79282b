"""The one benchmark command: generate a corpus, run the whole default pipeline, compare components.

    .venv/bin/python -m tools.bench --docs 100000 [--engine serial|ray] [--out DIR] [--json F] [--md F]
                                       [--components dedup coarse | --components none] [--compare-docs 20000]

1. Corpus of N documents, no network: Chinese Wikipedia sentences recombined with injected near- and exact
   duplicates (the generator of `tools.bench.dedup`), plus 15% junk drawn from the spam written for the fine
   filter (`fine_spam.jsonl`), the demo corpus (`configs/demo/data`: spam, English, clean) and synthetic
   garbage (symbol runs, keyword stuffing, fragments). Written as JSONL shards of 50,000 documents.
2. The default recipe (configs/zh_web.yaml) run by `mdfs.run` in a child process (serial engine by default,
   so the per-core figures are clean): wall time, CPU time, peak RSS, disk used by the output, MB/s per
   core overall and per stage. Per-stage seconds are the stage's own time summed over shards; a stage's
   MB is its `chars_in` times the corpus's UTF-8 bytes per character.
3. The peers on the same JSONL corpus (`--peers`, default datatrove,data-juicer; `tools.bench.peers`):
   datatrove's FineWeb-2 Chinese pipeline and Data-Juicer's Chinese recipe, each in a venv of its own made
   on first use under `--peer-venvs`; wall and whole-process-tree CPU seconds, documents kept, ratios.
4. The component benchmarks side by side with the alternatives, called in-process: `tools.bench.dedup`
   (MinHash vs datasketch MinHash + MinHashLSH) and `tools.bench.coarse` (vs datatrove, where installed).
5. JSON and a Markdown table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tools.bench import peak_rss_mb, peers

ROOT = Path(__file__).resolve().parents[2]
SPAM = Path(__file__).with_name("fine_spam.jsonl")
DEMO = ROOT / "configs" / "demo" / "data"
RECIPE = ROOT / "configs" / "zh_web.yaml"
JUNK_FRACTION = 0.15
SHARD_DOCS = 50_000


# -- corpus ----------------------------------------------------------------------------------------------
def _jsonl_texts(path: Path) -> list[str]:
    if path.suffix == ".gz":
        raw = gzip.decompress(path.read_bytes())
    elif path.suffix == ".zst":
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
    else:
        raw = path.read_bytes()
    return [json.loads(line)["text"] for line in raw.decode("utf-8").splitlines() if line.strip()]


def junk_pool() -> list[str]:
    """Real junk already in the repo: the fine filter's written spam and the demo corpus."""
    texts = _jsonl_texts(SPAM)
    for name in ("news.jsonl", "web.jsonl.gz", "forum.jsonl.zst"):
        if (DEMO / name).exists():
            texts += _jsonl_texts(DEMO / name)
    return texts


def _junk(rng: np.random.Generator, pool: list[str], sentences: list[str], i: int) -> str:
    kind = rng.integers(0, 4)
    if kind == 0:  # a real spam / demo page with a varying tail, so copies are not all exact duplicates
        return pool[rng.integers(0, len(pool))] + f"\n编号{i}"
    if kind == 1:  # symbol and digit garbage
        return "".join(rng.choice(list("★☆◆■□▲△●○※→←↑↓#@$%&*0123456789|/\\~"), int(rng.integers(80, 600))))
    if kind == 2:  # keyword stuffing around one real sentence
        word = sentences[rng.integers(0, len(sentences))][:4]
        return (f"{word}_{word}哪家好_{word}电话\n"
                + f"{word}，专业{word}，{word}价格优惠。" * int(rng.integers(8, 30)))
    return sentences[rng.integers(0, len(sentences))]  # a fragment: one sentence


def write_corpus(folder: Path, n_docs: int, seed: int = 0) -> dict:
    """Write N documents as JSONL shards; return counts and the UTF-8 bytes and characters of the text."""
    from tools.bench.dedup import generate, load_sentences

    folder.mkdir(parents=True, exist_ok=True)
    sentences = load_sentences()
    pool = junk_pool()
    rng = np.random.default_rng(seed + 1)
    n_junk = int(n_docs * JUNK_FRACTION)
    n_clean = n_docs - n_junk
    chunks = max(1, -(-n_clean // SHARD_DOCS))
    junk_per_chunk = [len(a) for a in np.array_split(np.arange(n_junk), chunks)]
    stats = {"docs": 0, "clean_and_near_duplicates": n_clean, "junk": n_junk, "injected_copies": 0,
             "text_bytes": 0, "text_chars": 0}
    j = 0
    for k, (docs, pairs) in enumerate(generate(n_clean, sentences, seed, chunk=SHARD_DOCS)):
        rows = [{"id": i, "text": t, "url": u} for i, t, u in zip(docs.column("id").to_pylist(),
                                                                   docs.column("text").to_pylist(),
                                                                   docs.column("url").to_pylist())]
        for _ in range(junk_per_chunk[k] if k < len(junk_per_chunk) else 0):
            rows.append({"id": f"j{j:07d}", "text": _junk(rng, pool, sentences, j),
                         "url": f"https://spam{j % 997}.example.com/{j}.html"})
            j += 1
        order = rng.permutation(len(rows))
        with open(folder / f"part-{k:04d}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(rows[r], ensure_ascii=False) + "\n" for r in order)
        stats["docs"] += len(rows)
        stats["injected_copies"] += pairs.num_rows
        stats["text_bytes"] += sum(len(r["text"].encode("utf-8")) for r in rows)
        stats["text_chars"] += sum(len(r["text"]) for r in rows)
    stats["file_bytes"] = sum(p.stat().st_size for p in folder.glob("*.jsonl"))
    return stats


# -- the whole pipeline, in a child process ---------------------------------------------------------------
def child_run(input_dir: str, output: str, engine: str) -> dict:
    import mdfs

    t0 = time.perf_counter()
    s = mdfs.run(str(RECIPE), input=input_dir, output=output, engine=engine, progress=False, report=False)
    return {"wall_seconds": round(time.perf_counter() - t0, 2), "docs_in": s.docs_in, "docs_out": s.docs_out,
            "peak_rss_mb": peak_rss_mb()}


def run_pipeline(corpus: Path, output: Path, engine: str, stats: dict) -> dict:
    shutil.rmtree(output, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-m", "tools.bench", "--child-run", str(corpus), str(output),
                           engine], capture_output=True, text=True, cwd=ROOT, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise RuntimeError(f"pipeline run failed:\n{proc.stderr[-4000:]}")
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    per_char = stats["text_bytes"] / max(1, stats["text_chars"])
    text_mb = stats["text_bytes"] / 1e6
    stages = {}
    for name, st in manifest["stages"].items():
        mb = st.get("chars_in", 0) * per_char / 1e6
        sec, cpu_s = st.get("seconds", 0.0), st.get("cpu_seconds", 0.0)
        stages[name] = {"docs_in": st.get("docs_in"), "docs_out": st.get("docs_out"), "mb_in": round(mb, 1),
                        "seconds": round(sec, 2), "mb_per_s_per_core": round(mb / sec, 2) if sec else None,
                        "cpu_seconds": round(cpu_s, 2),
                        "mb_per_cpu_second": round(mb / cpu_s, 2) if cpu_s else None}
    cores = 1 if engine == "serial" else os.cpu_count()
    run |= {"engine": engine, "cpu_seconds": round(cpu, 2),
            # Ray workers are not this process's children: their CPU is not in cpu_seconds
            "cpu_seconds_complete": engine == "serial",
            "input_file_mb": round(stats["file_bytes"] / 1e6, 1), "text_mb": round(text_mb, 1),
            "mb_per_s_per_core": round(text_mb / run["wall_seconds"] / cores, 2),
            "mb_per_cpu_second": round(text_mb / cpu, 2) if cpu else None,
            "us_per_doc": round(run["wall_seconds"] / max(1, run["docs_in"]) * 1e6, 1),
            "output_disk_mb": round(sum(p.stat().st_size for p in output.rglob("*") if p.is_file()) / 1e6, 1),
            "conservation_ok": manifest["conservation"]["ok"],
            "rejected": manifest["conservation"]["rejected"], "stages": stages}
    return run


# -- the component benchmarks ------------------------------------------------------------------------------
def components(names: list[str], compare_docs: int, workdir: Path) -> dict:
    out: dict = {}
    if "dedup" in names:
        from tools.bench import dedup

        f = workdir / "dedup.json"
        dedup.main(["--sizes", str(compare_docs), "--compare", str(compare_docs), "--workdir",
                    str(workdir / "dedup"), "--json", str(f)])
        r = json.loads(f.read_text(encoding="utf-8"))
        run = r["sizes"][str(compare_docs)]
        out["dedup"] = {"docs": compare_docs, "signatures_mb_per_s": r["signatures_mb_per_s"],
                        "mdfs_seconds": run["seconds"], "datasketch_seconds": run["datasketch"]["seconds"],
                        "whole_dedup_ratio": run["datasketch"]["speed_ratio"],
                        "mdfs_recall_j_ge_0.8": run["accuracy"]["recall_j_ge_0.8"],
                        "datasketch_recall_j_ge_0.8": run["datasketch"]["accuracy"]["recall_j_ge_0.8"],
                        # not their peak RSS: dedup.py reads ru_maxrss, which includes this parent's peak
                        }
    if "coarse" in names:
        from tools.bench import coarse

        f = workdir / "coarse.json"
        coarse.main(["--repeat", "1", "--json", str(f)])
        a = json.loads(f.read_text(encoding="utf-8"))["sets"]["all"]
        out["coarse"] = {"mb": round(a["mb"], 2), "mdfs_mb_per_s": round(a["mdfs_mb_s"], 2),
                         "datatrove_mb_per_s": round(a["datatrove_mb_s"], 2) if "datatrove_mb_s" in a
                         else None,
                         "ratio": round(a["ratio"], 1) if "ratio" in a else None}
    return out


# -- report ---------------------------------------------------------------------------------------------
def markdown(r: dict) -> str:
    p, c = r["pipeline"], r["corpus"]
    lines = [(f"Corpus: {c['docs']:,} documents ({c['junk']:,} junk, {c['injected_copies']:,} "
              f"injected copies), "
              f"{p['text_mb']} MB of text, {p['input_file_mb']} MB of JSONL. Engine `{p['engine']}`, "
              f"{r['machine']['cpus']} cores, load average "
              f"{r['machine']['load_avg_at_start'][0]:.1f} at start."), "",
             ("| whole pipeline | documents | kept | wall s | CPU s | MB/s per core | MB per "
              "CPU-s | µs/doc | "
              "peak RSS MB | output MB | conservation |"),
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
             (f"| default recipe | {p['docs_in']:,} | {p['docs_out']:,} | {p['wall_seconds']} | "
              f"{p['cpu_seconds']} | "
              f"{p['mb_per_s_per_core']} | {p['mb_per_cpu_second']} | {p['us_per_doc']} | "
              f"{p['peak_rss_mb']} | "
              f"{p['output_disk_mb']} | {'OK' if p['conservation_ok'] else 'FAILED'} |"), "",
             "| stage | docs in | docs out | MB in | stage s | MB/s per core | CPU s | MB per CPU-s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, st in p["stages"].items():
        lines.append(f"| {name} | {st['docs_in']:,} | {st['docs_out']:,} | {st['mb_in']} | {st['seconds']} | "
                     f"{st['mb_per_s_per_core'] or '–'} | {st.get('cpu_seconds', '–')} | "
                     f"{st.get('mb_per_cpu_second') or '–'} |")
    if "peers" in r:
        lines += [""] + peers.markdown(p, r["peers"], p["text_mb"], p["docs_in"])
    comp = r.get("components", {})
    if comp:
        lines += ["", "| component | mdfs | alternative | ratio |", "|---|---:|---:|---:|"]
    if "dedup" in comp:
        d = comp["dedup"]
        s = d["signatures_mb_per_s"]
        lines.append(f"| MinHash signatures, MB/s per core | {s['mdfs_fast']} | {s['datasketch']} "
                     f"(datasketch) | {s['ratio_fast']}× |")
        lines.append(f"| whole near-dup dedup, {d['docs']:,} docs, s | {d['mdfs_seconds']} | "
                     f"{d['datasketch_seconds']} (datasketch MinHashLSH) | {d['whole_dedup_ratio']}× |")
        lines.append(f"| recall on pairs with J ≥ 0.8 | {d['mdfs_recall_j_ge_0.8']:.2%} | "
                     f"{d['datasketch_recall_j_ge_0.8']:.2%} | |")
    if "coarse" in comp:
        k = comp["coarse"]
        alt = f"{k['datatrove_mb_per_s']} (datatrove Gopher+C4)" if k["datatrove_mb_per_s"] \
            else "– (datatrove absent)"
        lines.append(f"| heuristic filters, MB/s per core | {k['mdfs_mb_per_s']} | {alt} | "
                     f"{str(k['ratio']) + '×' if k['ratio'] else '–'} |")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "mdfs-bench")
    ap.add_argument("--json", type=Path, default=ROOT / "out" / "bench" / "bench.json")
    ap.add_argument("--md", type=Path, default=None, help="also write the Markdown table here")
    ap.add_argument("--engine", choices=["serial", "ray"], default="serial")
    ap.add_argument("--components", nargs="+", default=["dedup", "coarse"],
                    choices=["dedup", "coarse", "none"])
    ap.add_argument("--compare-docs", type=int, default=20_000, help="corpus size of the dedup comparison")
    ap.add_argument("--peers", default="datatrove,data-juicer",
                    help="comma-separated peers to run on the same corpus (datatrove, data-juicer), or none")
    ap.add_argument("--peer-venvs", type=Path, default=peers.DEFAULT_CACHE,
                    help="where the peers' venvs are made on first use and reused")
    ap.add_argument("--peer-timeout", type=float, default=None, help="seconds a peer's run may take")
    ap.add_argument("--keep", action="store_true", help="keep the corpus and the output")
    ap.add_argument("--child-run", nargs=3, help=argparse.SUPPRESS)
    return ap


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    peer_list = peers.parse_peers(args.peers)
    if args.child_run:
        print(json.dumps(child_run(*args.child_run)))
        return

    corpus, output = args.out / f"corpus-{args.docs}", args.out / f"run-{args.docs}"
    result: dict = {"command": "python -m tools.bench " + " ".join(sys.argv[1:] if argv is None else argv),
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "load_avg_at_start": os.getloadavg()}}
    t0 = time.perf_counter()
    shutil.rmtree(corpus, ignore_errors=True)
    stats = write_corpus(corpus, args.docs)
    stats["generate_seconds"] = round(time.perf_counter() - t0, 1)
    result["corpus"] = stats
    print(f"corpus: {stats['docs']:,} documents, {stats['file_bytes'] / 1e6:.1f} MB "
          f"({stats['generate_seconds']} s)",
          flush=True)
    result["pipeline"] = run_pipeline(corpus, output, args.engine, stats)
    print(f"pipeline: {result['pipeline']['wall_seconds']} s, "
          f"{result['pipeline']['mb_per_s_per_core']} MB/s per core",
          flush=True)
    if peer_list:
        result["peers"] = peers.compare(peer_list, corpus, args.out / "peers", result["pipeline"]["text_mb"],
                                        args.peer_venvs, args.peer_timeout)
        result["peer_ratios"] = peers.ratios(result["pipeline"], result["peers"])
    if not args.keep:
        shutil.rmtree(args.out / "peers", ignore_errors=True)
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.rmtree(output, ignore_errors=True)
    names = [n for n in args.components if n != "none"]
    if names:
        result["components"] = components(names, min(args.compare_docs, max(args.docs, 1000)), args.out)
    result["machine"]["load_avg_at_end"] = os.getloadavg()
    text = markdown(result)
    print("\n" + text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    if args.md:
        args.md.parent.mkdir(parents=True, exist_ok=True)
        args.md.write_text(text + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}" + (f" and {args.md}" if args.md else ""))


if __name__ == "__main__":
    main()
