"""A real Ray cluster started with `ray start` for a test, and stopped by its own temp dir only
(`ray stop` would stop every Ray cluster on the machine, other users' jobs included)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pids_of(temp_dir: str) -> list[int]:
    """Live processes whose command line names `temp_dir` or that hold a file under it: Ray's dashboard and
    runtime-env agents rename themselves (`ray::DashboardAgent`), so only their open logs give them away."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and _uses(proc, temp_dir) and _alive(proc):
                found.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def _uses(proc: Path, temp_dir: str) -> bool:
    if temp_dir.encode() in (proc / "cmdline").read_bytes():
        return True
    for fd in (proc / "fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd).startswith(temp_dir + "/"):
                return True
    return False


def _alive(proc: Path) -> bool:
    """Not a zombie (killed, waiting for a parent that never reaps it)."""
    return (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def stop_processes_of(temp_dir: str) -> None:
    """Stop the Ray processes a test started, and only those: they name its temp dir or hold files in it."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        for pid in pids_of(temp_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.time() + wait
        while pids_of(temp_dir) and time.time() < deadline:
            time.sleep(0.2)
    shutil.rmtree(temp_dir, ignore_errors=True)


def ray_binary() -> str:
    return shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")


@contextlib.contextmanager
def ray_cluster(nodes: int = 1, cpus: int = 2, env: dict | None = None):
    """Yield (address, env) of a head node plus `nodes - 1` worker nodes on this machine, with Ray's token
    authentication on, as `ray start` sets it up in Ray 2.60 (the README's cluster recipe)."""
    env = {**(env if env is not None else os.environ), "RAY_AUTH_MODE": "token"}
    port = free_port()
    temp_dir = tempfile.mkdtemp(prefix="mdfs-ray-")  # short: Ray's socket paths live under it
    host = socket.gethostbyname(socket.gethostname())
    common = [f"--num-cpus={cpus}", "--disable-usage-stats"]
    try:
        subprocess.run([ray_binary(), "start", "--head", f"--port={port}", "--include-dashboard=false",
                        f"--temp-dir={temp_dir}", *common], check=True, capture_output=True, env=env,
                        timeout=120)
        for _ in range(nodes - 1):
            subprocess.run([ray_binary(), "start", f"--address={host}:{port}", *common],
                           check=True, capture_output=True, env=env, timeout=120)
        yield f"{host}:{port}", env
    finally:
        stop_processes_of(temp_dir)
        assert not pids_of(temp_dir)
