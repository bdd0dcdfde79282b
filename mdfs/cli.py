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

    r = sub.add_parser("run", help="run a pipeline", parents=[common])
    r.add_argument("config", nargs="?", help="YAML recipe (default: configs/zh_web.yaml)")
    r.add_argument("--input", "-i", action="append", help="file, folder or glob; local or s3://… (repeatable)")
    r.add_argument("--output", "-o", help="run directory, local or s3://…")
    r.add_argument("--engine", choices=["ray", "serial"], help="ray (default) or serial, in-process")
    r.add_argument("--ray-address", help="join a running Ray cluster (e.g. 10.0.0.1:6379 or 'auto')")
    r.add_argument("--workers", type=int, help="number of worker actors (default: all CPUs)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. stages.coarse.min_chars=200")
    r.add_argument("--force", action="store_true", help="replace a previous run with a different config")
    r.add_argument("--no-progress", action="store_true", help="plain log lines instead of live progress bars")

    v = sub.add_parser("validate", help="check a config and print the resolved plan", parents=[common])
    v.add_argument("config", nargs="?")
    v.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    try:
        if args.command == "validate":
            from mdfs.config import load_config
            from mdfs.plan import describe

            print(describe(load_config(args.config, args.set)))
            print("config OK")
            return 0
        if args.command == "run":
            return _run(args)
    except MdfsError as e:
        print(f"mdfs: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mdfs: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 1


def _run(args) -> int:
    from mdfs.conservation import format_report
    from mdfs.pipeline import run

    summary = run(args.config, args.input, args.output, overrides=args.set, force=args.force,
                  engine=args.engine, workers=args.workers, address=args.ray_address,
                  progress=False if args.no_progress else None)
    import json

    from mdfs import storage
    report = json.loads(storage.read_bytes(storage.join(summary.output, "manifest.json")))["conservation"]
    print(format_report(report))
    print(f"done in {summary.seconds:.1f}s ({summary.shards_run} shard tasks run, {summary.shards_skipped} resumed "
          "from an earlier run)")
    print(f"  corpus:   {storage.join(summary.output, 'data')}/")
    print(f"  rejects:  {storage.join(summary.output, 'rejects')}/")
    print(f"  stats:    {storage.join(summary.output, 'stats')}/")
    print(f"  manifest: {storage.join(summary.output, 'manifest.json')} (conservation check included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
