"""Engines map tasks (mdfs.tasks) over workers (mdfs.worker). Nothing else in mdfs knows which one runs.

- `SerialEngine`: in this process, one task after another (debugging, unit tests).
- `RayEngine`: a pool of Ray actors, each holding one `Worker` (so models load once per actor).
  With no address it starts an embedded local Ray instance; with one, it joins that cluster.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator

from mdfs import breadcrumb, cluster, storage
from mdfs.errors import EngineError, MdfsError, StageError
from mdfs.layout import RunLayout
from mdfs.plan import Plan
from mdfs.worker import Worker

log = logging.getLogger(__name__)
MAX_RESTARTS = 3  # a worker that dies is restarted and its item retried this many times


class SerialEngine:
    name = "serial"

    def __init__(self, plan: Plan, root: str):
        self.worker = Worker(plan, root)
        self.workers = 1

    def map(self, tasks: list) -> Iterator[dict]:
        for task in tasks:
            yield self.worker.run(task)

    def close(self) -> None:
        pass


class RayEngine:
    name = "ray"

    def __init__(self, plan: Plan, root: str):
        cfg = plan.cfg
        self.started_here = start_ray(cfg.engine.address, cfg.engine.workers,
                                      cluster.runtime_env(cfg.engine.runtime_env))
        import ray

        self.ray = ray
        cpus = int(ray.cluster_resources().get("CPU", 1))
        nodes = cluster.cpu_nodes(ray)
        # workers on other nodes: several nodes, or one that is not the driver's (a head with 0 CPUs)
        here = ray.get_runtime_context().get_node_id()[:8]
        remote = len(nodes) > 1 or any(not n.endswith(here) for n in nodes)
        local = cluster.local_paths(cfg.input.paths, root)
        if remote and local and not cfg.engine.shared_storage:
            self.close()
            cluster.refuse_local_paths(local, nodes)
        self.workers = max(1, min(cfg.engine.workers or cpus, cpus))
        worker_cls = ray.remote(num_cpus=1, max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS,
                                scheduling_strategy="SPREAD")(_RayWorker)
        self.layout = RunLayout(root)
        self.actors = [worker_cls.remote(plan, root) for _ in range(self.workers)]
        if remote and local:
            self._check_shared(cfg.input.paths, root)
        log.info("ray: %d workers on a cluster of %d CPUs (%s)", self.workers, cpus,
                 cfg.engine.address or "embedded local instance")

    def map(self, tasks: list) -> Iterator[dict]:
        """Results in completion order; each actor has at most one task in flight."""
        ray = self.ray
        queue = list(reversed(tasks))
        running: dict = {}  # object ref -> (actor, task)
        idle = list(self.actors)
        while queue or running:
            while queue and idle:
                actor, task = idle.pop(), queue.pop()
                running[actor.run.remote(task)] = (actor, task)
            [ref], _ = ray.wait(list(running), num_returns=1)
            actor, task = running.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayTaskError as e:
                cause = e.cause if isinstance(getattr(e, "cause", None), Exception) else None
                if isinstance(cause, MdfsError):
                    raise cause from None
                raise StageError(f"worker failed on {task.describe()}: {e}") from None
            except ray.exceptions.RayActorError as e:
                raise EngineError(self._died(task, e)) from None
            idle.append(actor)
            yield result

    def _died(self, task, error: Exception) -> str:
        """One clear message for a worker that kept dying on the same task (beyond Ray's restarts)."""
        where = task.describe()
        if crumb := task.breadcrumb(self.layout):
            where += breadcrumb.describe(crumb)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (f"a worker process died on {where}, and Ray's restarts of that worker ({MAX_RESTARTS}) are "
                f"used up; the run stops here ({first}). "
                "Common causes: out of memory (check `dmesg` or Ray's logs), a crash in native code. "
                "Rerun the same command to resume once fixed.")

    def _check_shared(self, inputs: list[str], root: str) -> None:
        """engine.shared_storage: every worker must see the driver's local inputs and a file it writes in a
        local output folder."""
        probe = None if storage.is_uri(root) else cluster.probe_path(root)
        paths = ([probe] if probe else []) + cluster.local_inputs(inputs)
        if probe:
            storage.write_bytes(probe, b"mdfs")
        try:
            seen = self.ray.get([a.check_paths.remote(paths) for a in self.actors])
        finally:
            if probe:
                storage.delete_file(probe)
        blind = [s for s in seen if s["missing"]]
        if blind:
            self.close()
            raise EngineError(f"engine.shared_storage is set, but node {blind[0]['node']} does not see "
                              f"{', '.join(blind[0]['missing'][:3])}: mount the storage on every node or use s3://…")

    def close(self) -> None:
        for actor in getattr(self, "actors", []):
            self.ray.kill(actor)
        if self.started_here:
            self.ray.shutdown()


class _RayWorker:
    """Ray actor wrapper around one Worker; the plan arrives as its config and is rebuilt here once."""

    def __init__(self, plan: Plan, root: str):
        logging.basicConfig(level=logging.WARNING)
        self.worker = Worker(plan, root)

    def run(self, task) -> dict:
        return self.worker.run(task)

    def check_paths(self, paths: list[str]) -> dict:
        return cluster.missing_on_worker(paths)


def start_ray(address: str | None, workers: int | None, runtime_env: dict | None = None) -> bool:
    """Join the Ray cluster at `address`, or start an embedded local instance (no set-up step for the
    user). True if this call started Ray: the caller shuts it down."""
    if not address and "ray" not in sys.modules:
        # Ray's own default for a new local instance (token auth on), said explicitly so that Ray does not
        # print its banner on every run; Ray reads it when it is imported, hence before the import
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    import ray

    if ray.is_initialized():
        return False
    kwargs = {"include_dashboard": False, "log_to_driver": True, "configure_logging": False}
    if runtime_env:
        kwargs["runtime_env"] = runtime_env
    if address:
        _check_reachable(address)
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError) as e:
            raise EngineError(
                f"cannot join the Ray cluster at {address}: {str(e).splitlines()[0]}. "
                "Is `ray start --head` running there? If it uses token authentication, set "
                "RAY_AUTH_MODE=token and make its token available (~/.ray/auth_token).") from None
    else:
        # address="local" starts a new instance even if a `ray start` cluster runs on this machine
        os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        ray.init(address="local", num_cpus=workers or os.cpu_count(), **kwargs)
    return True


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast on a host:port nobody listens on (ray.init would retry for minutes)."""
    import socket

    if "://" in address or ":" not in address:  # 'auto', 'ray://…': let Ray resolve them
        return
    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except (OSError, ValueError) as e:
        raise EngineError(f"cannot join the Ray cluster at {address}: {e}. "
                          "Is `ray start --head` running there?")


def make_engine(plan: Plan, root: str):
    return (RayEngine if plan.cfg.engine.kind == "ray" else SerialEngine)(plan, root)
