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
from dataclasses import dataclass
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


@dataclass
class Cluster:
    """A running test cluster: its address, the environment its nodes were started with, and one temp dir
    per node (head first), where each node keeps its sockets and logs."""

    address: str
    env: dict
    node_dirs: list[str]

    def __iter__(self):  # `as (address, env)` as before
        return iter((self.address, self.env))

    def nodes_that_ran(self, actor_class: str) -> list[int]:
        """Indices of the nodes where a worker process hosted an actor of `actor_class`: Ray's worker on a
        node writes `:actor_name:<class>` into its log under that node's temp dir when the actor starts."""
        tag = f":actor_name:{actor_class}".encode()
        return [i for i, d in enumerate(self.node_dirs)
                if any(tag in p.read_bytes() for p in Path(d).glob("session_*/logs/worker-*"))]


@contextlib.contextmanager
def ray_cluster(nodes: int = 1, cpus: int = 2, env: dict | None = None):
    """Yield a Cluster: a head node plus `nodes - 1` worker nodes on this machine, each with a temp dir of
    its own, with Ray's token authentication on, as `ray start` sets it up in Ray 2.60 (the README's
    cluster recipe)."""
    env = {**(env if env is not None else os.environ), "RAY_AUTH_MODE": "token"}
    port = free_port()
    # short: Ray's socket paths live under them
    node_dirs = [tempfile.mkdtemp(prefix=f"mdfs-ray{i}-") for i in range(nodes)]
    host = socket.gethostbyname(socket.gethostname())
    common = [f"--num-cpus={cpus}", "--disable-usage-stats"]
    try:
        subprocess.run([ray_binary(), "start", "--head", f"--port={port}", "--include-dashboard=false",
                        f"--temp-dir={node_dirs[0]}", *common], check=True, capture_output=True, env=env,
                       timeout=120)
        for node_dir in node_dirs[1:]:
            subprocess.run([ray_binary(), "start", f"--address={host}:{port}", f"--temp-dir={node_dir}",
                            *common], check=True, capture_output=True, env=env, timeout=120)
        yield Cluster(f"{host}:{port}", env, node_dirs)
    finally:
        for node_dir in reversed(node_dirs):  # worker nodes first, the head last
            stop_processes_of(node_dir)
        assert not any(pids_of(d) for d in node_dirs)
