"""Run configuration: YAML in, validated pydantic models out, with key paths in every error.

The config hash (everything that changes the output; not the engine, not the output location) is what
decides whether an existing run directory may be resumed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from mdfs.bundled import bundled
from mdfs.errors import ConfigError

DEFAULT_CONFIG = bundled("mdfs.configs", "zh_web.yaml")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputConfig(Strict):
    paths: list[str] = Field(default_factory=list)
    format: Literal["auto", "jsonl", "parquet", "txt", "warc", "html"] = "auto"
    text_field: str = "text"
    id_field: str | None = "id"
    url_field: str | None = "url"
    shard_size_mb: float = Field(64.0, gt=0, description="most input bytes per shard (= per output part)")
    min_shards: int = Field(16, ge=1, description="cut a small input finer, down to min_shard_mb per shard, "
                            "until it makes this many shards, so that one big file keeps every worker busy")
    min_shard_mb: float = Field(2.0, gt=0, description="fewest input bytes per shard when cutting finer "
                                "for min_shards (each shard costs a task and a few files)")
    max_doc_mb: float = Field(16.0, gt=0)
    metadata: Literal["keep", "drop"] | list[str] = Field(
        "keep", description="input fields not consumed by mdfs: keep all, drop all, or keep the ones listed")
    metadata_prefix: str = Field("", description="prefix of the columns that carry input fields")
    limit: int | None = Field(None, ge=1,
                              description="read only about this many documents, from shards spread "
                              "over the input (a quick look at a recipe: --limit)")


class ExportConfig(Strict):
    """The run's final step: the corpus again, as training-ready files (see `mdfs export`)."""
    path: str | None = Field(None, description="where to write; default <output>/export")
    format: Literal["parquet", "jsonl", "jsonl.zst"] = "parquet"
    columns: list[str] | None = Field(None, description="only these columns (default: all)")
    target_mb: float = Field(512.0, gt=0, description="about this many bytes per file")
    shuffle_seed: int | None = Field(None, description="a deterministic shuffle with this seed (default: "
                                     "corpus order)")


class OutputConfig(Strict):
    path: str | None = None
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"
    keep_rejected_text: bool = True
    keep_work: bool = False
    report: bool = True  # write report/ (HTML, Markdown, JSON) at the end of a run
    export: ExportConfig | None = Field(None, description="also write the corpus as files of a target size "
                                        "(compacted, optionally shuffled, Parquet or JSONL) as a final step")


class EngineConfig(Strict):
    kind: Literal["ray", "serial"] = "ray"
    address: str | None = None
    workers: int | None = Field(None, ge=1)
    runtime_env: dict[str, Any] = Field(default_factory=dict)
    shared_storage: bool = Field(False,
                                 description="local input/output paths are on a file system mounted on "
                                 "every node of the cluster (NFS, Lustre, …); checked on every worker")


class HooksConfig(Strict):
    before: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)
    on_end: list[str] = Field(default_factory=list)


class StageSpec(Strict):
    name: str
    uses: str | None = None  # built-in name or "package.module:Class"; defaults to name
    enabled: bool = True
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    hooks: HooksConfig = Field(default_factory=HooksConfig)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @property
    def target(self) -> str:
        return self.uses or self.name


class RunConfig(Strict):
    input: InputConfig = Field(default_factory=InputConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    stages: list[StageSpec] = Field(default_factory=list)
    _source: str = PrivateAttr("config")  # the file it was read from, for error messages

    def content_hash(self) -> str:
        """Hash of what determines the output: inputs, stage settings, output format."""
        data = self.model_dump(mode="json", by_alias=True)
        data.pop("engine")
        data["output"].pop("path")
        data["output"].pop("keep_work")
        data["output"].pop("report", None)  # the report does not change the corpus
        data["output"].pop("export", None)  # nor does an export of it (redone when the corpus changes)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def format_loc(loc: tuple) -> str:
    """('stages', 1, 'with', 'min_chars') -> 'stages[1].with.min_chars'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_message(err: ValidationError, prefix: str = "") -> str:
    lines = []
    for e in err.errors():
        path = format_loc(e["loc"])
        path = f"{prefix}.{path}" if prefix and path else (prefix or path)
        msg = e["msg"].replace("greater than or equal to", "≥").replace("less than or equal to", "≤")
        lines.append(f"{path}: {msg}")
    return "\n".join(lines)


def parse_override(text: str) -> tuple[list[str], Any]:
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key.path=value")
    key, raw = text.split("=", 1)
    return key.strip().split("."), yaml.safe_load(raw)


def apply_override(data: dict, keys: list[str], value: Any) -> None:
    """Set a dotted key. `stages.<name>.<param>` addresses a stage's `with` block by stage name."""
    if keys[0] == "stages" and len(keys) >= 3:
        for stage in data.get("stages", []):
            if stage.get("name") == keys[1]:
                if keys[2] in ("enabled", "uses", "hooks"):
                    target, rest = stage, keys[2:]
                else:
                    target, rest = stage.setdefault("with", {}), keys[2:]
                break
        else:
            raise ConfigError(f"--set {'.'.join(keys)}: no stage named {keys[1]!r}")
    else:
        target, rest = data, keys
    for k in rest[:-1]:
        target = target.setdefault(k, {})
        if not isinstance(target, dict):
            raise ConfigError(f"--set {'.'.join(keys)}: {k} is not a mapping")
    target[rest[-1]] = value


def read_yaml_mapping(path: str | Path, what: str = "config file") -> dict:
    """A YAML file whose top level is a mapping (empty file: {}), with ConfigErrors naming the file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> RunConfig:
    """Read a YAML recipe (the default Chinese web recipe if none), apply overrides, validate. A recipe
    without `stages` runs the default recipe's stages.

    Relative input paths in the file are resolved against the file's folder, so a recipe can
    ship with its data; paths given on the command line (`extra`) stay relative to the cwd.
    """
    path = Path(path) if path else DEFAULT_CONFIG
    data = read_yaml_mapping(path, "config file")
    if "stages" not in data:  # a recipe that names only input, output or engine runs the default stages
        data["stages"] = read_yaml_mapping(DEFAULT_CONFIG, "config file")["stages"]
    base = path.resolve().parent
    paths = (data.get("input") or {}).get("paths", [])
    if isinstance(paths, list) and paths:
        data["input"]["paths"] = [p if "://" in str(p) or Path(p).is_absolute() else str(base / p)
                                  for p in paths]
    for section, values in (extra or {}).items():
        data.setdefault(section, {}).update({k: v for k, v in values.items() if v is not None})
    for text in overrides or []:
        apply_override(data, *parse_override(text))
    return validate(data, source=str(path))


def validate(data: dict, source: str = "config") -> RunConfig:
    try:
        cfg = RunConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{source}: invalid configuration\n{validation_message(e)}") from None
    names = [s.name for s in cfg.stages]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ConfigError(f"{source}: stage names must be unique, repeated: {sorted(dupes)}")
    cfg._source = source
    return cfg
