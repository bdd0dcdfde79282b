"""What a run on a multi-node Ray cluster needs that a single machine does not.

- Storage every node can reach. A local path is only on the driver's disk unless it is a shared mount
  (NFS, Lustre, …): with workers on other nodes, half the shards would land on other disks and the run
  would fail after its first pass. So on a cluster of several nodes a local input or output path is
  refused before any work, unless the config says the storage is shared (`engine.shared_storage: true`);
  then every worker checks that it sees the driver's files.
- Credentials on every node. Ray starts workers from each node's raylet, not from the driver, so the
  driver's object-store settings (AWS_* variables) do not reach them. mdfs forwards them through Ray's
  runtime environment at `ray.init`; they never enter the config, so never the manifest or the logs.
"""

from __future__ import annotations

import os
import re

from mdfs import storage
from mdfs.errors import EngineError

# Values, not references: AWS_PROFILE, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name files on the
# driver's disk, and forwarding them would override a worker node's own (instance-role) credentials.
FORWARDED_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                 "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_REGION")
SECRET = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|_KEY(_ID)?$", re.IGNORECASE)


def runtime_env(configured: dict) -> dict:
    """The config's runtime_env plus the driver's object-store variables (the config's win)."""
    forwarded = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
    if not forwarded:
        return configured
    env = dict(configured)
    env["env_vars"] = {**forwarded, **configured.get("env_vars", {})}
    return env


def redact(config: dict) -> dict:
    """A config dump with secret-looking runtime_env variables masked (for the manifest)."""
    env_vars = config.get("engine", {}).get("runtime_env", {}).get("env_vars")
    if env_vars:
        config["engine"]["runtime_env"]["env_vars"] = {k: "***" if SECRET.search(k) else v
                                                       for k, v in env_vars.items()}
    return config


def cpu_nodes(ray) -> list[str]:
    """Addresses of the live nodes that can run workers."""
    return sorted({n["NodeManagerAddress"] + "/" + n["NodeID"][:8] for n in ray.nodes()
                   if n.get("Alive") and n.get("Resources", {}).get("CPU")})


def local_paths(input_paths: list[str], root: str) -> list[str]:
    return [p for p in [root, *input_paths] if not storage.is_uri(p)]


def refuse_local_paths(paths: list[str], nodes: list[str]) -> None:
    raise EngineError(
        f"the Ray cluster has {len(nodes)} nodes, but {', '.join(paths[:3])} "
        f"{'is a local path' if len(paths) == 1 else 'are local paths'}: workers on other nodes "
        "would not see them. Use object storage (s3://…) for input and output, or, if these paths are on a "
        "file system mounted on every node (NFS, Lustre, …), set engine.shared_storage: true (mdfs then "
        "checks every node)")


def local_inputs(input_paths: list[str]) -> list[str]:
    """What a worker must see of the local inputs: each path, or the folder a glob reads below."""
    from mdfs.inputs import is_glob, glob_root

    return [storage.local_path(glob_root(p) if is_glob(p) else p) for p in input_paths
            if not storage.is_uri(p)]


def probe_path(root: str) -> str:
    return storage.join(root, "_work", f"probe-{os.getpid()}.txt")


def missing_on_worker(paths: list[str]) -> dict:
    """Run on a worker: which of the driver's paths this node cannot see."""
    import socket

    return {"node": socket.gethostname(), "missing": [p for p in paths if not os.path.exists(p)]}
