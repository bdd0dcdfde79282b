"""What each global phase writes to shared storage, per document: the inputs of docs/scale.md.

    .venv/bin/mdfs run -i CORPUS -o OUT --engine serial --no-report --set output.keep_work=true
    .venv/bin/python -m tools.bench.shuffle OUT [--json F]

For every folder under OUT/_work (segment rewrites `seg<k>`, and each global stage's phase outputs such as
`dedup/bands`, `dedup/cc0`, `boilerplate/lines`): files, bytes on disk, Parquet rows, and bytes per document
that entered the stage (from the manifest). These files are what moves between tasks — every map task
writes them and the phase's items read them — so bytes per document × documents is a phase's shuffle.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow.parquet as pq


def folders(work: Path) -> list[Path]:
    """seg<k> and every stage/phase folder (one level under the stage)."""
    out = [p for p in sorted(work.glob("seg*")) if p.is_dir()]
    stages = [p for p in work.iterdir() if p.is_dir() and not p.name.startswith(("seg", "progress"))]
    for stage in sorted(stages):
        out += [p for p in sorted(stage.iterdir()) if p.is_dir()]
    return out


def measure(run: Path) -> dict:
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    stages = manifest["stages"]
    docs_read = stages["read"]["docs_in"]
    rows = {}
    for folder in folders(run / "_work"):
        files = [p for p in folder.rglob("*") if p.is_file()]
        parquet = [p for p in files if p.suffix == ".parquet"]
        stage = folder.parent.name if folder.parent.name in stages else None
        docs = stages[stage]["docs_in"] if stage else docs_read
        size = sum(p.stat().st_size for p in files)
        n_rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parquet)
        rows[str(folder.relative_to(run / "_work"))] = {
            "files": len(files), "bytes": size, "rows": n_rows, "docs": docs,
            "bytes_per_doc": round(size / docs, 1), "rows_per_doc": round(n_rows / docs, 3)}
    return {"run": str(run), "docs_read": docs_read, "text_chars": stages["read"].get("chars_in"),
            "folders": rows}


def markdown(m: dict) -> str:
    lines = ["| folder | files | MB | rows | docs in to the stage | bytes per doc | rows per doc |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in m["folders"].items():
        lines.append(f"| `{name}` | {r['files']:,} | {r['bytes'] / 1e6:.1f} | {r['rows']:,} | "
                     f"{r['docs']:,} | {r['bytes_per_doc']:,} | {r['rows_per_doc']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tools.bench.shuffle", description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path, help="output folder of a run made with output.keep_work=true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if not (args.run / "_work").is_dir():
        raise SystemExit(f"{args.run}/_work is missing: run with --set output.keep_work=true")
    m = measure(args.run)
    print(markdown(m))
    if args.json:
        args.json.write_text(json.dumps(m, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
