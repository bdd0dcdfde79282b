"""Find stages and hooks by name. Built-ins are one plain dictionary; anything else is an import path."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

from pydantic import ValidationError

from mdfs.config import StageSpec, validation_message
from mdfs.errors import ConfigError
from mdfs.stage import GlobalStage, Stage

BUILTIN_STAGES = {
    "collection": "mdfs.stages.collection:Collection",
    "coarse": "mdfs.stages.coarse:CoarseFilter",
    "quality": "mdfs.stages.quality:QualityFilter",
    "dedup": "mdfs.stages.dedup:Dedup",
    "boilerplate": "mdfs.stages.boilerplate:Boilerplate",
    "fine": "mdfs.stages.fine:FineFilter",
}


def builtin_module(module: str) -> str:
    """`stages.…` names a built-in module by its name before the stages moved under `mdfs` (older recipes
    and hooks): it means `mdfs.stages.…` when that exists, so it never imports a second copy of the stages
    from a checkout nor needs a top-level `stages` package."""
    if module != "stages" and not module.startswith("stages."):
        return module
    try:
        return "mdfs." + module if importlib.util.find_spec("mdfs." + module) else module
    except ImportError:  # a parent of the name is a module, not a package
        return module


def load_object(path: str, what: str = "object"):
    """Import `package.module:attribute` (or `package.module.attribute`)."""
    module, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    if not module or not attr:
        raise ConfigError(f"{what} {path!r}: expected 'package.module:Name'")
    module = builtin_module(module)
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as e:
        raise ConfigError(f"{what} {path!r}: cannot import {module}: {e}") from None
    except AttributeError:
        raise ConfigError(f"{what} {path!r}: {module} has no {attr}") from None


def stage_class(spec: StageSpec, index: int) -> type:
    target = BUILTIN_STAGES.get(spec.target, spec.target)
    if ":" not in target and "." not in target:
        raise ConfigError(f"stages[{index}].uses: unknown stage {spec.target!r}; built-ins are "
                          f"{sorted(BUILTIN_STAGES)} or give 'package.module:Class'")
    cls = load_object(target, f"stages[{index}].uses")
    if not (isinstance(cls, type) and issubclass(cls, Stage | GlobalStage)):
        raise ConfigError(f"stages[{index}].uses: {target} is not an mdfs Stage or GlobalStage")
    return cls


def build_stage(spec: StageSpec, index: int) -> Stage | GlobalStage:
    """Construct (not set up) a stage, validating its parameters with their key path."""
    cls = stage_class(spec, index)
    try:
        params = cls.Params.model_validate(spec.with_)
    except ValidationError as e:
        problems = validation_message(e, f"stages[{index}].with")
        raise ConfigError("invalid stage parameters\n" + problems) from None
    return cls(spec.name, params)


def load_hook(path: str, where: str) -> Callable:
    fn = load_object(path, f"hook at {where}")
    if not callable(fn):
        raise ConfigError(f"hook at {where}: {path} is not callable")
    return fn
