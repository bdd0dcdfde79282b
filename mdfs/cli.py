"""The `mdfs` command line. Errors of mdfs's own types are printed without a traceback."""

from __future__ import annotations

import argparse
import logging
import sys

from mdfs.errors import MdfsError


def _parser() -> argparse.ArgumentParser:
    levels = ["DEBUG", "INFO", "WARNING", "ERROR"]
    common = argparse.ArgumentParser(add_help=False)  # --log-level also after the subcommand
    common.add_argument("--log-level", default=argparse.SUPPRESS, choices=levels)
    p = argparse.ArgumentParser(prog="mdfs", description="Clean Chinese web dumps into pretraining corpora.")
    p.add_argument("--log-level", default="INFO", choices=levels)
    sub = p.add_subparsers(dest="command", required=True)
    from mdfs.quality.commands import add_quality_parser

    for add in (_add_run, _add_report, _add_stats, _add_eval, _add_stages, _add_export, _add_validate,
                add_quality_parser):
        add(sub, [common])
    return p


def _add_run(sub, parents: list) -> None:
    """mdfs run: the pipeline."""
    r = sub.add_parser("run", help="run a pipeline", parents=parents)
    r.add_argument("config", nargs="?", help="YAML recipe (default: configs/zh_web.yaml)")
    r.add_argument("--input", "-i", action="append",
                   help="file, folder or glob; local or s3://… (repeatable)")
    r.add_argument("--output", "-o", help="run directory, local or s3://…")
    r.add_argument("--engine", choices=["ray", "serial"], help="ray (default) or serial, in-process")
    r.add_argument("--ray-address", help="join a running Ray cluster (e.g. 10.0.0.1:6379 or 'auto')")
    r.add_argument("--workers", type=int, help="number of worker actors (default: all CPUs)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. stages.coarse.min_chars=200")
    r.add_argument("--force", action="store_true",
                   help="replace a previous run made with a different config or from other inputs")
    r.add_argument("--update", action="store_true",
                   help="inputs changed since the previous run: redo only the shards they touch "
                        "(and what follows)")
    r.add_argument("--limit", type=int, metavar="N",
                   help="a quick look: read only about N documents, from shards spread over the input")
    r.add_argument("--no-progress", action="store_true", help="plain log lines instead of live progress bars")
    r.add_argument("--no-report", action="store_true", help="do not write report/ at the end (output.report)")


def _add_report(sub, parents: list) -> None:
    """mdfs report: report/ of a finished run."""
    rp = sub.add_parser("report", help="write report/ (HTML, Markdown, JSON) for a finished run",
                        parents=parents)
    rp.add_argument("run_dir", help="a run directory, local or s3://…")
    rp.add_argument("--samples", type=int, default=5, help="rejected documents shown per reason")


def _add_stats(sub, parents: list) -> None:
    """mdfs stats: dataset statistics of any corpus."""
    st = sub.add_parser("stats", help="dataset statistics of any JSONL/Parquet/text corpus", parents=parents)
    st.add_argument("paths", nargs="+", help="files, folders or globs, local or s3://…")
    st.add_argument("--engine", choices=["ray", "serial"], default="ray",
                    help="ray (default, embedded) or serial")
    st.add_argument("--ray-address", help="join a running Ray cluster")
    st.add_argument("--workers", type=int, help="CPUs of the embedded Ray instance (default: all)")
    st.add_argument("--text-field", default="text")
    st.add_argument("--json", metavar="FILE", help="also write the statistics as JSON")


def _add_eval(sub, parents: list) -> None:
    """mdfs eval: a finished run against labels or gold main text."""
    e = sub.add_parser("eval", help="score a finished run against labelled documents or gold main text",
                       parents=parents)
    e.add_argument("run_dir", help="a run directory, local or s3://…")
    e.add_argument("--labels", help="JSONL: id, label (keep|drop), category[, split]")
    e.add_argument("--gold",
                   help="JSONL: id, type, split, gold path of the page's main text (mdfs.goldtext); "
                        "scores the kept text's characters, e.g. configs/eval/zh_maintext.jsonl")
    e.add_argument("--shared", help="root the gold paths are under (default: ../shared/corpora or "
                                    "$MDFS_SHARED/corpora)")
    e.add_argument("--split", help="only labels of this split (e.g. test: the held-out side)")
    e.add_argument("--json", metavar="FILE", help="also write the full result as JSON")
    e.add_argument("--show", type=int, default=50, help="wrongly dropped documents listed")


def _add_stages(sub, parents: list) -> None:
    """mdfs stages: the built-in stages and their parameters."""
    sg = sub.add_parser("stages", help="list the built-in stages and their parameters", parents=parents)
    sg.add_argument("names", nargs="*", help="only these stages (default: all); with names, every parameter")
    sg.add_argument("--params", action="store_true", help="list every parameter of every stage")
    sg.add_argument("--json", action="store_true", help="print JSON instead of text")


def _add_export(sub, parents: list) -> None:
    """mdfs export: training-ready files."""
    x = sub.add_parser("export", help="write a run's corpus as training-ready files of a target size",
                       parents=parents)
    x.add_argument("run_dir", help="a run directory (or a folder of Parquet parts), local or s3://…")
    x.add_argument("--output", "-o", required=True, help="a new or empty folder")
    x.add_argument("--format", choices=["parquet", "jsonl", "jsonl.zst"], default="parquet")
    x.add_argument("--columns", help="comma-separated columns to keep (default: all), e.g. id,text")
    x.add_argument("--target-mb", type=float, default=512.0, help="size of each output file (default 512)")
    x.add_argument("--shuffle-seed", type=int, help="shuffle rows deterministically with this seed")


def _add_validate(sub, parents: list) -> None:
    """mdfs validate: check a config, print the plan."""
    v = sub.add_parser("validate", help="check a config and print the resolved plan", parents=parents)
    v.add_argument("config", nargs="?")
    v.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _importable_from_cwd()
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    try:
        if args.command == "validate":
            from mdfs.config import load_config
            from mdfs.plan import compile_plan, describe

            print(describe(compile_plan(load_config(args.config, args.set))))
            print("config OK")
            return 0
        if args.command == "run":
            return _run(args)
        if args.command == "report":
            from mdfs.report import write_report

            print(f"report: {write_report(args.run_dir, samples=args.samples)}")
            return 0
        if args.command == "export":
            from mdfs.exporter import export

            m = export(args.run_dir, args.output, fmt=args.format, target_mb=args.target_mb,
                       columns=args.columns.split(",") if args.columns else None,
                       shuffle_seed=args.shuffle_seed)
            print(f"exported {m['rows']} rows into {len(m['files'])} files under {args.output} "
                  f"({sum(f['bytes'] for f in m['files']) / 1e6:.1f} MB; _export.json lists them)")
            return 0
        if args.command == "stages":
            return _stages(args)
        if args.command == "stats":
            return _stats(args)
        if args.command == "eval":
            return _eval(args)
        if args.command == "quality":
            from mdfs.quality.commands import run_quality

            return run_quality(args)
    except MdfsError as e:
        print(f"mdfs: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        # storage: an unreachable endpoint, refused credentials, a missing bucket, a full disk
        from mdfs.storage import explain

        print(f"mdfs: error: {explain(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mdfs: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 1


def _importable_from_cwd() -> None:
    """Custom stages and hooks (`uses: my_filters:NoAds`) import from the current folder, as with
    `python -m`: the `mdfs` script alone does not put it on the path; Ray workers started here inherit it."""
    import os

    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if cwd not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([cwd, *filter(None, paths)])


def _run(args) -> int:
    from mdfs.conservation import format_report
    from mdfs.pipeline import run

    overrides = args.set + ([f"input.limit={args.limit}"] if args.limit else [])
    summary = run(args.config, args.input, args.output, overrides=overrides, force=args.force,
                  update=args.update, engine=args.engine, workers=args.workers, address=args.ray_address,
                  progress=False if args.no_progress else None, report=False if args.no_report else None)
    from mdfs import storage

    print(format_report(summary.conservation))
    print(f"done in {summary.seconds:.1f}s ({summary.shards_run} shard tasks run, "
          f"{summary.shards_skipped} resumed from an earlier run)")
    print(f"  corpus:   {storage.join(summary.output, 'data')}/")
    print(f"  rejects:  {storage.join(summary.output, 'rejects')}/")
    print(f"  stats:    {storage.join(summary.output, 'stats')}/")
    print(f"  manifest: {storage.join(summary.output, 'manifest.json')} (conservation check included)")
    if summary.report:
        print(f"  report:   {summary.report}")
    if summary.export:
        e = summary.export
        print(f"  export:   {len(e['files'])} {e['format']} files, {e['rows']} rows "
              f"({sum(f['bytes'] for f in e['files']) / 1e6:.1f} MB)")
    return 0


def _stages(args) -> int:
    import json

    from mdfs.errors import ConfigError
    from mdfs.registry import BUILTIN_STAGES
    from mdfs.stagedocs import format_stages, stage_info

    unknown = [n for n in args.names if n not in BUILTIN_STAGES]
    if unknown:
        raise ConfigError(f"unknown stage {', '.join(unknown)}; built-ins are {', '.join(BUILTIN_STAGES)}")
    infos = [stage_info(n) for n in (args.names or BUILTIN_STAGES)]
    print(json.dumps(infos, ensure_ascii=False, indent=1) if args.json
          else format_stages(infos, verbose=args.params or bool(args.names)))
    return 0


def _eval(args) -> int:
    import json
    from pathlib import Path

    from mdfs import storage
    from mdfs.evaluate import evaluate, format_eval
    from mdfs.evaluate_maintext import evaluate_maintext, format_maintext

    if not args.labels and not args.gold:
        raise MdfsError("eval needs --labels (page keep/drop labels) or --gold (main text), or both")
    out = {}
    if args.labels:
        out["labels"] = evaluate(args.run_dir, args.labels, args.split)
        print(format_eval(out["labels"], args.show), end="")
    if args.gold:
        if args.labels:
            print()
        out["gold"] = evaluate_maintext(args.run_dir, args.gold, args.split,
                                        Path(args.shared) if args.shared else None)
        print(format_maintext(out["gold"]), end="")
    if args.json:
        res = out if len(out) == 2 else next(iter(out.values()))  # one evaluation: its result as before
        storage.write_bytes(args.json, json.dumps(res, ensure_ascii=False, indent=1).encode())
    return 0


def _stats(args) -> int:
    import json

    from mdfs import storage
    from mdfs.datastats import compute_stats, format_stats

    stats = compute_stats(args.paths, engine=args.engine, text_field=args.text_field,
                          address=args.ray_address, workers=args.workers)
    print(format_stats(stats), end="")
    if args.json:
        storage.write_bytes(args.json, json.dumps(stats, ensure_ascii=False, indent=1).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
