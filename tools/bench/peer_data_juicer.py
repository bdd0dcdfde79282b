"""Runs Data-Juicer's Chinese recipe (tools/bench/peer_settings/data-juicer.yaml) on a folder of JSONL files.

Executed by `tools.bench.peers` with the Python of Data-Juicer's own venv, never imported by mdfs:
    python peer_data_juicer.py SETTINGS INPUT_DIR WORK_DIR
Writes WORK_DIR/result.json: documents in and kept, wall seconds of the processing and of start-up (a file,
not stdout: Data-Juicer's logger takes over stdout).
"""

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # nothing may come from a hub at run time
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def refuse_installs_at_run_time() -> None:
    """Data-Juicer pip-installs a missing optional module the first time it is touched (LazyLoader);
    here that must fail as a plain ImportError: no downloads at run time, and an install would be timed."""
    from data_juicer.utils.lazy_loader import LazyLoader

    def refuse(cls, package_spec, pip_args=None):
        raise ImportError(f"the bench does not install {package_spec} at run time")

    LazyLoader._install_package = classmethod(refuse)


def count_lines(paths) -> int:
    return sum(sum(1 for line in open(p, encoding="utf-8") if line.strip()) for p in paths)


def main(settings_path: str, input_dir: str, work_dir: str) -> None:
    import yaml

    started = time.perf_counter()
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    inputs = sorted(Path(input_dir).glob("*.jsonl"))
    cfg = dict(yaml.safe_load(Path(settings_path).read_text(encoding="utf-8"))["dj_config"])
    cfg |= {"dataset_path": str(input_dir), "export_path": str(work / "kept.jsonl"),
            "work_dir": str(work), "use_cache": False}
    (work / "recipe.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")

    refuse_installs_at_run_time()
    from data_juicer.config import init_configs
    from data_juicer.core import DefaultExecutor

    t0 = time.perf_counter()
    DefaultExecutor(init_configs(["--config", str(work / "recipe.yaml")])).run()
    wall = time.perf_counter() - t0
    kept = count_lines([work / "kept.jsonl"])
    result = {"docs_in": count_lines(inputs), "docs_kept": kept, "process_seconds": round(wall, 2),
              "startup_seconds": round(t0 - started, 2)}
    (work / "result.json").write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:4])
